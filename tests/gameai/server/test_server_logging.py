"""A client that keeps getting refused fills its error replies, not the server's log."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from gameai.server.config import ServerConfig
from gameai.testing.servers import running_server, runtime_config_for


async def test_repeated_errors_are_each_answered_but_logged_once_per_interval(
    assets: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = runtime_config_for(assets, behaviour_model="", dialogue_model="")
    caplog.set_level(logging.INFO, logger="gameai.server.connection")
    async with running_server(ServerConfig(port=0), runtime) as server, connect(server.url) as websocket:
        await websocket.send(
            json.dumps({"type": "hello", "protocol": 1, "game_id": "g", "services": ["agents"]})
        )
        json.loads(await websocket.recv())
        for index in range(30):
            act = {
                "type": "act",
                "id": f"a{index}",
                "npc_id": "n",
                "observation": [0.0] * 8,
                "agent": "nobody",
            }
            await websocket.send(json.dumps(act))
        replies = [json.loads(await websocket.recv()) for _ in range(30)]
    assert [(r["code"], r["id"]) for r in replies] == [("unknown_agent", f"a{i}") for i in range(30)]
    logged = [record for record in caplog.records if "error unknown_agent" in record.getMessage()]
    assert len(logged) == 1
    assert server.metrics.registry.get_sample_value("gameai_errors_total", {"code": "unknown_agent"}) == 30
