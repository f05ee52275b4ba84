"""The position loss: the first fine keypoint learns where the recording drew the player."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.behaviour.model import BehaviourNet, BehaviourNetConfig
from gameai.training.behaviour.config import BehaviourTrainConfig
from gameai.training.behaviour.dataset import WindowDataset, window_starts
from gameai.training.behaviour.fit import fit, mirror_half, mirror_positions, position_loss

NET = BehaviourNetConfig(
    architecture="keypoints", frames_per_window=4, conv_channels=(4, 4, 3), hidden=8, fine_keypoints=2
)


def test_position_loss_reads_the_first_fine_keypoint_and_skips_frames_without_the_player() -> None:
    net = BehaviourNet(NET)
    c = 3 + 2  # coarse then fine keypoints
    encoded = torch.zeros(3, 4 * c)
    encoded[:, 3] = torch.tensor([0.5, -0.25, 0.9])  # x of the first fine keypoint
    encoded[:, c + 3] = torch.tensor([0.1, 0.2, 0.3])  # its y
    encoded[:, 4] = 7.0  # the second fine keypoint is not supervised
    positions = torch.tensor([[0.5, 0.1], [0.25, 0.2], [float("nan"), float("nan")]])
    loss = position_loss(net, encoded, positions)
    assert loss.item() == pytest.approx((0.0 + 0.5**2) / 2)  # the third frame has no player
    assert position_loss(net, encoded, torch.full((3, 2), float("nan"))).item() == 0.0


def test_mirrored_clips_have_mirrored_positions() -> None:
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (8, 2, 3, 6, 6), dtype=np.uint8)
    flipped_clips, flipped = mirror_half(clips, np.random.default_rng(1))
    assert 0 < flipped.sum() < 8
    np.testing.assert_array_equal(flipped_clips[flipped], clips[flipped][..., ::-1])
    positions = rng.uniform(-1, 1, (8, 2, 2)).astype(np.float32)
    mirrored = mirror_positions(positions, flipped)
    np.testing.assert_array_equal(mirrored[flipped, :, 0], -positions[flipped, :, 0])
    np.testing.assert_array_equal(mirrored[~flipped], positions[~flipped])
    np.testing.assert_array_equal(mirrored[..., 1], positions[..., 1])


def test_clip_positions_follow_the_clip_frames() -> None:
    zeros = np.zeros(6, dtype=np.int32)
    xy = np.arange(12, dtype=np.float32).reshape(6, 2)
    frames = np.zeros((6, 36, 36, 3), dtype=np.uint8)
    labels = np.zeros(6, dtype=np.int64)
    data = WindowDataset(frames, labels, zeros, zeros, window_starts(zeros, zeros, 2), 2, xy)
    np.testing.assert_array_equal(data.clip_positions(np.array([1, 3]), 3), [xy[1:4], xy[3:6]])
    without = WindowDataset(frames, labels, zeros, zeros, window_starts(zeros, zeros, 2), 2)
    with pytest.raises(ValueError, match="no player positions"):
        without.clip_positions(np.array([0]), 2)


def test_the_position_weight_needs_a_fine_keypoint() -> None:
    with pytest.raises(ValueError, match="needs fine_keypoints"):
        BehaviourTrainConfig(position_weight=1.0, fine_keypoints=0)
    with pytest.raises(ValueError, match="position_weight must be >= 0"):
        BehaviourTrainConfig(position_weight=-1.0, fine_keypoints=1)
    assert BehaviourTrainConfig(position_weight=1.0, fine_keypoints=1).position_weight == 1.0


def test_fit_refuses_a_recording_without_positions(tmp_path: Path) -> None:
    from gameai.training.behaviour.record import record

    config = BehaviourTrainConfig(
        data_dir=str(tmp_path / "data"), work_dir=str(tmp_path / "work"), runs_dir=str(tmp_path / "runs"),
        train_players=1, val_players=1, test_players=0, heldout_players=0, frames_per_player=8,
        warmup_seconds=1.0, frames_per_window=4, clip_frames=8, fine_keypoints=1, position_weight=1.0,
    )  # fmt: skip
    record(config, splits=("train", "val"))
    for split in ("train", "val"):  # as recorded before positions were kept
        path = tmp_path / "data" / f"{split}.npz"
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files if k != "player_xy"}
        np.savez(path, **arrays)
    with pytest.raises(ValueError, match="recorded without"):
        fit(config)
    assert not (tmp_path / "work").exists()


def test_the_defaults_train_the_shipped_design_and_nature_has_no_keypoint_options() -> None:
    defaults = BehaviourTrainConfig()
    assert (defaults.fine_keypoints, defaults.motion_features, defaults.position_weight) == (4, True, 10.0)
    nature = BehaviourTrainConfig(architecture="nature")
    assert (nature.fine_keypoints, nature.motion_features, nature.position_weight) == (0, False, 0.0)
