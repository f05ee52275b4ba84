"""Graceful shutdown: in-flight work finishes or is cancelled cleanly, every client is told, exit 0."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.event_loops import resolve_event_loop_name
from gameai.server.config import ServerConfig
from gameai.testing.servers import ServerProcess, running_server, runtime_config_for
from gameai.testing.tiny_models import write_tiny_dialogue_model


@pytest.fixture(scope="module")
def long_dialogue_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model with a long context, so that a reply can still be streaming at shutdown.

    Greedy decoding of this (seeded) model repeats itself for the whole context without an
    end token, so the reply below is deterministically long (over a second of generation).
    """
    return write_tiny_dialogue_model(tmp_path_factory.mktemp("long") / "model", "chat", n_positions=2048)


async def test_shutdown_cancels_replies_finishes_actions_and_closes_with_1001(
    assets: Path, long_dialogue_model: Path
) -> None:
    config = ServerConfig(port=0, max_new_tokens=1500, shutdown_grace_s=3.0, max_inflight_requests=32)
    # Actions wait up to 400 ms to be batched on a worker thread (not on the event loop, where they
    # would be answered in the turn they came in), so they are still in flight when shutdown starts.
    runtime_config = runtime_config_for(
        assets,
        dialogue_model=str(long_dialogue_model),
        agent_max_wait_ms=400.0,
        agent_max_batch=1000,
        agent_inline_max_params=0,
    )
    async with running_server(config, runtime_config) as server:
        talker = await GameAIClient.connect(ClientConfig(url=server.url, services=("dialogue",)))
        actor = await GameAIClient.connect(ClientConfig(url=server.url, services=("agents",)))
        messages: list[object] = []
        actor.on_message = messages.append
        stream = await talker.dialogue("smith", "blacksmith", "Talk.", max_new_tokens=1500, temperature=0.0)
        talking = server.sessions[talker.welcome.session_id]
        async with asyncio.timeout(5):
            while not getattr(talking.handlers.get("dialogue"), "streams", None):
                await asyncio.sleep(0.005)
        acts = [asyncio.ensure_future(actor.act(f"npc{i}", np.zeros(8))) for i in range(20)]
        async with asyncio.timeout(5):
            while sum(len(h.requests.inflight) for h in server.sessions.values() if h.requests) < 20:
                await asyncio.sleep(0.005)
        workers = [t for t in threading.enumerate() if t.name.startswith("gameai-")]
        await server.shutdown()

        done = await stream.done
        assert done.finish_reason == "cancelled" and done.tokens < 1500
        actions = await asyncio.gather(*acts)  # every action in flight was answered before the close
        assert [a.npc_id for a in actions] == [f"npc{i}" for i in range(20)]
        for client in (talker, actor):
            code, _ = await asyncio.wait_for(client.closed, 5)
            assert code == 1001
        assert any(getattr(m, "code", None) == "shutting_down" for m in messages)
        assert all(not t.is_alive() for t in workers if t.name != "gameai-test-server")
        with pytest.raises((OSError, ConnectionClosed)):
            await connect(server.url, open_timeout=2)


async def test_shutdown_with_no_sessions_is_quick(assets: Path) -> None:
    async with running_server(ServerConfig(port=0), runtime_config_for(assets, dialogue_model="")) as server:
        async with asyncio.timeout(5):
            await server.shutdown()
        await server.shutdown()  # idempotent


@pytest.mark.parametrize(
    ("sig", "event_loop"),
    [(signal.SIGTERM, "auto"), (signal.SIGINT, "auto"), (signal.SIGTERM, "asyncio")],
    ids=["SIGTERM", "SIGINT", "SIGTERM-asyncio-loop"],
)
def test_gameai_serve_exits_cleanly_on_a_signal(assets: Path, sig: signal.Signals, event_loop: str) -> None:
    args = ["--behaviour-model", str(assets / "behaviour"), "--dialogue-model", "", "--agents-dir",
            str(assets / "agents"), "--device", "cpu", "--torch-threads", "1",
            "--event-loop", event_loop]  # fmt: skip
    server = ServerProcess(args).start()
    expected_loop = resolve_event_loop_name(event_loop)  # type: ignore[arg-type]
    assert any(f"{expected_loop} event loop" in line for line in server.log_lines), server.log_lines
    assert any("left out of garbage collections" in line for line in server.log_lines), server.log_lines

    async def session() -> tuple[list[dict[str, object]], int | None]:
        websocket = await connect(server.url)
        await websocket.send(json.dumps({"type": "hello", "protocol": 1, "game_id": "signal"}))
        assert json.loads(await websocket.recv())["type"] == "welcome"
        assert server.process is not None
        server.process.send_signal(sig)
        received = []
        try:
            async for data in websocket:
                received.append(json.loads(data))
        except ConnectionClosed:
            pass
        return received, websocket.close_code

    received, close_code = asyncio.run(session())
    exit_code = server.stop(timeout_s=30)
    assert exit_code == 0, "\n".join(server.log_lines[-20:])
    assert close_code == 1001
    assert received[-1]["code"] == "shutting_down" and received[-1]["fatal"] is True
    assert any("shut down" in line for line in server.log_lines)
