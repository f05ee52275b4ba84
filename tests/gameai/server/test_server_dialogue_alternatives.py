"""``dialogue.request`` with ``n`` alternatives through the real server, batched and one at a time."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.dialogue.types import DialogueContext, GenerationParams, TextDelta
from gameai.server.app import GameAIServer
from gameai.server.config import ServerConfig
from gameai.services.builtin import load_services
from gameai.testing.servers import running_server, runtime_config_for

HELLO = {"type": "hello", "protocol": 1, "game_id": "test", "services": ["dialogue"]}
REQUEST = {"type": "dialogue.request", "npc_id": "smith", "persona": "blacksmith", "player_line": "Hello!",
           "max_new_tokens": 24, "temperature": 1.0, "seed": 1234}  # fmt: skip


async def _raw(server: GameAIServer) -> ClientConnection:
    websocket = await connect(server.url, compression=None)
    await websocket.send(json.dumps(HELLO))
    assert json.loads(await websocket.recv())["type"] == "welcome"
    return websocket


async def _ask(websocket: ClientConnection, request_id: str, **changes: Any) -> list[dict[str, Any]]:
    """Send a request; every message about it until each of its alternatives is done (or an error)."""
    request = {**REQUEST, "id": request_id, **changes}
    await websocket.send(json.dumps(request))
    received: list[dict[str, Any]] = []
    async with asyncio.timeout(30):
        while sum(m["type"] == "dialogue.done" for m in received) < request.get("n", 1):
            message = json.loads(await websocket.recv())
            assert message.get("id") == request_id, message
            received.append(message)
            if message["type"] == "error":
                break
    return received


def _texts(received: list[dict[str, Any]]) -> dict[int, str]:
    """Each alternative's done text, after checking its deltas concatenate to it, in order."""
    texts = {}
    for done in (m for m in received if m["type"] == "dialogue.done"):
        alternative = done.get("alternative", 0)
        deltas = [
            m for m in received if m["type"] == "dialogue.delta" and m.get("alternative", 0) == alternative
        ]
        assert [d["index"] for d in deltas] == list(range(len(deltas)))
        assert "".join(d["text"] for d in deltas) == done["text"]
        assert done["finish_reason"] in ("stop", "length") and done["tokens"] <= 24
        texts[alternative] = done["text"]
    return texts


async def test_two_alternatives_with_a_seed_are_distinct_and_reproducible(assets: Path) -> None:
    replies: dict[int, list[list[dict[str, Any]]]] = {}
    for max_batch in (8, 1):  # batched, then one reply at a time
        async with running_server(
            ServerConfig(port=0), runtime_config_for(assets, dialogue_max_batch=max_batch)
        ) as server:
            replies[max_batch] = []
            for request_id, n in (("a", 2), ("b", 2), ("c", 1)):  # new sessions: the NPC remembers nothing
                websocket = await _raw(server)
                replies[max_batch].append(await _ask(websocket, request_id, n=n))
                await websocket.close()
    first, again, single = replies[8]
    texts = _texts(first)
    assert set(texts) == {0, 1}
    assert all(m["type"] != "error" and m.get("alternative") in (0, 1) for m in first)
    assert texts[0] != texts[1]  # different seeds for the two alternatives
    assert _texts(again) == texts  # same request, same seed, same session state: the same two replies
    assert all("alternative" not in m for m in single)  # n = 1 looks as it always did
    assert _texts(single) == {0: texts[0]}  # alternative 0 keeps the request's seed
    assert [_texts(r) for r in replies[1]] == [texts, texts, {0: texts[0]}]  # batching changes nothing


async def test_the_client_collects_alternatives_and_cancel_ends_them_all(assets: Path) -> None:
    async with running_server(ServerConfig(port=0), runtime_config_for(assets)) as server:
        client = await GameAIClient.connect(
            ClientConfig(url=server.url, game_id="test", services=("dialogue",))
        )
        stream = await client.dialogue("smith", "blacksmith", "Hello!", max_new_tokens=24, seed=1234, n=3)
        deltas = [delta async for delta in stream]
        dones = await stream.all_done
        assert [d.alternative for d in dones] == [0, 1, 2]
        assert [d.text for d in dones] == stream.texts
        assert (await stream.done) is dones[0] and stream.text == dones[0].text
        for alternative in range(3):
            assert "".join(d.text for d in deltas if d.alternative == alternative) == dones[alternative].text
        handler = server.sessions[client.welcome.session_id]
        assert handler.session is not None  # the NPC remembers alternative 0
        assert [t.npc_line for t in handler.session.memory.history("smith")] == [dones[0].text]

        long = await client.dialogue(  # both run to the length limit (94 tokens) when not cancelled
            "other", "blacksmith", "Talk.", max_new_tokens=120, temperature=1.0, seed=2, n=2
        )
        async for _ in long:
            await long.cancel()
        cancelled = await long.all_done
        assert [d.finish_reason for d in cancelled] == ["cancelled", "cancelled"]
        assert all(d.tokens < 94 for d in cancelled)
        assert handler.session.memory.history("other") == ()
        await client.close()


class _SecondAlternativeFails:
    """Alternative 0 (the request's seed, 7) talks slowly until cancelled; alternative 1 fails at once."""

    name, version = "flaky", "0"

    def stream(
        self, context: DialogueContext, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        if params.seed != 7:
            raise RuntimeError("alternative exploded")
        for _ in range(500):
            if cancel.is_set():
                return
            time.sleep(0.01)
            yield TextDelta("la ", 1)


async def test_a_failing_alternative_ends_the_request_in_one_error(assets: Path) -> None:
    config = runtime_config_for(assets, behaviour_model="", agents_dir="", dialogue_concurrency=2)
    services = load_services(config, dialogue_backend=_SecondAlternativeFails())
    async with running_server(ServerConfig(port=0), services=services) as server:
        websocket = await _raw(server)
        started = time.perf_counter()
        received = await _ask(websocket, "f", n=2, seed=7)
        assert time.perf_counter() - started < 4  # alternative 0 was stopped, not run to its end
        assert [m["type"] for m in received if m["type"] != "dialogue.delta"] == ["error"]
        assert received[-1]["code"] == "internal_error" and received[-1]["id"] == "f"
        handler = server.sessions[next(iter(server.sessions))]
        assert handler.session is not None and handler.session.memory.history("smith") == ()
        await websocket.send(json.dumps({"type": "ping", "id": "p"}))  # the session goes on
        assert json.loads(await websocket.recv())["type"] == "pong"
        await websocket.close()
