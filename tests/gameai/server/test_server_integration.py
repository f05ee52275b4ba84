"""The real server on a free loopback port: handshake, services, errors, limits, observability."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gameai.client.async_client import ClientConfig, GameAIClient, HelloRefusedError, ServerError
from gameai.event_loops import running_event_loop_name
from gameai.observability.logs import SessionIdFilter
from gameai.protocol import CloseCode, ErrorCode, FrameEncoding, encode_frame
from gameai.protocol.messages import ActItem
from gameai.server.app import GameAIServer
from gameai.server.config import ServerConfig
from gameai.server.connection import ConnectionHandler
from gameai.testing.servers import running_server, runtime_config_for

HELLO = {"type": "hello", "protocol": 1, "game_id": "test"}


def _config(**changes: object) -> ServerConfig:
    return ServerConfig(port=0, **changes)  # type: ignore[arg-type]


def _pixels(seed: int, size: int = 84) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def _http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


async def _raw(server: GameAIServer, hello: dict[str, object] | None = HELLO) -> ClientConnection:
    websocket = await connect(server.url, compression=None)
    if hello is not None:
        await websocket.send(json.dumps(hello))
        welcome = json.loads(await websocket.recv())
        assert welcome["type"] == "welcome", welcome
    return websocket


async def _until_closed(websocket: ClientConnection, timeout: float = 10.0) -> list[dict[str, object]]:
    """Every message received until the server closes the connection."""
    received = []
    async with asyncio.timeout(timeout):
        try:
            async for data in websocket:
                received.append(json.loads(data))
        except ConnectionClosed:
            pass
    return received


async def _client(server: GameAIServer, **changes: object) -> GameAIClient:
    return await GameAIClient.connect(ClientConfig(url=server.url, game_id="test", **changes))  # type: ignore[arg-type]


async def test_handshake_welcome_describes_the_session(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets)) as server:
        client = await _client(server, services=("behaviour", "agents"))
        welcome = client.welcome
        assert welcome.protocol == 1 and len(welcome.session_id) >= 8
        assert welcome.services == ("behaviour", "agents")
        assert {k: v.status for k, v in welcome.models.items()} == {
            "behaviour": "ready",
            "dialogue": "ready",
            "agent/arena": "ready",
            "agent/ladder": "ready",
        }
        assert welcome.behaviour is not None
        assert (welcome.behaviour.width, welcome.behaviour.height, welcome.behaviour.frames_per_window) == (
            84,
            84,
            4,
        )
        assert welcome.agents["ladder"].difficulty_input and welcome.default_agent == "arena"
        assert welcome.limits.max_fps == 30 and welcome.difficulty == 0.5
        assert server.sessions[welcome.session_id].session is not None
        await client.close()


@pytest.mark.parametrize("event_loop_kind", ["asyncio", "uvloop"])
async def test_frames_get_behaviour_results_for_every_window(assets: Path, event_loop_kind: str) -> None:
    assert running_event_loop_name() == event_loop_kind
    async with running_server(_config(), runtime_config_for(assets)) as server:
        client = await _client(server, services=("behaviour",))
        results = []
        client.on_message = results.append
        for seq in range(8):
            await client.send_frame(_pixels(seq), seq=seq, timestamp=100.0 + seq)
            await asyncio.sleep(0.05)
        async with asyncio.timeout(10):
            while len(results) < 5:
                await asyncio.sleep(0.01)
        classes = client.welcome.behaviour.classes  # type: ignore[union-attr]
        assert [r.seq for r in results] == [3, 4, 5, 6, 7]  # from the 4th frame on, one per frame
        for result in results:
            assert result.timestamp == 100.0 + result.seq
            assert result.label in classes and set(result.probabilities) == set(classes)
            assert abs(sum(result.probabilities.values()) - 1.0) < 1e-4
            # The label is the smoothed leader, held unless another class leads by the switch margin.
            assert result.confidence == result.probabilities[result.label]
            assert max(result.probabilities.values()) - result.confidence <= 0.1 + 1e-6
            assert result.latency_ms > 0 and result.dropped_frames == 0
        assert client.latest_behaviour == results[-1]
        await client.close()


async def test_behaviour_every_thins_the_results_and_png_frames_work(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets)) as server:
        client = await _client(server, services=("behaviour",), behaviour_every=2, frame_encoding="png")
        results = []
        client.on_message = results.append
        for seq in range(8):
            await client.send_frame(_pixels(seq), seq=seq)
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        assert [r.seq for r in results] == [3, 5, 7]  # the first full window, then every second frame
        await client.close()


async def test_act_returns_valid_actions_at_the_session_difficulty(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets)) as server:
        client = await _client(server, services=("agents",))
        action = await client.act("rival", np.linspace(-1, 1, 8))
        assert action.agent == "arena" and action.npc_id == "rival" and action.difficulty == 0.5
        assert len(action.action) == 3 and all(
            0 <= a < n for a, n in zip(action.action, (9, 4, 2), strict=True)
        )
        explicit = await client.act("rival", np.zeros(8), difficulty=0.9, agent="ladder")
        assert explicit.agent == "ladder" and explicit.difficulty == 0.9
        many = await asyncio.gather(*(client.act(f"npc{i}", np.full(8, i / 10)) for i in range(12)))
        assert [a.npc_id for a in many] == [f"npc{i}" for i in range(12)]
        with pytest.raises(ServerError) as bad_obs:
            await client.act("rival", np.zeros(3))
        assert bad_obs.value.code == ErrorCode.BAD_OBSERVATION
        with pytest.raises(ServerError) as unknown:
            await client.act("rival", np.zeros(8), agent="ghost")
        assert unknown.value.code == ErrorCode.UNKNOWN_AGENT
        await client.close()


async def test_act_batch_answers_each_npc_in_order_or_refuses_the_whole_batch(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets)) as server:
        client = await _client(server, services=("agents",))
        items = (
            ActItem(npc_id="rival", observation=tuple(np.linspace(-1, 1, 8).tolist())),
            ActItem(npc_id="guard", observation=(0.0,) * 8, difficulty=0.9, agent="ladder"),
            ActItem(npc_id="rival", observation=(0.5,) * 8),  # the same NPC twice: answered twice
        )
        batch = await client.act_batch(items)
        assert [(a.npc_id, a.agent, a.difficulty) for a in batch.actions] == [
            ("rival", "arena", 0.5),
            ("guard", "ladder", 0.9),
            ("rival", "arena", 0.5),
        ]
        assert all(len(a.action) == 3 for a in batch.actions)
        same = await client.act_batch({"a": np.zeros(8), "b": np.zeros(8)}, difficulty=1.0, agent="ladder")
        alone = await client.act("c", np.zeros(8), difficulty=1.0, agent="ladder")
        assert [a.action for a in same.actions] == [alone.action, alone.action]  # d = 1: the policy's choice
        with pytest.raises(ServerError) as bad_obs:
            await client.act_batch({"a": np.zeros(8), "b": np.zeros(3)}, request_id="bad-1")
        assert bad_obs.value.code == ErrorCode.BAD_OBSERVATION and bad_obs.value.error.id == "bad-1"
        assert bad_obs.value.error.message.startswith("acts[1]: agent 'arena' takes 8 observation values")
        with pytest.raises(ServerError) as unknown:
            await client.act_batch({"a": np.zeros(8)}, agent="ghost")
        assert unknown.value.code == ErrorCode.UNKNOWN_AGENT and unknown.value.error.message.startswith(
            "acts[0]: "
        )
        with pytest.raises(ValueError, match="at least one"):
            await client.act_batch({})
        assert len((await client.act("rival", np.zeros(8))).action) == 3  # the session goes on
        await client.close()


async def test_an_act_batch_beyond_the_agents_queue_is_refused_whole(assets: Path) -> None:
    runtime = runtime_config_for(assets, model_max_queue=2, behaviour_model="", dialogue_model="")
    async with running_server(_config(), runtime) as server:
        client = await _client(server, services=("agents",))
        with pytest.raises(ServerError) as busy:
            await client.act_batch({f"npc{i}": np.zeros(8) for i in range(3)})
        assert busy.value.code == ErrorCode.OVERLOADED
        assert busy.value.error.message.startswith("acts[2]: agent 'arena' busy")
        assert len((await client.act_batch({"a": np.zeros(8), "b": np.zeros(8)})).actions) == 2
        await client.close()


async def test_dialogue_streams_and_is_remembered_per_npc(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets)) as server:
        client = await _client(server, services=("dialogue",))
        stream = await client.dialogue("smith", "blacksmith", "Hello!", max_new_tokens=12, seed=3)
        deltas = [delta async for delta in stream]
        done = await stream.done
        assert [d.index for d in deltas] == list(range(len(deltas)))
        assert done.text == "".join(d.text for d in deltas) == stream.text
        assert 1 <= done.tokens <= 12 and done.finish_reason in ("stop", "length")
        assert done.duration_ms > 0 and done.tokens_per_s > 0
        handler = server.sessions[client.welcome.session_id]
        assert handler.session is not None
        history = handler.session.memory.history("smith")
        assert [(t.player_line, t.npc_line) for t in history] == [("Hello!", done.text)]
        again = await client.dialogue("smith", "blacksmith", "Hello!", max_new_tokens=12, seed=3)
        await again.done
        assert len(handler.session.memory.history("smith")) == 2
        await client.close()


async def test_dialogue_cancel_and_unknown_cancel(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets)) as server:
        client = await _client(server, services=("dialogue",))
        # Seeded: this first reply of the session runs to its token limit, so the cancel always
        # lands first (unseeded, the random tiny model's reply could end after 2-8 tokens).
        stream = await client.dialogue(
            "smith", "blacksmith", "Talk a lot.", max_new_tokens=120, temperature=1.0, seed=0
        )
        async for _ in stream:
            await stream.cancel()  # once, at the first delta: a second could cross the final done
            break
        done = await stream.done
        assert done.finish_reason == "cancelled" and done.tokens < 120
        await stream.cancel()  # after done: nothing is sent, so no unknown_request below
        handler = server.sessions[client.welcome.session_id]
        assert handler.session is not None and handler.session.memory.history("smith") == ()
        websocket = client.websocket
        await websocket.send(json.dumps({"type": "dialogue.cancel", "id": "nope"}))
        await asyncio.sleep(0.2)
        assert [e.code for e in client.errors] == [ErrorCode.UNKNOWN_REQUEST]
        await client.close()


async def test_request_errors_do_not_end_the_session(assets: Path) -> None:
    async with running_server(
        _config(max_new_tokens=16, default_max_new_tokens=16), runtime_config_for(assets)
    ) as server:
        client = await _client(server, services=("dialogue",))
        with pytest.raises(ServerError) as not_requested:
            await client.act("rival", np.zeros(8))
        assert not_requested.value.code == ErrorCode.SERVICE_NOT_REQUESTED
        too_long = await client.dialogue("smith", "blacksmith", max_new_tokens=100)
        with pytest.raises(ServerError) as out_of_range:
            await too_long.done
        assert out_of_range.value.code == ErrorCode.OUT_OF_RANGE
        assert await client.ping() > 0
        await client.close()
        websocket = await _raw(server, {**HELLO, "services": ["dialogue"]})
        request = {
            "type": "dialogue.request",
            "id": "same",
            "npc_id": "n",
            "persona": "scout",
            "max_new_tokens": 16,
        }
        await websocket.send(json.dumps(request))
        await websocket.send(json.dumps(request))
        received = []
        while not received or received[-1]["type"] != "dialogue.done":
            received.append(json.loads(await websocket.recv()))
        errors = [m for m in received if m["type"] == "error"]
        assert [(e["code"], e["id"]) for e in errors] == [("duplicate_id", "same")]
        await websocket.close()


async def test_missing_and_corrupt_models_give_typed_errors_while_the_rest_works(
    assets: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "behaviour"
    broken.mkdir()
    (broken / "config.json").write_text((assets / "behaviour" / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"\x00" * 64)
    runtime_config = runtime_config_for(
        assets, behaviour_model=str(broken), dialogue_model=str(tmp_path / "none")
    )
    async with running_server(_config(), runtime_config) as server:
        client = await _client(server)
        models = client.welcome.models
        assert models["behaviour"].status == "unavailable" and "corrupt" in (models["behaviour"].reason or "")
        assert models["dialogue"].status == "unavailable" and "not found" in (models["dialogue"].reason or "")
        assert client.welcome.behaviour is None
        await client.send_frame(_pixels(0))
        stream = await client.dialogue("smith", "blacksmith", "Hi")
        with pytest.raises(ServerError) as dialogue_error:
            await stream.done
        assert dialogue_error.value.code == ErrorCode.MODEL_UNAVAILABLE
        action = await client.act("rival", np.zeros(8))  # agents still work
        assert len(action.action) == 3
        assert [e.code for e in client.errors] == [ErrorCode.MODEL_UNAVAILABLE]
        health = json.loads(
            await asyncio.to_thread(_http_get, server.url.replace("ws://", "http://") + "healthz")
        )
        assert health["status"] == "degraded" and health["models"]["agent/arena"] == "ready"
        await client.close()


async def test_token_is_required_when_configured(assets: Path) -> None:
    config = _config(require_token="always", tokens=("right",))
    async with running_server(config, runtime_config_for(assets, dialogue_model="")) as server:
        for token in (None, "wrong"):
            with pytest.raises(HelloRefusedError) as refused:
                await _client(server, token=token)
            assert refused.value.error is not None and refused.value.error.code == ErrorCode.BAD_TOKEN
            assert refused.value.close_code == CloseCode.BAD_TOKEN
        client = await _client(server, token="right")
        assert client.welcome.session_id
        await client.close()


def test_binding_beyond_loopback_needs_a_token() -> None:
    with pytest.raises(ValueError, match="needs at least one token"):
        ServerConfig(host="0.0.0.0")
    assert ServerConfig(host="0.0.0.0", tokens=("t",)).token_required
    assert not ServerConfig(host="127.0.0.1").token_required
    assert not ServerConfig(host="::1").token_required


async def test_refusals_at_hello(assets: Path) -> None:
    config = _config(max_sessions=1, hello_timeout_s=0.3)
    async with running_server(config, runtime_config_for(assets, dialogue_model="")) as server:
        cases = [
            ({**HELLO, "protocol": 9}, CloseCode.BAD_VERSION),
            ({"type": "ping"}, CloseCode.BAD_HELLO),
            ({**HELLO, "frames": {"width": 64, "height": 64}}, CloseCode.UNSUPPORTED_FRAME_FORMAT),
        ]
        for hello, code in cases:
            websocket = await connect(server.url)
            await websocket.send(json.dumps(hello))
            [error] = await _until_closed(websocket)
            assert error["type"] == "error" and error["fatal"] is True
            assert websocket.close_code == code
        silent = await connect(server.url)
        [error] = await _until_closed(silent)
        assert error["code"] == "hello_timeout" and silent.close_code == CloseCode.HELLO_TIMEOUT
        first = await _raw(server)
        second = await connect(server.url)
        await second.send(json.dumps(HELLO))
        [error] = await _until_closed(second)
        assert error["code"] == "server_full" and second.close_code == CloseCode.SERVER_FULL
        await first.close()


@pytest.mark.parametrize("event_loop_kind", ["asyncio", "uvloop"])
async def test_idle_sessions_are_closed(assets: Path, event_loop_kind: str) -> None:
    assert running_event_loop_name() == event_loop_kind
    async with running_server(
        _config(idle_timeout_s=0.3), runtime_config_for(assets, dialogue_model="")
    ) as server:
        websocket = await _raw(server)
        [error] = await _until_closed(websocket)
        assert error["code"] == "idle_timeout" and websocket.close_code == CloseCode.IDLE_TIMEOUT


async def test_messages_keep_a_session_open_past_the_idle_timeout(assets: Path) -> None:
    async with running_server(
        _config(idle_timeout_s=0.3), runtime_config_for(assets, dialogue_model="")
    ) as server:
        websocket = await _raw(server)
        last_sent = 0.0
        for i in range(10):  # 1 s of pings, 0.1 s apart: more than three idle timeouts in all
            last_sent = time.perf_counter()  # the server receives each message after this
            await websocket.send(json.dumps({"type": "ping", "id": f"p{i}", "t": float(i)}))
            assert json.loads(await websocket.recv())["type"] == "pong"
            await asyncio.sleep(0.1)
        [error] = await _until_closed(websocket)
        assert error["code"] == "idle_timeout" and websocket.close_code == CloseCode.IDLE_TIMEOUT
        # Timed from the last message: not before 0.3 s after it was sent (a millisecond of timer
        # slack), and well before a timer from any earlier point would matter.
        assert 0.299 < time.perf_counter() - last_sent < 2.0


async def _good_client_session(server: GameAIServer, seconds: float) -> tuple[int, int, list[object]]:
    """Streams frames at 10 fps and acts; returns (frames sent, results received, errors)."""
    client = await _client(server, services=("behaviour", "agents"))
    results: list[object] = []
    client.on_message = results.append
    sent = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        await client.send_frame(_pixels(sent), seq=sent)
        sent += 1
        action = await client.act("rival", np.full(8, 0.1))
        assert len(action.action) == 3
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    behaviour = [r for r in results if getattr(r, "TYPE", "") == "behaviour"]
    await client.close()
    return sent, len(behaviour), client.errors


async def _garbage_client(server: GameAIServer) -> int | None:
    websocket = await _raw(server)
    try:
        for i in range(200):
            await websocket.send("{not json" if i % 2 else b"\x00garbage")
            await asyncio.sleep(0.001)
    except ConnectionClosed:
        pass
    await _until_closed(websocket)
    return websocket.close_code


async def _flooding_client(server: GameAIServer) -> int | None:
    websocket = await _raw(server)
    frame = encode_frame(_pixels(0), seq=0, timestamp=0.0)
    try:
        for _ in range(2000):
            await websocket.send(frame)
            await asyncio.sleep(0.002)
    except ConnectionClosed:
        pass
    await _until_closed(websocket)
    return websocket.close_code


async def _oversize_client(server: GameAIServer) -> tuple[str | None, int | None]:
    websocket = await _raw(server)
    await websocket.send(json.dumps({"type": "ping", "id": "x" * 70_000}))  # over max_message_bytes
    error = json.loads(await websocket.recv())
    with contextlib.suppress(ConnectionClosed):
        await websocket.send("x" * 2_000_000)  # over the websocket size limit
    await _until_closed(websocket)
    return error.get("code"), websocket.close_code


@pytest.mark.parametrize("event_loop_kind", ["asyncio", "uvloop"])
async def test_misbehaving_clients_are_cut_off_while_a_good_one_is_served(
    assets: Path, event_loop_kind: str
) -> None:
    assert running_event_loop_name() == event_loop_kind
    async with running_server(_config(), runtime_config_for(assets, dialogue_model="")) as server:
        good, garbage, flood, oversize = await asyncio.gather(
            _good_client_session(server, seconds=2.0),
            _garbage_client(server),
            _flooding_client(server),
            _oversize_client(server),
        )
        sent, behaviour_results, errors = good
        assert behaviour_results == sent - 3  # every window of 4 frames answered
        assert errors == []
        assert garbage == CloseCode.TOO_MANY_ERRORS
        assert flood == CloseCode.FLOODING
        assert oversize == ("message_too_large", 1009)
        async with asyncio.timeout(5):  # every handler ends and unregisters its session
            while server.sessions:
                await asyncio.sleep(0.01)


async def test_a_crash_in_one_connection_closes_only_it_with_1011(
    assets: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    original = ConnectionHandler._dispatch

    async def crash_on_events(self: ConnectionHandler, message: object, received_at: float) -> None:
        if getattr(message, "TYPE", "") == "events":
            raise RuntimeError("injected fault")
        await original(self, message, received_at)  # type: ignore[arg-type]

    monkeypatch.setattr(ConnectionHandler, "_dispatch", crash_on_events)  # fault injection, not a mock
    async with running_server(_config(), runtime_config_for(assets, dialogue_model="")) as server:
        victim = await _raw(server)
        bystander = await _client(server, services=("agents",))
        await victim.send(json.dumps({"type": "events", "events": ["kill"]}))
        await _until_closed(victim)
        assert victim.close_code == 1011
        assert len((await bystander.act("rival", np.zeros(8))).action) == 3
        await bystander.close()
    assert "connection handler crashed" in caplog.text and "injected fault" in caplog.text


async def test_metrics_and_health_over_http(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets, dialogue_model="")) as server:
        client = await _client(server, services=("behaviour", "agents"))
        for seq in range(5):
            await client.send_frame(_pixels(seq), seq=seq)
            await asyncio.sleep(0.03)
        await client.act("rival", np.zeros(8))
        await asyncio.sleep(0.3)
        base = server.url.replace("ws://", "http://")

        def fetch(path: str) -> tuple[str, str]:
            with urllib.request.urlopen(base + path, timeout=5) as response:
                return response.headers["Content-Type"], response.read().decode()

        content_type, metrics = await asyncio.to_thread(fetch, "metrics")
        assert content_type.startswith("text/plain")
        samples = {
            line.split(" ")[0]: line.split(" ")[-1] for line in metrics.splitlines() if line[:1] != "#"
        }
        assert samples["gameai_sessions_active"] == "1.0"
        assert float(samples['gameai_model_latency_seconds_count{model="behaviour"}']) == 2
        assert float(samples['gameai_request_latency_seconds_count{service="agents"}']) == 1
        assert float(samples['gameai_messages_received_total{kind="binary"}']) == 5
        assert 'gameai_model_batch_size_bucket{le="1.0",model="agent/arena"}' in samples
        _, health = await asyncio.to_thread(fetch, "healthz")
        assert json.loads(health)["status"] == "degraded"  # dialogue disabled
        assert json.loads(health)["sessions"] == 1
        await client.close()


async def test_log_lines_carry_the_session_id(assets: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.handler.addFilter(SessionIdFilter())
    caplog.set_level(logging.INFO, logger="gameai")
    async with running_server(_config(), runtime_config_for(assets, dialogue_model="")) as server:
        websocket = await _raw(server)
        await websocket.send("garbage")
        error = json.loads(await websocket.recv())
        assert error["code"] == "bad_json"
        session_id = next(iter(server.sessions))
        await websocket.close()
        await asyncio.sleep(0.1)
    lines = [r for r in caplog.records if "bad_json" in r.getMessage()]
    assert lines and all(getattr(r, "session_id", None) == session_id for r in lines)
    assert any(getattr(r, "game_id", None) == "test" for r in caplog.records)


async def test_wrong_frame_size_is_refused_with_its_error(assets: Path) -> None:
    async with running_server(_config(), runtime_config_for(assets, dialogue_model="")) as server:
        websocket = await _raw(server)
        await websocket.send(
            encode_frame(_pixels(0, size=64), seq=5, timestamp=0.0, encoding=FrameEncoding.RAW)
        )
        error = json.loads(await websocket.recv())
        assert (error["code"], error["seq"]) == ("wrong_frame_size", 5)
        await websocket.close()
