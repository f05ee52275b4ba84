"""No request waits forever: a server that accepts the session and then never answers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve

from gameai.client.async_client import ClientConfig, GameAIClient, RequestTimeoutError
from gameai.client.threaded import RequestLost, ThreadedGameAIClient
from gameai.protocol.codec import encode_message
from gameai.protocol.messages import PROTOCOL_VERSION, AgentSpec, Limits, Welcome

WELCOME = Welcome(
    protocol=PROTOCOL_VERSION,
    session_id="silent",
    server="silent/0",
    services=("dialogue", "agents"),
    models={},
    agents={"arena": AgentSpec(obs_dim=4, action_nvec=(3,), difficulty_input=False)},
    default_agent="arena",
    difficulty=0.5,
    limits=Limits(
        max_message_bytes=65536,
        max_frame_bytes=65536,
        max_fps=30.0,
        max_messages_per_s=100.0,
        max_inflight_requests=16,
        max_new_tokens=128,
        frame_queue=4,
        idle_timeout_s=60.0,
    ),
)


class SilentServer:
    """Welcomes every session, then records what the client sends and never answers."""

    def __init__(self) -> None:
        self.received: list[dict[str, object]] = []

    async def handle(self, websocket: ServerConnection) -> None:
        await websocket.recv()  # the hello
        await websocket.send(encode_message(WELCOME))
        async for message in websocket:
            self.received.append(json.loads(message))


def _silent_server_in_a_thread() -> Iterator[str]:
    ready = threading.Event()
    urls: list[str] = []
    stop: list[asyncio.Future[None]] = []
    loop = asyncio.new_event_loop()

    async def main() -> None:
        async with serve(SilentServer().handle, "127.0.0.1", 0) as running:
            urls.append(f"ws://127.0.0.1:{running.sockets[0].getsockname()[1]}/")
            stop.append(loop.create_future())
            ready.set()
            await stop[0]

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    ready.wait(10)
    yield urls[0]
    loop.call_soon_threadsafe(stop[0].set_result, None)
    thread.join(10)


def test_acts_pings_and_stalled_replies_time_out_with_a_typed_error() -> None:
    async def main() -> None:
        server = SilentServer()
        async with serve(server.handle, "127.0.0.1", 0) as running:
            url = f"ws://127.0.0.1:{running.sockets[0].getsockname()[1]}/"
            client = await GameAIClient.connect(ClientConfig(url=url, request_timeout_s=0.3))
            started = time.perf_counter()
            with pytest.raises(RequestTimeoutError) as info:
                await client.act("npc", np.zeros(4))
            assert 0.25 < time.perf_counter() - started < 3.0
            assert "within 0.3 s" in str(info.value)
            with pytest.raises(RequestTimeoutError):
                await client.ping()
            stream = await client.dialogue("smith", "blacksmith", "hello?")
            with pytest.raises(RequestTimeoutError):
                await stream.done
            with pytest.raises(RequestTimeoutError):  # iterating ends with the same error
                async for _ in stream:
                    pass
            async with asyncio.timeout(5):
                while not any(m.get("type") == "dialogue.cancel" for m in server.received):
                    await asyncio.sleep(0.01)  # the stalled reply is cancelled on the server too
            await client.close()

    asyncio.run(main())


def test_the_threaded_client_reports_a_timed_out_request_as_lost() -> None:
    servers = _silent_server_in_a_thread()
    url = next(servers)
    client = ThreadedGameAIClient(ClientConfig(url=url, request_timeout_s=0.3))
    client.start()
    try:
        deadline = time.monotonic() + 10
        while not client.connected and time.monotonic() < deadline:
            time.sleep(0.01)
        request_id = client.act("npc", np.zeros(4))
        lost: list[RequestLost] = []
        while not lost and time.monotonic() < deadline:
            lost = [item for item in client.poll() if isinstance(item, RequestLost)]
            time.sleep(0.01)
        assert [item.id for item in lost] == [request_id] and "within 0.3 s" in lost[0].reason
    finally:
        client.close()
        next(servers, None)
