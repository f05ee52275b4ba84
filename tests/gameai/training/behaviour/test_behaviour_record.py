"""Recording: the demo's render + the client's downscale, split by seed, held-out parameters,
the player's drawn position, manifest."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from demo_game.sim.styles import STYLES, StyleParam
from gameai.model_files import sha256_of
from gameai.training.behaviour.config import DEMO_ARENA_SIZE, SPLITS, BehaviourTrainConfig, RecordConfig
from gameai.training.behaviour.dataset import load_split
from gameai.training.behaviour.record import (
    FORMAT_VERSION,
    calibration_recording,
    capture_every,
    frame_position,
    plan_players,
    record,
    record_players,
    record_split,
    recording_matches,
    training_recording,
)
from gameai.training.behaviour.split_file import CompressedFrames
from gameai.vocabulary import BEHAVIOURS

TINY = RecordConfig(
    train_players=2,
    val_players=1,
    test_players=1,
    heldout_players=1,
    frames_per_player=12,
    warmup_seconds=2.0,
)
#: Parameters that skill rescales (their ranges move with skill, so they are not checked against the box).
SKILLED = {StyleParam.AIM_NOISE, StyleParam.REACTION, StyleParam.DODGE, StyleParam.TURN_RATE, StyleParam.LEAD}


def test_the_recorder_renders_at_the_demo_arena_size_and_sends_at_the_model_rate() -> None:
    from demo_game.app import ARENA_SIZE

    assert DEMO_ARENA_SIZE == ARENA_SIZE
    assert RecordConfig().arena_size == ARENA_SIZE
    assert (
        capture_every(RecordConfig(sample_fps=5.0), tick_rate=30.0) == 6
    )  # the plugin's round(fps / sample_fps)


def test_frames_are_the_demo_render_downscaled_by_the_client_function() -> None:
    import pygame

    from demo_game.render import ArenaRenderer
    from gameai.client.frames import downscale_frame

    plans = plan_players(TINY, "val")[:2]
    renderer = ArenaRenderer(DEMO_ARENA_SIZE)
    small = ArenaRenderer((84, 84))
    checked: list[bool] = []
    direct_differs: list[bool] = []

    def observe(i: int, state: Any, frame: np.ndarray) -> None:
        surface = pygame.Surface(DEMO_ARENA_SIZE)
        renderer.draw(surface, state, i)
        checked.append(bool(np.array_equal(frame, downscale_frame(surface, (84, 84)))))
        direct_differs.append(not np.array_equal(frame, small.render(state, i)))

    recorded = record_players(TINY, plans, observer=observe)
    assert len(checked) == len(recorded.frames) == 2 * TINY.frames_per_player
    assert all(checked)
    assert all(direct_differs)  # drawing at 84x84 directly would be another picture: skew


def test_recording_is_deterministic_and_frames_differ_between_players() -> None:
    plans = plan_players(TINY, "test")[:2]
    first = record_players(TINY, plans)
    second = record_players(TINY, plans)
    np.testing.assert_array_equal(first.frames, second.frames)
    np.testing.assert_array_equal(first.tick, second.tick)
    assert not np.array_equal(first.frames[:12], first.frames[12:])


def test_a_split_is_captured_in_place_each_player_where_its_index_says() -> None:
    """Players of two enemy counts, given out of order: each group is captured straight into the
    split's arrays (held once, not copied together afterwards), every player at the rank of its
    index, with what recording its group alone gives."""
    config = RecordConfig(test_players=1, frames_per_player=12, warmup_seconds=2.0, n_enemies=(1, 2))
    plans = plan_players(config, "test")
    assert len({p.n_enemies for p in plans}) == 2
    given = plans[::-1]
    split = record_split(config, given)
    per_player = config.frames_per_player
    for n_enemies in (1, 2):
        # (In the order given: the players facing the agent share its random stream.)
        group = [p for p in given if p.n_enemies == n_enemies]
        alone = record_players(config, group)
        for i, plan in enumerate(group):
            rows = slice(plan.index * per_player, (plan.index + 1) * per_player)
            mine = slice(i * per_player, (i + 1) * per_player)
            np.testing.assert_array_equal(split.frames[rows], alone.frames[mine])
            np.testing.assert_array_equal(split.player_xy[rows], alone.player_xy[mine])
            np.testing.assert_array_equal(split.nearest_enemy_xy[rows], alone.nearest_enemy_xy[mine])
            assert (split.player[rows] == plan.index).all() and (split.tick[rows] == alone.tick[mine]).all()
            assert split.outcomes[plan.index] == alone.outcomes[i]


def test_the_recorded_player_position_is_where_the_player_is_drawn() -> None:
    """The position loss's target: the centroid of the player's blue disc, to a tenth of a pixel."""
    plans = plan_players(TINY, "test")[:6]
    recorded = record_players(TINY, plans)
    frames = recorded.frames.astype(np.float64)
    blue = np.clip(frames[..., 2] - frames[..., 0] - 60.0, 0.0, None)  # the player; enemies are red
    rows, columns = np.mgrid[0:84, 0:84]
    drawn = ~np.isnan(recorded.player_xy[:, 0]) & (blue.sum(axis=(1, 2)) > 0)
    assert drawn.mean() > 0.9
    weights = blue[drawn] / blue[drawn].sum(axis=(1, 2), keepdims=True)
    centroid = np.stack([(weights * columns).sum(axis=(1, 2)), (weights * rows).sum(axis=(1, 2))], axis=1)
    recorded_pixels = (recorded.player_xy[drawn] + 1.0) * 83 / 2
    assert np.median(np.abs(centroid - recorded_pixels)) < 0.1
    assert np.percentile(np.abs(centroid - recorded_pixels), 90) < 0.3


def test_the_recorded_nearest_enemy_is_the_living_enemy_nearest_the_player_where_it_is_drawn() -> None:
    """The near-enemy loss's target: a red enemy disc is drawn there, and no living enemy is nearer."""
    from demo_game.sim import ActorField

    plans = plan_players(TINY, "test")[:6]
    seen: dict[tuple[int, int], np.ndarray] = {}  # (player, capture) -> the nearest living enemy
    captures = [0] * len(plans)

    def observe(i: int, state: Any, frame: np.ndarray) -> None:
        me, enemies = state.actors[i, 0], state.actors[i, 1:]
        living = enemies[enemies[:, ActorField.ALIVE] > 0.5]
        if me[ActorField.ALIVE] > 0.5 and len(living):
            dx, dy = living[:, ActorField.X] - me[ActorField.X], living[:, ActorField.Y] - me[ActorField.Y]
            nearest = living[int(np.argmin(np.hypot(dx, dy)))]
            seen[i, captures[i]] = frame_position(nearest[ActorField.X], nearest[ActorField.Y], TINY)
        captures[i] += 1

    recorded = record_players(TINY, plans, observer=observe)
    expected = np.full((len(plans), TINY.frames_per_player, 2), np.nan, dtype=np.float32)
    for (i, capture), where in seen.items():
        expected[i, capture] = where
    np.testing.assert_array_equal(recorded.nearest_enemy_xy, expected.reshape(-1, 2))
    defined = ~np.isnan(recorded.nearest_enemy_xy[:, 0])
    assert defined.mean() > 0.5
    assert not np.isnan(recorded.player_xy[defined]).any()  # only while the player lives
    # Drawn there: the frame is enemy red (239, 83, 80) at that pixel in nearly every frame.
    pixels = np.rint((recorded.nearest_enemy_xy[defined] + 1.0) * 83 / 2).astype(int)
    colours = recorded.frames[defined][np.arange(len(pixels)), pixels[:, 1], pixels[:, 0]].astype(int)
    assert ((colours[:, 0] - colours[:, 2]) > 60).mean() > 0.9


