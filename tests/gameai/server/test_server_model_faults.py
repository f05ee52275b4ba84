"""A model that computes garbage costs the requests it answers, never the session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from websockets.asyncio.client import connect

from gameai.behaviour.model import BehaviourNetConfig
from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.server.config import ServerConfig
from gameai.testing.servers import running_server, runtime_config_for
from gameai.testing.tiny_models import random_frames, write_random_behaviour_model


def _nan_behaviour_model(directory: Path) -> Path:
    """A behaviour model whose weights make NaN, with no hash recorded (a model of one's own: the
    hash check, which would refuse garbled shipped weights at load, does not apply)."""
    write_random_behaviour_model(directory, BehaviourNetConfig(conv_channels=(8, 8, 8), hidden=16))
    weights = load_file(directory / "model.safetensors")
    garbled = {
        name: torch.full_like(t, float("nan")) if t.is_floating_point() else t for name, t in weights.items()
    }
    save_file(garbled, directory / "model.safetensors")
    config = json.loads((directory / "config.json").read_text())
    del config["weights_sha256"]
    (directory / "config.json").write_text(json.dumps(config))
    return directory


async def test_non_finite_behaviour_outputs_are_errors_for_those_frames_and_the_session_goes_on(
    assets: Path, tmp_path: Path
) -> None:
    model = _nan_behaviour_model(tmp_path / "behaviour")
    runtime = runtime_config_for(assets, behaviour_model=str(model), dialogue_model="")
    async with running_server(ServerConfig(port=0, max_fps=1000.0), runtime) as server:
        client = await GameAIClient.connect(
            ClientConfig(url=server.url, game_id="test", services=("behaviour", "agents"), behaviour_every=1)
        )
        frames = random_frames(8, 5)
        for seq, frame in enumerate(frames):
            await client.send_frame(frame, seq=seq)
            await asyncio.sleep(0.05)
        async with asyncio.timeout(20):
            while not any(error.code == "internal_error" for error in client.errors):
                await asyncio.sleep(0.02)
        errors = [error for error in client.errors if error.code == "internal_error"]
        assert "non-finite" in errors[0].message and errors[0].seq is not None
        action = await client.act("npc", np.zeros(8))  # the session and its other services go on
        assert len(action.action) == 3
        assert await client.ping() >= 0
        assert not client.closed.done()
        await client.close()
        failures = server.metrics.registry.get_sample_value(
            "gameai_model_errors_total", {"model": "behaviour"}
        )
        assert failures is not None and failures >= 1
    closes = server.metrics.registry.get_sample_value("gameai_closes_total", {"code": "1011"})
    assert closes is None


async def test_an_observation_that_overflows_a_float32_is_a_bad_observation(assets: Path) -> None:
    runtime = runtime_config_for(assets, behaviour_model="", dialogue_model="")
    async with running_server(ServerConfig(port=0), runtime) as server, connect(server.url) as websocket:
        await websocket.send(
            json.dumps({"type": "hello", "protocol": 1, "game_id": "g", "services": ["agents"]})
        )
        assert json.loads(await websocket.recv())["type"] == "welcome"
        observation = [0.0] * 7 + [1.7e308]
        await websocket.send(
            json.dumps({"type": "act", "id": "a", "npc_id": "n", "observation": observation})
        )
        error = json.loads(await websocket.recv())
        assert (error["code"], error["id"]) == ("bad_observation", "a")
        assert "value 7" in error["message"]
