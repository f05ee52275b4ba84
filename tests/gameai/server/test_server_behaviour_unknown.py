"""The real server labels windows of frames unlike the model's game ``unknown``, and keeps them
out of the session's smoothed evidence."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.look import UNKNOWN, FrameLookConfig, load_frame_look, save_frame_look
from gameai.behaviour.model import load_behaviour_model
from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.protocol.messages import BehaviourResult
from gameai.runtime.models import BehaviourClassifier
from gameai.server.config import ServerConfig
from gameai.session.smoothing import BehaviourSmoother, smoothing_config
from gameai.testing.alien_scenes import alien_frames
from gameai.testing.servers import running_server, runtime_config_for
from gameai.training.behaviour.look_fit import calibrate_threshold, fit_look, window_scores_of
from gameai.training.behaviour.other_scenes import other_scene_windows


@pytest.fixture(scope="module")
def racer_model(assets: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny test model with a look of the little racer game (K = 4)."""
    directory = tmp_path_factory.mktemp("racer") / "behaviour"
    shutil.copytree(assets / "behaviour", directory)
    k = load_behaviour_model(directory).config.frames_per_window
    look = fit_look(
        np.concatenate([alien_frames("racer", seed, 12) for seed in range(4)]), FrameLookConfig(), 32
    )
    own = np.stack([alien_frames("racer", seed, k) for seed in range(50, 60)])
    other, kinds = other_scene_windows(30, k, (84, 84), seed=2)
    save_frame_look(
        directory,
        calibrate_threshold(look, window_scores_of(look, own), window_scores_of(look, other), kinds),
    )
    return directory


async def _stream(
    url: str, frames: list[np.ndarray], expected: int
) -> tuple[list[BehaviourResult], float | None]:
    results: list[BehaviourResult] = []
    client = await GameAIClient.connect(ClientConfig(url=url, game_id="racer", services=("behaviour",)))
    threshold = client.welcome.behaviour.unknown_threshold if client.welcome.behaviour else None
    client.on_message = lambda m: results.append(m) if isinstance(m, BehaviourResult) else None
    for seq, frame in enumerate(frames):
        await client.send_frame(frame, seq=seq)
        await asyncio.sleep(0.02)
    async with asyncio.timeout(10):
        while len(results) < expected:
            await asyncio.sleep(0.01)
    await client.close()
    return results, threshold


async def test_unknown_windows_are_labelled_and_kept_out_of_the_smoothing(
    assets: Path, racer_model: Path
) -> None:
    racer = alien_frames("racer", seed=7, count=8)
    dodger = alien_frames("ball_dodger", seed=7, count=8)
    frames = [*racer, *dodger, *alien_frames("racer", seed=8, count=8)]
    runtime = runtime_config_for(assets, behaviour_model=str(racer_model), behaviour_smoothing_s=1.0)
    async with running_server(ServerConfig(port=0, max_fps=1000.0), runtime) as server:
        results, threshold = await _stream(server.url, frames, expected=len(frames) - 3)

    look = load_frame_look(racer_model)
    assert look is not None and threshold == pytest.approx(look.threshold)
    model = load_behaviour_model(racer_model)
    classes = model.config.class_names
    windows = np.stack([np.stack(frames[seq - 3 : seq + 1]) for seq in range(3, len(frames))])
    scores = window_scores_of(look, windows)
    raw = BehaviourClassifier(model).classify_windows(list(windows))
    smoother = BehaviourSmoother(classes, smoothing_config(runtime))
    unknown = 0
    for result, score, probabilities in zip(results, scores, raw, strict=True):
        assert result.look_score == pytest.approx(float(score), abs=2e-3)  # exemplars stored as float16
        served = np.array([result.probabilities[name] for name in classes])
        if look.is_unknown(float(score)):
            unknown += 1
            assert result.label == UNKNOWN and result.confidence == 0.0
            np.testing.assert_allclose(served, probabilities, atol=1e-4)  # the window's own probabilities
        else:
            expected = smoother.update(probabilities, 1 / model.config.sample_fps)  # known windows only
            assert result.label == expected.label != UNKNOWN
            np.testing.assert_allclose(served, expected.probabilities, atol=1e-4)
    assert unknown >= 8  # every window holding only ball-dodger frames, and most mixed ones
    assert results[0].label != UNKNOWN and results[-1].label != UNKNOWN


async def test_a_model_without_a_look_never_says_unknown(assets: Path) -> None:
    frames = list(alien_frames("ball_dodger", seed=1, count=6))
    async with running_server(ServerConfig(port=0, max_fps=1000.0), runtime_config_for(assets)) as server:
        results, threshold = await _stream(server.url, frames, expected=3)
    assert threshold is None
    assert all(r.label != UNKNOWN and r.look_score is None for r in results)
