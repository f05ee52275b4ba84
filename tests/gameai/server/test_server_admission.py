"""One client cannot fill the server: sessions per address, per token, and no seat kept by pings alone."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gameai.server.config import ServerConfig
from gameai.testing.servers import running_server, runtime_config_for


def _models(assets: Path) -> Any:
    return runtime_config_for(assets, behaviour_model="", dialogue_model="")


async def _hello(url: str, token: str | None = None) -> tuple[ClientConnection, dict[str, Any]]:
    websocket = await connect(url)
    hello: dict[str, Any] = {"type": "hello", "protocol": 1, "game_id": "g", "services": ["agents"]}
    if token:
        hello["token"] = token
    await websocket.send(json.dumps(hello))
    return websocket, json.loads(await websocket.recv())


async def test_one_address_gets_its_share_and_no_more(assets: Path) -> None:
    async with running_server(ServerConfig(port=0, max_sessions_per_address=3), _models(assets)) as server:
        opened = [await _hello(server.url) for _ in range(3)]
        assert all(welcome["type"] == "welcome" for _, welcome in opened)
        refused, error = await _hello(server.url)
        assert error["code"] == "server_full" and "this address has its maximum of 3" in error["message"]
        await refused.wait_closed()
        assert refused.close_code == 4007
        await opened[0][0].close()
        async with asyncio.timeout(5):
            while len(server.sessions) > 2:
                await asyncio.sleep(0.01)
        websocket, welcome = await _hello(server.url)  # a seat came free
        assert welcome["type"] == "welcome"
        for other in [websocket, *(ws for ws, _ in opened[1:])]:
            await other.close()


async def test_one_token_gets_its_share_and_no_more(assets: Path) -> None:
    config = ServerConfig(port=0, tokens=("a", "b"), require_token="always", max_sessions_per_token=2)
    async with running_server(config, _models(assets)) as server:
        first = [await _hello(server.url, "a") for _ in range(2)]
        refused, error = await _hello(server.url, "a")
        assert error["code"] == "server_full" and "this token has its maximum of 2" in error["message"]
        other, welcome = await _hello(server.url, "b")
        assert welcome["type"] == "welcome"
        for websocket in [other, refused, *(ws for ws, _ in first)]:
            await websocket.close()


async def test_a_session_that_only_pings_is_closed_but_one_that_plays_stays(assets: Path) -> None:
    config = ServerConfig(port=0, ping_only_timeout_s=0.6, idle_timeout_s=60.0)
    async with running_server(config, _models(assets)) as server:
        pinger, _ = await _hello(server.url)
        player, _ = await _hello(server.url)
        closed_error: dict[str, Any] | None = None
        async with asyncio.timeout(10):
            for tick in range(20):
                await asyncio.sleep(0.1)
                try:
                    await pinger.send(json.dumps({"type": "ping", "id": f"p{tick}"}))
                except ConnectionClosed:
                    break
                await player.send(json.dumps({"type": "events", "events": ["walk"]}))
            with contextlib.suppress(ConnectionClosed):
                async for text in pinger:
                    message = json.loads(text)
                    if message["type"] == "error":
                        closed_error = message
        assert closed_error is not None and closed_error["code"] == "idle_timeout"
        assert "nothing but pings for 0.6 s" in closed_error["message"]
        assert pinger.close_code == 4006
        await player.send(json.dumps({"type": "ping", "id": "still-here"}))
        assert json.loads(await player.recv())["type"] == "pong"
        await player.close()
