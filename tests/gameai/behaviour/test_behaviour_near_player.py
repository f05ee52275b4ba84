"""Near-player keypoints: pulled towards the player's keypoint, they pick the nearest of several
alike objects where a plain keypoint lands between them; they widen the encoding, train, round
trip, and leave the player's keypoint to its own loss."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gameai.behaviour.model import (
    BehaviourNet,
    BehaviourNetConfig,
    fine_keypoint_xy,
    load_behaviour_model,
    near_prior,
    save_behaviour_model,
)
from gameai.training.behaviour.config import BehaviourTrainConfig
from gameai.training.behaviour.fit import net_config

SMALL = BehaviourNetConfig(
    architecture="keypoints", frames_per_window=4, conv_channels=(4, 4, 4), hidden=16, fine_keypoints=1
)
TO_PIXELS = 83 / 2


def disc(frame: torch.Tensor, channel: int, row: int, column: int) -> None:
    frame[0, channel, row - 1 : row + 2, column - 1 : column + 2] = 255


def two_enemies_and_a_player() -> torch.Tensor:
    """A blue player at (20, 20), red enemies at (26, 26) and (70, 64): (row, column)."""
    frame = torch.zeros(1, 3, 84, 84, dtype=torch.uint8)
    disc(frame, 2, 20, 20)
    disc(frame, 0, 26, 26)
    disc(frame, 0, 70, 64)
    return frame


def colour_finder(net: BehaviourNet, colours: list[int]) -> torch.nn.Conv2d:
    """Set the full-resolution maps to find one colour each (map ``i``: channel ``colours[i]``)."""
    conv = net.keypoint_net.fine_features  # type: ignore[union-attr]
    assert conv is not None
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        for index, channel in enumerate(colours):
            conv.weight[index, channel, 1, 1] = 40.0
    return conv


def test_the_near_player_keypoint_lands_on_the_nearest_enemy_where_a_plain_one_lands_between() -> None:
    near = BehaviourNet(replace(SMALL, near_player_keypoints=1)).eval()
    colour_finder(near, [2, 0])  # fine keypoint 0 finds the blue player, the near one red
    plain = BehaviourNet(replace(SMALL, fine_keypoints=2)).eval()
    colour_finder(plain, [2, 0])  # the same red map, without the pull
    with torch.no_grad():
        near_points = near.encode_frames(two_enemies_and_a_player()).view(4, -1)  # x, y, peak, mean rows
        plain_points = plain.encode_frames(two_enemies_and_a_player()).view(4, -1)
    player = (near_points[:, 4][:2] + 1) * TO_PIXELS
    nearest = (near_points[:, 5][:2] + 1) * TO_PIXELS
    between = (plain_points[:, 5][:2] + 1) * TO_PIXELS
    assert torch.allclose(player, torch.tensor([20.0, 20.0]), atol=0.05)
    assert torch.allclose(nearest, torch.tensor([26.0, 26.0]), atol=0.3)  # (x, y)
    assert torch.allclose(between, torch.tensor([45.0, 48.0]), atol=0.3)  # the mean of the two


def test_the_pull_leaves_the_players_keypoint_to_its_own_loss() -> None:
    net = BehaviourNet(replace(SMALL, near_player_keypoints=1))
    conv = colour_finder(net, [2, 0])
    net.train()
    points = net.encode_frames(two_enemies_and_a_player()).view(4, -1)
    points[0, 5].backward()  # the near keypoint's x only
    assert conv.weight.grad is not None
    assert conv.weight.grad[0].abs().max() == 0  # the player's map gets nothing from it
    assert conv.weight.grad[1].abs().max() > 0
    assert net.keypoint_net.near_log_lambda.grad is not None  # type: ignore[union-attr]


def test_near_prior_is_minus_lambda_times_the_squared_distance() -> None:
    prior = near_prior(torch.tensor([-1.0]), torch.tensor([-1.0]), torch.log(torch.tensor([2.0, 5.0])), 3, 3)
    assert prior.shape == (1, 2, 9)
    assert prior[0, 0, 0] == 0 and torch.isclose(prior[0, 0, 8], torch.tensor(-2.0 * 8))  # corner to corner
    assert torch.isclose(prior[0, 1, 4], torch.tensor(-5.0 * 2))  # to the centre


def test_near_player_keypoints_widen_the_encoding_train_and_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = replace(SMALL, near_player_keypoints=2, motion_features=True, relative_motion=True)
    net = BehaviourNet(replace(config, batch_norm=True))
    frames = torch.randint(0, 256, (8, 3, 84, 84), dtype=torch.uint8)
    windows = frames.reshape(2, 12, 84, 84)
    logits = net(windows)
    logits.sum().backward()
    assert logits.shape == (2, 6)
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    net.eval()
    with torch.no_grad():
        encoded = net.encode_frames(frames)
    assert encoded.shape == (8, 4 * (4 + 1 + 2))
    player = encoded.view(8, 4, 7)[:, :2, 4]  # x and y rows, the first fine keypoint
    assert torch.equal(fine_keypoint_xy(encoded, config), player)  # the near ones come after it
    save_behaviour_model(tmp_path, net)
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.near_player_keypoints == 2
    with torch.no_grad():
        assert torch.allclose(loaded.net(windows), net(windows), atol=1e-5)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"near_player_keypoints": -1}, "near_player_keypoints must be an int in"),
        ({"near_player_keypoints": 1, "fine_keypoints": 0}, "near_player_keypoints needs the keypoints"),
    ],
)
def test_near_player_keypoints_need_a_player_keypoint(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(SMALL, **fields)


def test_the_training_option_reaches_the_network() -> None:
    manifest = {
        "capture": {"frame_size": [84, 84], "sample_fps": 5.0},
        "class_names": list(SMALL.class_names),
    }
    frames = np.zeros((4, 84, 84, 3), dtype=np.uint8)
    built = net_config(BehaviourTrainConfig(near_player_keypoints=1), manifest, frames)
    assert built.near_player_keypoints == 1
    shipped = net_config(BehaviourTrainConfig(), manifest, frames)  # the defaults fit the shipped model
    assert shipped.near_player_keypoints == 2
    assert BehaviourTrainConfig(architecture="nature", near_player_keypoints=2).near_player_keypoints == 0
