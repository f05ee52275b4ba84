"""The thread-backed client: never blocks, reconnects with backoff, reports state and RTT."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from gameai.client.async_client import ClientConfig
from gameai.client.threaded import (
    ConnectionChanged,
    ConnectionState,
    ReconnectPolicy,
    RequestLost,
    ThreadedGameAIClient,
)
from gameai.protocol import Action, BehaviourResult, DialogueDone
from gameai.server.config import ServerConfig
from gameai.testing.servers import ServerThread, free_port, runtime_config_for

FAST = ReconnectPolicy(initial_delay_s=0.05, max_delay_s=0.2)


def _wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_backoff_grows_to_its_cap_with_bounded_jitter() -> None:
    policy = ReconnectPolicy(initial_delay_s=0.5, max_delay_s=4.0, multiplier=2.0, jitter=0.2)
    rng = random.Random(0)
    delays = [policy.delay(attempt, rng) for attempt in range(8)]
    bases = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    assert all(0.8 * b <= d <= 1.2 * b for d, b in zip(delays, bases, strict=True))
    again = [policy.delay(attempt, random.Random(0)) for attempt in range(1)]
    assert again[0] == delays[0]  # seeded: reproducible


def test_full_session_from_a_game_thread(client_assets: Path) -> None:
    with ServerThread(ServerConfig(port=0), runtime_config_for(client_assets)) as server:
        client = ThreadedGameAIClient(
            ClientConfig(url=server.url, game_id="threaded"), FAST, ping_interval_s=0.1
        )
        client.start()
        _wait_for(lambda: client.connected)
        welcome = client.welcome
        assert welcome is not None and welcome.behaviour is not None
        started = time.perf_counter()
        for _ in range(6):
            assert client.send_frame(np.zeros((84, 84, 3), dtype=np.uint8)) is True
            time.sleep(0.05)
        act_id = client.act("rival", np.zeros(8))
        talk_id = client.request_dialogue("scout", "scout", "Where?", max_new_tokens=6, seed=2)
        assert time.perf_counter() - started < 1.0  # nothing above waited on the network
        events: list[object] = []
        _wait_for(lambda: events.extend(client.poll()) or any(isinstance(e, DialogueDone) for e in events))
        _wait_for(
            lambda: events.extend(client.poll()) or sum(isinstance(e, BehaviourResult) for e in events) >= 3
        )
        actions = [e for e in events if isinstance(e, Action)]
        assert [a.id for a in actions] == [act_id]
        assert [e.id for e in events if isinstance(e, DialogueDone)] == [talk_id]
        assert isinstance(events[0], ConnectionChanged) and events[0].state is ConnectionState.CONNECTED
        assert events[0].welcome == welcome
        _wait_for(lambda: client.rtt_ms is not None)
        assert 0 < (client.rtt_ms or 0) < 1000
        client.close()
        assert client.state is ConnectionState.CLOSED


def test_offline_until_the_server_appears_then_reconnects_after_it_restarts(client_assets: Path) -> None:
    port = free_port()
    runtime_config = runtime_config_for(
        client_assets, dialogue_model="", agent_max_wait_ms=1500.0, agent_inline_max_params=0
    )  # a worker thread batches acts (inline ones are answered in the turn they come in)
    client = ThreadedGameAIClient(ClientConfig(url=f"ws://127.0.0.1:{port}/", services=("agents",)), FAST)
    client.start()
    try:
        _wait_for(lambda: client.state is ConnectionState.OFFLINE)
        lost_id = client.act("rival", np.zeros(8))  # offline: answered at once with RequestLost
        assert client.send_frame(np.zeros((84, 84, 3), dtype=np.uint8)) is False
        events: list[object] = []
        _wait_for(lambda: events.extend(client.poll()) or any(isinstance(e, RequestLost) for e in events))
        assert [e.id for e in events if isinstance(e, RequestLost)] == [lost_id]

        server = ServerThread(ServerConfig(port=port), runtime_config).start()
        _wait_for(lambda: client.connected)
        in_flight = client.act("rival", np.zeros(8))  # waits 1.5 s in the batcher
        time.sleep(0.2)
        server.stop()  # graceful: the action in flight is still answered before the close
        _wait_for(lambda: client.state is not ConnectionState.CONNECTED)
        _wait_for(
            lambda: events.extend(client.poll()) or any(getattr(e, "id", None) == in_flight for e in events)
        )

        server = ServerThread(ServerConfig(port=port), runtime_config).start()
        _wait_for(lambda: client.connected)
        again = client.act("rival", np.zeros(8))
        _wait_for(
            lambda: events.extend(client.poll()) or any(getattr(e, "id", None) == again for e in events)
        )
        server.stop()
        states = [e.state for e in events if isinstance(e, ConnectionChanged)]
        assert states.count(ConnectionState.CONNECTED) == 2
        assert ConnectionState.OFFLINE in states[states.index(ConnectionState.CONNECTED) :]
    finally:
        client.close()


def test_a_refused_token_stops_the_retries(client_assets: Path) -> None:
    config = ServerConfig(port=0, require_token="always", tokens=("right",))
    with ServerThread(config, runtime_config_for(client_assets, dialogue_model="")) as server:
        client = ThreadedGameAIClient(ClientConfig(url=server.url, token="wrong"), FAST)
        client.start()
        _wait_for(lambda: client.state is ConnectionState.CLOSED)
        changes = [e for e in client.poll() if isinstance(e, ConnectionChanged)]
        assert changes[-1].state is ConnectionState.CLOSED and "bad_token" in changes[-1].reason
        time.sleep(0.5)  # several backoff periods: no second attempt is made
        assert server.server is not None
        refused = server.server.metrics.registry.get_sample_value(
            "gameai_connections_total", {"outcome": "refused"}
        )
        assert refused == 1
        client.close()


def test_an_undrained_results_queue_drops_the_oldest() -> None:
    client = ThreadedGameAIClient(ClientConfig(url="ws://127.0.0.1:9/"), results_maxsize=3)
    for i in range(5):
        client._emit(RequestLost(f"r{i}", "test"))
    assert [e.id for e in client.poll()] == ["r2", "r3", "r4"]  # type: ignore[union-attr]
