"""NPC cards through the server: ``gameai serve --npcs``, ``welcome.npcs``, a dialogue by card."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from gameai.client.async_client import ClientConfig, DialogueStream, GameAIClient
from gameai.server.config import ServerConfig
from gameai.testing.servers import ServerProcess, running_server, runtime_config_for

SHIPPED_CARDS = ("blacksmith", "scout", "healer", "rival")
ADA = {"name": "Ada", "role": "ferry keeper", "speech": "calm and measured",
       "facts": ["The ferry leaves at dawn.", "A crossing costs 2 coins."]}  # fmt: skip
HELLO = {"type": "hello", "protocol": 1, "game_id": "cards", "services": ["dialogue"]}


@pytest.fixture(scope="module")
def served(assets: Path) -> Iterator[ServerProcess]:
    """``gameai serve`` with the test dialogue model and the default (shipped) NPC cards."""
    args = ["--behaviour-model", "", "--agents-dir", "", "--device", "cpu", "--torch-threads", "1",
            "--dialogue-model", str(assets / "dialogue" / "model")]  # fmt: skip
    with ServerProcess(args) as server:
        yield server


async def _reply(stream: DialogueStream) -> tuple[str, str]:
    """The concatenated deltas and the done text of a reply (they must agree)."""
    async with asyncio.timeout(30):
        deltas = [delta.text async for delta in stream]
        done = await stream.done
    assert done.finish_reason in ("stop", "length") and done.tokens >= 1
    return "".join(deltas), done.text


async def test_a_card_id_alone_and_an_inline_card_then_its_npc_id_alone_get_replies(
    served: ServerProcess,
) -> None:
    client = await GameAIClient.connect(ClientConfig(url=served.url, game_id="cards", services=("dialogue",)))
    try:
        assert client.welcome is not None and client.welcome.npcs == SHIPPED_CARDS
        options: dict[str, Any] = {"max_new_tokens": 6, "seed": 1}
        shipped = await client.dialogue(
            "blacksmith", player_line="What's my score?", game_state={"score": 40, "health": 80}, **options
        )
        deltas, text = await _reply(shipped)
        assert deltas == text
        inline = await client.dialogue("ada", player_line="When do you leave?", npc=ADA, **options)
        deltas, text = await _reply(inline)
        assert deltas == text
        remembered = await client.dialogue("ada", player_line="And the price?", **options)  # no card sent
        deltas, text = await _reply(remembered)
        assert deltas == text
        assert client.errors == []
    finally:
        await client.close()


async def _ask(websocket: ClientConnection, request: dict[str, Any]) -> dict[str, Any]:
    """Send a request; its error, or its dialogue.done."""
    await websocket.send(json.dumps({"type": "dialogue.request", "max_new_tokens": 4, **request}))
    async with asyncio.timeout(30):
        while True:
            message = json.loads(await websocket.recv())
            assert message.get("id") == request["id"], message
            if message["type"] in ("error", "dialogue.done"):
                return message


async def test_a_bad_or_missing_card_is_a_typed_error_for_that_request_only(served: ServerProcess) -> None:
    other = await GameAIClient.connect(
        ClientConfig(url=served.url, game_id="bystander", services=("dialogue",))
    )
    websocket = await connect(served.url, compression=None)
    try:
        await websocket.send(json.dumps(HELLO))
        assert json.loads(await websocket.recv())["type"] == "welcome"
        refused: list[tuple[dict[str, Any], str]] = [
            ({"id": "long", "npc_id": "ada", "npc": {**ADA, "description": "x" * 1001}}, "out_of_range"),
            ({"id": "many", "npc_id": "ada", "npc": {**ADA, "facts": ["A fact."] * 65}}, "out_of_range"),
            ({"id": "shape", "npc_id": "ada", "npc": ["Ada"]}, "wrong_type"),
            ({"id": "nameless", "npc_id": "ada", "npc": {"role": "ferry keeper"}}, "missing_field"),
            ({"id": "nobody", "npc_id": "nobody"}, "missing_field"),  # no card anywhere
        ]
        for request, code in refused:
            error = await _ask(websocket, request)
            assert (error["type"], error["code"], error["fatal"]) == ("error", code, False), error
        assert "welcome.npcs" in error["message"]  # the last one says where cards come from
        done = await _ask(websocket, {"id": "fine", "npc_id": "healer", "player_line": "I am hurt."})
        assert done["type"] == "dialogue.done"  # the connection carries on
        await _reply(await other.dialogue("scout", player_line="Where are the coins?", max_new_tokens=4))
        assert other.errors == []  # the other client never saw those errors
    finally:
        await websocket.close()
        await other.close()


async def test_welcome_lists_the_cards_of_the_npcs_file(assets: Path, tmp_path: Path) -> None:
    cards = tmp_path / "cards.json"
    cards.write_text(json.dumps({"npcs": {"ada": ADA, "zed": {"name": "Zed"}}}))
    config = ServerConfig(port=0)
    for npcs, expected in ((str(cards), ("ada", "zed")), ("", ())):
        runtime = runtime_config_for(assets, behaviour_model="", agents_dir="", dialogue_model="", npcs=npcs)
        async with running_server(config, runtime) as server:
            client = await GameAIClient.connect(ClientConfig(url=server.url, game_id="g"))
            assert client.welcome is not None and client.welcome.npcs == expected
            await client.close()


def test_a_bad_npcs_file_stops_gameai_serve_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "npcs.toml"
    path.write_text('[npcs.ada]\nname = "Ada"\nfacts = ["' + "x" * 201 + '"]\n')
    command = [sys.executable, "-m", "gameai.cli", "serve", "--port", "0", "--npcs", str(path),
               "--behaviour-model", "", "--agents-dir", "", "--dialogue-model", ""]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert f"NPC cards {path}: out_of_range: npcs.ada.facts[0]: allows at most 200 characters" in lines[0]
    assert "Traceback" not in result.stderr and "serving on" not in result.stderr
