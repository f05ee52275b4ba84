"""The frame look: histograms, distances, the threshold's calibration, its files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.look import (
    LOOK_CONFIG_FILE,
    LOOK_WEIGHTS_FILE,
    FrameLook,
    FrameLookConfig,
    cell_histograms,
    load_frame_look,
    save_frame_look,
)
from gameai.behaviour.model import BehaviourNetConfig
from gameai.model_files import ModelLoadError
from gameai.testing.alien_scenes import ALIEN_GAMES, alien_frames
from gameai.training.behaviour.look_fit import (
    calibrate_threshold,
    farthest_point_exemplars,
    fit_look,
    frame_histograms,
    window_scores_of,
)


def _flat(colour: tuple[int, int, int], size: int = 36) -> np.ndarray:
    frame = np.empty((size, size, 3), np.uint8)
    frame[:] = colour
    return frame


def test_cell_histograms_sum_to_one_per_cell_and_count_where_colours_are() -> None:
    frame = _flat((0, 0, 0))
    frame[:18] = (255, 255, 255)  # the top half white
    histograms = cell_histograms(frame, FrameLookConfig(bits=4, grid=2))
    assert histograms.shape == (4, 4096)
    assert np.allclose(histograms.sum(axis=1), 1.0)
    assert histograms[0, 4095] == 1.0 and histograms[1, 4095] == 1.0  # top cells: white
    assert histograms[2, 0] == 1.0 and histograms[3, 0] == 1.0  # bottom cells: black


def test_batched_histograms_equal_one_frame_at_a_time() -> None:
    frames = alien_frames("racer", seed=3, count=5)
    config = FrameLookConfig(bits=3, grid=2)
    batched = frame_histograms(frames, config)
    assert np.array_equal(batched, np.stack([cell_histograms(f, config) for f in frames]))


def test_distance_is_zero_to_an_exemplar_and_one_with_no_colour_in_common() -> None:
    config = FrameLookConfig(bits=4, grid=1)
    red, blue = _flat((200, 30, 30)), _flat((30, 30, 200))
    look = FrameLook(config, frame_histograms(np.stack([red]), config), threshold=0.5)
    assert look.frame_distance(red) == pytest.approx(0.0)
    assert look.frame_distance(blue) == pytest.approx(1.0)
    half = red.copy()
    half[:18] = (30, 30, 200)
    assert look.frame_distance(half) == pytest.approx(0.5)


def test_farthest_point_sampling_keeps_the_rare_look() -> None:
    config = FrameLookConfig(bits=4, grid=1)
    frames = np.stack([_flat((20, 20, 20))] * 50 + [_flat((240, 240, 0))])  # one frame unlike the rest
    chosen = farthest_point_exemplars(frame_histograms(frames, config), count=2)
    assert sorted(chosen.tolist()) == [0, 50]


def test_a_look_fitted_on_one_game_calls_every_other_game_unknown() -> None:
    """Fit on one little game (the racer), calibrate against the training-side other scenes;
    new plays of the racer are known, the other games (drawn apart from those scenes) unknown."""
    from gameai.training.behaviour.other_scenes import other_scene_windows

    train = np.concatenate([alien_frames("racer", seed, 24) for seed in range(6)])
    look = fit_look(train, FrameLookConfig(), exemplars=32)
    own = np.stack([alien_frames("racer", seed, 16) for seed in range(100, 112)])
    other, kinds = other_scene_windows(60, 16, (84, 84), seed=1)
    look = calibrate_threshold(look, window_scores_of(look, own), window_scores_of(look, other), kinds)
    assert look.metadata["separated"] and look.metadata["own_unknown_share"] == 0.0
    new_racers = np.stack([alien_frames("racer", seed, 16) for seed in range(200, 206)])
    assert not np.any([look.is_unknown(s) for s in window_scores_of(look, new_racers)])
    for game in ALIEN_GAMES:
        if game == "racer":
            continue
        windows = np.stack([alien_frames(game, seed, 16) for seed in range(3)])
        assert all(look.is_unknown(s) for s in window_scores_of(look, windows)), game


def test_calibration_without_separation_says_so() -> None:
    config = FrameLookConfig()
    look = FrameLook(config, frame_histograms(np.stack([_flat((10, 10, 10))]), config), threshold=1.0)
    own = np.array([0.1, 0.2, 0.3], np.float32)
    other = np.array([0.05, 0.1], np.float32)
    calibrated = calibrate_threshold(look, own, other, ["a", "b"])
    assert not calibrated.metadata["separated"]
    assert calibrated.threshold == pytest.approx(min(1.0, float(np.quantile(own, 0.999)) * 1.5))


def test_save_load_round_trip(tmp_path: Path) -> None:
    config = FrameLookConfig(bits=3, grid=2)
    frames = alien_frames("platformer", seed=0, count=8)
    look = FrameLook(config, frame_histograms(frames, config), threshold=0.25, metadata={"own_windows": 3})
    save_frame_look(tmp_path, look)
    loaded = load_frame_look(tmp_path)
    assert loaded is not None
    assert loaded.config == config and loaded.threshold == 0.25 and loaded.metadata == {"own_windows": 3}
    assert np.allclose(loaded.exemplars, look.exemplars, atol=1e-3)  # stored as float16
    assert loaded.frame_distance(frames[0]) == pytest.approx(look.frame_distance(frames[0]), abs=1e-3)


def test_no_look_files_is_no_look(tmp_path: Path) -> None:
    assert load_frame_look(tmp_path) is None


@pytest.mark.parametrize("damage", ["weights", "config", "missing_weights", "bad_setting"])
def test_a_damaged_look_is_a_clear_load_error(tmp_path: Path, damage: str) -> None:
    config = FrameLookConfig()
    save_frame_look(tmp_path, FrameLook(config, frame_histograms(alien_frames("racer", 0, 2), config), 0.3))
    weights, settings = tmp_path / LOOK_WEIGHTS_FILE, tmp_path / LOOK_CONFIG_FILE
    if damage == "weights":
        weights.write_bytes(weights.read_bytes()[:-100])
    elif damage == "config":
        settings.write_text("{not json")
    elif damage == "missing_weights":
        weights.unlink()
    else:
        data = json.loads(settings.read_text())
        data["config"]["bits"] = 9
        settings.write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="look"):
        load_frame_look(tmp_path)


def test_unknown_is_a_reserved_label() -> None:
    with pytest.raises(ValueError, match="reserved"):
        BehaviourNetConfig(class_names=("fast", "unknown"))


@pytest.mark.parametrize("grid", [1, 2])
def test_the_distance_is_the_full_total_variation_distance_whatever_the_frame_holds(grid: int) -> None:
    """The server reads only the bins of the game's own colours; that must change nothing, for a
    game frame and for noise (every bin used), with one cell or several."""
    config = FrameLookConfig(bits=4, grid=grid)
    look = FrameLook(config, frame_histograms(alien_frames("racer", 0, 6), config), threshold=0.5)
    noise = np.random.default_rng(0).integers(0, 256, (84, 84, 3), dtype=np.uint8)
    for frame in (*alien_frames("racer", 9, 2), *alien_frames("platformer", 1, 2), noise):
        full = 0.5 * np.abs(look.exemplars - cell_histograms(frame, config)).sum(axis=2).mean(axis=1)
        assert look.frame_distance(frame) == pytest.approx(float(full.min()), abs=1e-5)