def test_frame_position_spans_the_keypoint_scale() -> None:
    corners = frame_position(np.array([0.0, 639.99]), np.array([0.0, 479.99]), TINY)
    pixel = 2.0 / 83  # one frame pixel on the -1..1 scale
    np.testing.assert_allclose(corners, [[-1.0, -1.0], [1.0, 1.0]], atol=pixel)
    assert np.all(np.abs(corners) < 1.0 + pixel / 2)  # within the frame's edges (half a pixel out)


def test_seeds_are_disjoint_between_splits_and_styles_interleave() -> None:
    config = RecordConfig(
        train_players=3, val_players=2, test_players=2, heldout_players=2, calibration_players=2
    )
    every_split = (*SPLITS, "calibration")
    seeds = {split: {p.seed for p in plan_players(config, split)} for split in every_split}
    for a in every_split:
        for b in every_split:
            if a != b:
                assert not seeds[a] & seeds[b]
    train = plan_players(config, "train")
    assert [p.style for p in train[:6]] == list(BEHAVIOURS)
    assert [p.label for p in train[:6]] == list(range(6))
    other_run = {p.seed for p in plan_players(RecordConfig(seed=1, train_players=3), "train")}
    assert not other_run & seeds["train"]


def _fraction(style: str, param: StyleParam, value: float) -> float | None:
    low, high = STYLES[style].low[param], STYLES[style].high[param]
    return None if high == low else (value - low) / (high - low)


