"""The real server smooths each session's behaviour results exactly as :class:`BehaviourSmoother` does.

With the keypoints architecture the server classifies from cached per-frame encodings; the
expected values here come from whole windows, so the test also checks that cache end to end.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.behaviour.calibration import CALIBRATION_KEY
from gameai.behaviour.model import (
    BehaviourNet,
    BehaviourNetConfig,
    load_behaviour_model,
    save_behaviour_model,
)
from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.protocol.messages import BehaviourResult
from gameai.runtime.models import BehaviourClassifier
from gameai.server.config import ServerConfig
from gameai.session.smoothing import BehaviourSmoother, smoothing_config
from gameai.testing.servers import running_server, runtime_config_for
from gameai.testing.tiny_models import write_random_behaviour_model


def _frames(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    # Very different frames, so that the model's raw outputs move from window to window.
    return [
        np.full((84, 84, 3), 255 * (i % 3 == 0), dtype=np.uint8)
        | rng.integers(0, 256, (84, 84, 3), dtype=np.uint8) * (i % 2)
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def keypoints_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("keypoints") / "behaviour"
    config = BehaviourNetConfig(architecture="keypoints", conv_channels=(8, 8, 8), hidden=16, batch_norm=True)
    write_random_behaviour_model(directory, config)
    return directory


@pytest.mark.parametrize(
    ("architecture", "every", "bot_like_min"),
    [
        ("nature", 1, 0.0),
        ("nature", 3, 0.0),
        ("keypoints", 1, 0.0),
        ("keypoints", 3, 0.0),
        ("keypoints", 1, 0.3),
    ],
)
async def test_served_results_are_the_smoothed_model_outputs(
    assets: Path, keypoints_model: Path, every: int, architecture: str, bot_like_min: float
) -> None:
    model_dir = keypoints_model if architecture == "keypoints" else assets / "behaviour"
    runtime = runtime_config_for(
        assets,
        behaviour_model=str(model_dir),
        behaviour_smoothing_s=1.0,
        behaviour_switch_margin=0.1,
        behaviour_bot_like_min_probability=bot_like_min,
    )
    smoothing = smoothing_config(runtime)
    assert smoothing.half_life_s == 1.0 and len(smoothing.min_probabilities) == (bot_like_min > 0)
    frames = _frames(16)
    results: list[BehaviourResult] = []
    async with running_server(ServerConfig(port=0, max_fps=1000.0), runtime) as server:
        client = await GameAIClient.connect(
            ClientConfig(url=server.url, game_id="test", services=("behaviour",), behaviour_every=every)
        )
        client.on_message = lambda m: results.append(m) if isinstance(m, BehaviourResult) else None
        for seq, frame in enumerate(frames):
            await client.send_frame(frame, seq=seq)
            await asyncio.sleep(0.03)
        expected_seqs = list(range(3, 16, every))
        async with asyncio.timeout(10):
            while len(results) < len(expected_seqs):
                await asyncio.sleep(0.01)
        await client.close()
    assert [r.seq for r in results] == expected_seqs

    # The same model in-process on the same windows, replayed through the smoother.
    model = load_behaviour_model(model_dir)
    assert model.config.architecture == architecture
    classes = model.config.class_names
    raw = BehaviourClassifier(model).classify_windows(
        [np.stack(frames[seq - 3 : seq + 1]) for seq in expected_seqs]
    )
    smoother = BehaviourSmoother(classes, smoothing)
    moved = 0.0
    spread = max(float(np.abs(a - b).max()) for a, b in zip(raw[1:], raw[:-1], strict=False))
    for result, probabilities in zip(results, raw, strict=True):
        expected = smoother.update(probabilities, every / model.config.sample_fps)
        served = np.array([result.probabilities[name] for name in classes])
        np.testing.assert_allclose(served, expected.probabilities, atol=1e-4)
        assert result.label == expected.label
        assert result.confidence == pytest.approx(expected.confidence, abs=1e-4)
        assert result.label != "bot_like" or result.probabilities["bot_like"] >= bot_like_min
        moved = max(moved, float(np.abs(served - probabilities).max()))
    assert spread > 1e-4 and moved > 0.2 * spread  # smoothing did change what was sent


async def test_a_served_bot_like_minimum_falls_with_the_play_the_server_has_seen(tmp_path: Path) -> None:
    """By default (precision 0.97) the server holds the label to the calibration's minimum for
    the session's age: here none reached it in the first 2 s of play, any after; and it says so
    in its welcome."""
    directory = tmp_path / "behaviour"
    torch.manual_seed(0)
    net = BehaviourNet(BehaviourNetConfig(architecture="keypoints", conv_channels=(8, 8, 8), hidden=16))
    classes = net.config.class_names
    with torch.no_grad():  # a model sure that everyone is a bot
        net.keypoint_net.head[-1].bias[classes.index("bot_like")] += 20.0

    def rows(low: float) -> list[dict[str, float]]:
        return [{"min_probability": 0.0, "precision": low, "precision_low": low, "recall": 1.0}]

    by_time = [
        {"from_s": 0.0, "to_s": 2.0, "rows": rows(0.5)},
        {"from_s": 2.0, "to_s": None, "rows": rows(1.0)},
    ]
    save_behaviour_model(directory, net, metadata={CALIBRATION_KEY: {"rows": rows(1.0), "by_time": by_time}})
    runtime = runtime_config_for(tmp_path, behaviour_model=str(directory), dialogue_model="", agents_dir="")
    results: list[BehaviourResult] = []
    async with running_server(ServerConfig(port=0, max_fps=1000.0), runtime) as server:
        client = await GameAIClient.connect(
            ClientConfig(url=server.url, game_id="test", services=("behaviour",), behaviour_every=1)
        )
        client.on_message = lambda m: results.append(m) if isinstance(m, BehaviourResult) else None
        spec = client.welcome.behaviour
        assert spec is not None and spec.bot_like_min_precision == 0.97
        assert [(m.from_s, m.min_probability) for m in spec.bot_like_minimums] == [(0.0, 1.0), (2.0, 0.0)]
        for seq, frame in enumerate(_frames(16)):
            await client.send_frame(frame, seq=seq)
            await asyncio.sleep(0.03)
        async with asyncio.timeout(10):
            while len(results) < 13:
                await asyncio.sleep(0.01)
        await client.close()
    # K = 4 frames at 5 fps: the result after frame `seq` comes at (seq + 1) / 5 s of play.
    assert all(r.probabilities["bot_like"] > 0.99 for r in results)
    said = {r.seq: r.label == "bot_like" for r in results}
    assert said == {seq: (seq + 1) / 5 > 2.0 + 1e-9 for seq in range(3, 16)}, said
