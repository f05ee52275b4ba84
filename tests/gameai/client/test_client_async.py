"""The asyncio client against a real server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from gameai.client.async_client import (
    ClientConfig,
    ConnectionLostError,
    GameAIClient,
    HelloRefusedError,
    ServerError,
    npc_card,
)
from gameai.protocol import CloseCode, ErrorCode, ProtocolError
from gameai.protocol.messages import NpcCard
from gameai.server.config import ServerConfig
from gameai.testing.servers import running_server, runtime_config_for


async def test_requests_and_replies(client_assets: Path) -> None:
    async with running_server(ServerConfig(port=0), runtime_config_for(client_assets)) as server:
        client = await GameAIClient.connect(ClientConfig(url=server.url, game_id="async"))
        rtt = await client.ping()
        assert 0 < rtt < 5
        action = await client.act("rival", [0.0] * 8, difficulty=0.2)
        assert action.difficulty == 0.2
        stream = await client.dialogue("healer", "healer", "Help!", max_new_tokens=8, seed=1, events=["hurt"])
        text = "".join([delta.text async for delta in stream])
        assert (await stream.done).text == text
        await client.events(["kill", "pickup_coin"])
        await client.match_result("win", npc_id="rival", duration_s=12.0)
        await asyncio.sleep(0.1)
        session = server.sessions[client.welcome.session_id].session
        assert session is not None
        assert session.events.recent()[-2:] == ("kill", "pickup_coin")
        assert [m.outcome for m in session.matches] == ["win"]
        with pytest.raises(ServerError) as error:
            await client.act("rival", [0.0] * 2)
        assert error.value.code == ErrorCode.BAD_OBSERVATION
        await client.close()
        code, _ = await client.closed
        assert code == 1000


async def test_refused_hello_raises(client_assets: Path) -> None:
    config = ServerConfig(port=0, require_token="always", tokens=("t",))
    async with running_server(config, runtime_config_for(client_assets, dialogue_model="")) as server:
        with pytest.raises(HelloRefusedError) as refused:
            await GameAIClient.connect(ClientConfig(url=server.url, token="nope"))
        assert refused.value.close_code == CloseCode.BAD_TOKEN


async def test_waiting_calls_fail_when_the_connection_is_lost(client_assets: Path) -> None:
    runtime_config = runtime_config_for(
        client_assets, agent_max_wait_ms=2000.0, agent_max_batch=100, agent_inline_max_params=0
    )  # a worker thread batches acts (inline ones are answered in the turn they come in)
    async with running_server(ServerConfig(port=0), runtime_config) as server:
        client = await GameAIClient.connect(ClientConfig(url=server.url, services=("agents",)))
        pending = asyncio.ensure_future(client.act("rival", np.zeros(8)))  # waits 2 s to be batched
        await asyncio.sleep(0.1)
        await server.sessions[client.welcome.session_id].websocket.close(1001, "test")  # server side goes
        with pytest.raises(ConnectionLostError):
            await pending
        with pytest.raises(ConnectionLostError):
            await client.act("rival", np.zeros(8))


async def test_unreachable_server() -> None:
    from gameai.testing.servers import free_port

    with pytest.raises(OSError):
        await GameAIClient.connect(ClientConfig(url=f"ws://127.0.0.1:{free_port()}/", open_timeout_s=2))


def test_npc_cards_are_given_as_cards_or_mappings_and_checked_before_sending() -> None:
    card = NpcCard(name="Ada", traits=("calm",), facts=("The ferry leaves at dawn.",))
    assert npc_card(card) is card
    assert npc_card({"name": "Ada", "traits": ("calm",), "facts": ["The ferry leaves at dawn."]}) == card
    with pytest.raises(ProtocolError) as refused:
        npc_card({"name": "Ada", "facts": ["x" * 201]})
    assert refused.value.code == ErrorCode.OUT_OF_RANGE and "npc.facts[0]" in refused.value.message