def test_heldout_players_lie_outside_the_trained_parameter_ranges() -> None:
    config = RecordConfig(train_players=4, heldout_players=4, train_variation=(0.1, 0.9))
    inside, outside = [], []
    for split, bucket in (("train", inside), ("heldout", outside)):
        for plan in plan_players(config, split):
            for param in StyleParam:
                if param in SKILLED:
                    continue
                fraction = _fraction(plan.style, param, float(plan.params[param]))
                if fraction is not None:
                    bucket.append(fraction)
    assert inside and outside
    assert all(0.1 - 1e-9 <= f <= 0.9 + 1e-9 for f in inside)
    assert all(f < 0.1 + 1e-9 or f > 0.9 - 1e-9 for f in outside)
    assert min(outside) < 0.1 and max(outside) > 0.9  # both ends


def test_a_split_recorded_with_its_frames_held_compressed_writes_the_same_frames(tmp_path: Path) -> None:
    """``record`` holds each frame compressed while it records (so a split needs a fraction of
    its size in memory); what it writes is what recording into one array gives."""
    config = RecordConfig(**{**TINY.__dict__, "data_dir": str(tmp_path), "n_enemies": (1, 2)})
    plans = plan_players(config, "train")
    compressed = record_split(config, plans, compressed=True)
    assert isinstance(compressed.frames, CompressedFrames)
    frames = record_split(config, plans).frames
    assert compressed.frames.held_bytes < frames.nbytes / 4
    record(config)
    written = load_split(tmp_path, "train", 4)
    np.testing.assert_array_equal(written.frames, frames)
    with np.load(tmp_path / "train.npz") as data:  # a plain npz: every member as numpy reads it
        members = {"frames", "player", "match", "tick", "label", "player_xy", "nearest_enemy_xy"}
        assert set(data.files) == members


