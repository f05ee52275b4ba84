"""The position losses: the first fine keypoint learns where the recording drew the player, the
first near-player keypoint where it drew the enemy nearest the player."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.behaviour.model import BehaviourNet, BehaviourNetConfig, fine_keypoint_xy
from gameai.training.behaviour.config import BehaviourTrainConfig
from gameai.training.behaviour.dataset import WindowDataset, window_starts
from gameai.training.behaviour.fit import (
    KeypointTarget,
    clip_loss,
    fit,
    mirror_half,
    mirror_positions,
    position_loss,
)

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
    second = torch.tensor([[7.0, 0.0]] * 3)  # fine keypoint 1: x 7.0, y 0.0
    assert position_loss(net, encoded, second, index=1).item() == 0.0
    assert position_loss(net, encoded, second, index=0).item() > 1.0


def test_clip_loss_adds_each_keypoint_target_at_its_weight() -> None:
    torch.manual_seed(0)
    net = BehaviourNet(NET).eval()  # eval: dropout off, so the three calls see one network
    clips = np.random.default_rng(0).integers(0, 256, (2, 5, 3, 84, 84), dtype=np.uint8)
    labels = np.array([0, 3])
    device = torch.device("cpu")
    xy = np.zeros((2, 5, 2), dtype=np.float32)
    with torch.no_grad():
        plain, none = clip_loss(net, clips, labels, 4, device)
        both, distances = clip_loss(
            net, clips, labels, 4, device, [KeypointTarget(0, xy, 2.0), KeypointTarget(1, xy + 0.5, 3.0)]
        )
        encoded = net.encode_frames(torch.from_numpy(clips).flatten(0, 1))
        flat = torch.from_numpy(xy).flatten(0, 1)
        expected = [position_loss(net, encoded, flat + shift, i).item() for i, shift in ((0, 0.0), (1, 0.5))]
    assert none == [] and distances == pytest.approx(expected, rel=1e-5)
    assert both.item() == pytest.approx(plain.item() + 2.0 * expected[0] + 3.0 * expected[1], rel=1e-5)


Scene = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


def _player_and_two_enemies(rng: np.random.Generator, n: int) -> Scene:
    """``n`` frames of the arena's colours: a blue player and two red enemies at random places.

    Returns:
        The frames ``(n, 3, 84, 84)``, where the nearer enemy is and where the farther one is
        (``(n, 2)`` each, keypoint coordinates).
    """
    from demo_game.render import Palette

    palette = Palette()
    frames = np.empty((n, 3, 84, 84), dtype=np.uint8)
    frames[:] = np.array(palette.floor, dtype=np.uint8)[None, :, None, None]
    places = rng.integers(4, 80, (n, 3, 2))  # (row, column) of the player, then the two enemies
    colours = (palette.player, palette.enemy, palette.enemy)
    for i in range(n):
        for (row, column), colour in zip(places[i], colours, strict=True):
            frames[i, :, row - 1 : row + 2, column - 1 : column + 2] = np.array(colour)[:, None, None]
    xy = places[..., ::-1].astype(np.float32) / 83 * 2 - 1  # (x, y) in [-1, 1]
    distance = np.linalg.norm(xy[:, 1:] - xy[:, :1], axis=-1)
    rows = np.arange(n)
    nearer, farther = xy[rows, 1 + distance.argmin(axis=1)], xy[rows, 2 - distance.argmin(axis=1)]
    return torch.from_numpy(frames), torch.from_numpy(nearer), torch.from_numpy(farther)


def test_the_near_enemy_loss_teaches_the_near_keypoint_the_nearer_of_two_enemies() -> None:
    """Where a plain keypoint could only find both enemies' mean, the near-player keypoint, taught by
    the near-enemy loss alone, follows the enemy nearer the player (the player's keypoint given)."""
    torch.manual_seed(0)
    config = BehaviourNetConfig(
        architecture="keypoints", frames_per_window=4, conv_channels=(4, 4, 4), hidden=8,
        fine_keypoints=1, near_player_keypoints=1,
    )  # fmt: skip
    net = BehaviourNet(config)
    conv = net.keypoint_net.fine_features  # type: ignore[union-attr]
    assert conv is not None and conv.bias is not None
    with torch.no_grad():  # fine keypoint 0 finds the blue player (the position loss's job, tested apart)
        conv.weight[0].zero_()
        conv.bias[0] = 0.0
        conv.weight[0, 2, 1, 1] = 40.0
    frames, nearer, farther = _player_and_two_enemies(np.random.default_rng(1), 64)

    def pixels_off() -> tuple[float, float]:
        net.eval()
        with torch.no_grad():
            found = fine_keypoint_xy(net.encode_frames(frames), config, index=1)
        net.train()
        return tuple(float((found - t).norm(dim=1).mean()) * 83 / 2 for t in (nearer, farther))  # type: ignore[return-value]

    before, _ = pixels_off()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for _ in range(100):
        batch, target, _ = _player_and_two_enemies(rng, 16)
        loss = position_loss(net, net.encode_frames(batch), target, index=1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    to_nearer, to_farther = pixels_off()
    assert to_nearer < 8.0 and to_nearer < 0.3 * before, (before, to_nearer)
    assert to_farther > 4 * to_nearer


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
    data = WindowDataset(frames, labels, zeros, zeros, window_starts(zeros, zeros, 2), 2, xy, -xy)
    np.testing.assert_array_equal(data.clip_positions(np.array([1, 3]), 3), [xy[1:4], xy[3:6]])
    np.testing.assert_array_equal(data.clip_positions(np.array([2]), 2, "nearest_enemy"), [-xy[2:4]])
    without = WindowDataset(frames, labels, zeros, zeros, window_starts(zeros, zeros, 2), 2)
    with pytest.raises(ValueError, match="no player positions"):
        without.clip_positions(np.array([0]), 2)
    with pytest.raises(ValueError, match="no nearest enemy positions"):
        without.clip_positions(np.array([0]), 2, "nearest_enemy")


def test_the_position_weight_needs_a_fine_keypoint() -> None:
    with pytest.raises(ValueError, match="needs fine_keypoints"):
        BehaviourTrainConfig(position_weight=1.0, fine_keypoints=0)
    with pytest.raises(ValueError, match="position_weight must be >= 0"):
        BehaviourTrainConfig(position_weight=-1.0, fine_keypoints=1)
    assert BehaviourTrainConfig(position_weight=1.0, fine_keypoints=1).position_weight == 1.0


@pytest.mark.parametrize(
    ("dropped", "options"),
    [
        ("player_xy", {"position_weight": 1.0}),
        ("nearest_enemy_xy", {"position_weight": 0.0, "near_player_keypoints": 1, "near_enemy_weight": 1.0}),
    ],
)
def test_fit_refuses_a_recording_without_the_positions_it_needs(
    tmp_path: Path, dropped: str, options: dict[str, float]
) -> None:
    from gameai.training.behaviour.record import record

    config = BehaviourTrainConfig(
        data_dir=str(tmp_path / "data"), work_dir=str(tmp_path / "work"), runs_dir=str(tmp_path / "runs"),
        train_players=1, val_players=1, test_players=0, heldout_players=0, frames_per_player=8,
        warmup_seconds=1.0, frames_per_window=4, clip_frames=8, fine_keypoints=1, **options,  # type: ignore[arg-type]
    )  # fmt: skip
    record(config, splits=("train", "val"))
    for split in ("train", "val"):  # as recorded before those positions were kept
        path = tmp_path / "data" / f"{split}.npz"
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files if k != dropped}
        np.savez(path, **arrays)
    what = dropped.removesuffix("_xy").replace("_", " ")  # player, nearest enemy
    with pytest.raises(ValueError, match=f"{what}.*recorded without"):
        fit(config)
    assert not (tmp_path / "work").exists()


def test_the_near_enemy_weight_needs_a_near_player_keypoint() -> None:
    with pytest.raises(ValueError, match="needs near_player_keypoints"):
        BehaviourTrainConfig(near_enemy_weight=1.0, near_player_keypoints=0)
    with pytest.raises(ValueError, match="near_enemy_weight must be >= 0"):
        BehaviourTrainConfig(near_enemy_weight=-1.0, near_player_keypoints=1)
    assert BehaviourTrainConfig(near_enemy_weight=1.0, near_player_keypoints=1).near_enemy_weight == 1.0
    assert BehaviourTrainConfig().near_enemy_weight == 0.0  # off by default
    assert BehaviourTrainConfig(architecture="nature", near_enemy_weight=1.0).near_enemy_weight == 0.0


def test_the_defaults_train_the_shipped_design_and_nature_has_no_keypoint_options() -> None:
    defaults = BehaviourTrainConfig()
    assert (defaults.fine_keypoints, defaults.motion_features, defaults.position_weight) == (4, True, 10.0)
    nature = BehaviourTrainConfig(architecture="nature")
    assert (nature.fine_keypoints, nature.motion_features, nature.position_weight) == (0, False, 0.0)