def test_record_writes_splits_and_a_manifest(tmp_path: Path) -> None:
    config = RecordConfig(**{**TINY.__dict__, "data_dir": str(tmp_path)})
    manifest = record(config)
    on_disk = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest == on_disk
    assert manifest["class_names"] == list(BEHAVIOURS)
    assert manifest["capture"]["arena_size"] == list(DEMO_ARENA_SIZE)
    assert manifest["capture"]["downscale"] == "gameai.client.frames.downscale_frame"
    players = manifest["players"]
    assert len(players) == 6 * (2 + 1 + 1 + 1)
    for split in SPLITS:
        entry = manifest["splits"][split]
        assert entry["sha256"] == sha256_of(tmp_path / entry["file"])
        assert entry["frames"] == entry["players"] * 12
        assert set(entry["frames_per_style"].values()) == {12 * config.players(split)}
        data = load_split(tmp_path, split, 4)
        assert data.frames.shape == (entry["frames"], 84, 84, 3) and data.frames.dtype == np.uint8
        split_players = [p for p in players if p["split"] == split]
        labels = {p["index"]: BEHAVIOURS.index(p["style"]) for p in split_players}
        assert all(labels[p] == y for p, y in zip(data.players, data.labels, strict=True))
        assert data.player_xy is not None and data.player_xy.shape == (entry["frames"], 2)
        assert data.nearest_enemy_xy is not None and data.nearest_enemy_xy.shape == (entry["frames"], 2)
    # A second call with the same options keeps the recording.
    written = (tmp_path / "train.npz").stat().st_mtime_ns
    assert record(config)["seconds"] == manifest["seconds"]
    assert (tmp_path / "train.npz").stat().st_mtime_ns == written
    # A recording of the format before positions is made again.
    assert recording_matches(config)
    on_disk["format_version"] = FORMAT_VERSION - 1
    (tmp_path / "manifest.json").write_text(json.dumps(on_disk))
    assert not recording_matches(config)


def test_training_and_calibration_recordings_are_apart() -> None:
    config = BehaviourTrainConfig(data_dir="d", calibration_dir="c", train_players=3, calibration_players=5)
    training, calibration = training_recording(config), calibration_recording(config)
    assert (training.data_dir, training.calibration_players, training.train_players) == ("d", 0, 3)
    assert (calibration.data_dir, calibration.calibration_players) == ("c", 5)
    assert [calibration.players(split) for split in SPLITS] == [0, 0, 0, 0]
    # Calibration players are drawn like test players: parameters inside the trained ranges.
    for plan in plan_players(calibration, "calibration"):
        for param in StyleParam:
            fraction = None if param in SKILLED else _fraction(plan.style, param, float(plan.params[param]))
            assert fraction is None or 0.1 - 1e-9 <= fraction <= 0.9 + 1e-9


def test_a_recording_from_before_calibration_splits_is_kept(tmp_path: Path) -> None:
    config = RecordConfig(**{**TINY.__dict__, "data_dir": str(tmp_path), "heldout_players": 0})
    record(config)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    del manifest["config"]["calibration_players"]  # as a recording made before the field was
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert recording_matches(config)
    assert not recording_matches(RecordConfig(**{**config.__dict__, "calibration_players": 1}))


def test_config_refuses_bad_ranges() -> None:
    with pytest.raises(ValueError):
        RecordConfig(train_variation=(0.0, 0.9))  # nothing left below for the held-out players
    with pytest.raises(ValueError):
        RecordConfig(frames_per_player=0)


def test_the_served_agent_drives_the_enemies_of_its_share_of_players() -> None:
    """The demo's enemies are the served agent, so part of the recording must face it too."""
    import dataclasses

    share = {p.agent_enemies for p in plan_players(RecordConfig(train_players=20), "train")}
    assert share == {True, False}  # about half and half by default
    none = plan_players(dataclasses.replace(TINY, enemy_agent=""), "test")
    assert not any(p.agent_enemies for p in none)

    everyone = dataclasses.replace(TINY, agent_enemy_share=1.0)
    plans = plan_players(everyone, "test")[:2]
    scripted = [dataclasses.replace(p, agent_enemies=False) for p in plans]
    assert [p.params.tolist() for p in plans] == [p.params.tolist() for p in scripted]
    against_agent = record_players(everyone, plans)
    against_script = record_players(everyone, scripted)
    # Same players, same seeds: only the enemies' driver differs, and it shows.
    assert not np.array_equal(against_agent.frames, against_script.frames)
    again = record_players(everyone, plans)
    np.testing.assert_array_equal(against_agent.frames, again.frames)  # deterministic with the agent too
