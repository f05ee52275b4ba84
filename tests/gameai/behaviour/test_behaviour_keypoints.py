"""The keypoints architecture: spatial softmax finds things, frames are encoded independently,
half-precision storage, the first conv's stride, full-resolution keypoints, motion features,
mirror averaging, ensembles, and configs written before those fields still load."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from gameai.behaviour.model import (
    BehaviourNet,
    BehaviourNetConfig,
    SpatialSoftmax,
    ensemble_of,
    load_behaviour_model,
    motion_features,
    relative_motion_features,
    save_behaviour_model,
)

SMALL = BehaviourNetConfig(architecture="keypoints", frames_per_window=6, conv_channels=(8, 8, 8), hidden=16)


def test_spatial_softmax_points_at_the_bright_spot() -> None:
    maps = torch.zeros(1, 2, 21, 21)
    maps[0, 0, 5, 15] = 50.0  # row 5 (y), column 15 (x)
    maps[0, 1, 20, 0] = 50.0
    out = SpatialSoftmax(2)(maps)
    x, y, peak, mean = out[0, :2], out[0, 2:4], out[0, 4:6], out[0, 6:8]
    assert torch.allclose(x, torch.tensor([15 / 10 - 1, -1.0]), atol=1e-3)
    assert torch.allclose(y, torch.tensor([5 / 10 - 1, 1.0]), atol=1e-3)
    assert torch.allclose(peak, torch.tensor([50.0, 50.0])) and torch.allclose(
        mean, torch.tensor([50 / 441] * 2)
    )


def test_window_logits_equal_classifying_separately_encoded_frames() -> None:
    torch.manual_seed(0)
    net = BehaviourNet(SMALL).eval()
    frames = torch.randint(0, 256, (9, 3, 84, 84), dtype=torch.uint8)
    windows = torch.stack([frames[i : i + 6].reshape(18, 84, 84) for i in range(4)])  # (4, K*3, H, W)
    with torch.no_grad():
        direct = net(windows)
        encoded = net.encode_frames(frames)  # (9, 4C): every frame once
        reused = net.classify_encoded(torch.stack([encoded[i : i + 6] for i in range(4)]))
    assert direct.shape == (4, 6)
    assert torch.allclose(direct, reused, atol=1e-5)


def test_inference_in_pieces_equals_one_pass() -> None:
    torch.manual_seed(0)
    net = BehaviourNet(SMALL).eval()
    frames = torch.randint(0, 256, (2 * BehaviourNet.CPU_ENCODE_CHUNK + 3, 3, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        pieces = net.encode_frames(frames)  # CPU, no gradients: encoded a piece at a time
    one_pass = net.encode_frames(frames).detach()  # gradients on: one pass
    assert torch.allclose(pieces, one_pass, atol=1e-5)


def test_frame_order_matters() -> None:
    torch.manual_seed(0)
    net = BehaviourNet(SMALL).eval()
    frames = torch.randint(0, 256, (6, 3, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        forward = net(frames.reshape(1, 18, 84, 84))
        backward = net(frames.flip(0).reshape(1, 18, 84, 84))
    assert not torch.allclose(forward, backward)


def test_half_precision_weights_load_into_a_float32_net(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = BehaviourNet(SMALL).eval()
    save_behaviour_model(tmp_path, net.to(torch.float16), metadata={"weights_dtype": "float16"})
    loaded = load_behaviour_model(tmp_path)
    assert all(p.dtype == torch.float32 for p in loaded.net.parameters())
    x = torch.randint(0, 256, (2, 18, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        reference = BehaviourNet(SMALL).eval()
        reference.load_state_dict({k: v.float() for k, v in net.state_dict().items()})
        assert torch.allclose(loaded.net(x), reference(x), atol=1e-5)
    assert (tmp_path / "model.safetensors").stat().st_size < 0.6 * 4 * sum(
        p.numel() for p in loaded.net.parameters()
    )


def test_configs_without_an_architecture_are_nature_nets(tmp_path: Path) -> None:
    save_behaviour_model(tmp_path, BehaviourNet(BehaviourNetConfig(conv_channels=(8, 8, 8), hidden=16)))
    data = json.loads((tmp_path / "config.json").read_text())
    del data["config"]["architecture"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.architecture == "nature" and loaded.net.keypoint_net is None


def test_stride_two_gives_keypoint_maps_twice_as_fine() -> None:
    frames = torch.randint(0, 256, (3, 3, 84, 84), dtype=torch.uint8)
    for stride, side in ((4, 21), (2, 42)):
        net = BehaviourNet(replace(SMALL, first_conv_stride=stride)).eval()
        with torch.no_grad():
            maps = net.keypoint_net.frame_features(net.normalise(frames))  # type: ignore[union-attr]
            points = net.encode_frames(frames)
        assert maps.shape == (3, 8, side, side)
        assert points.shape == (3, 4 * 8)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"first_conv_stride": 3}, "first_conv_stride must be 1, 2 or 4"),
        ({"architecture": "nature", "first_conv_stride": 2}, "needs the keypoints architecture"),
        ({"fine_keypoints": -1}, "fine_keypoints must be an int in"),
        ({"architecture": "nature", "fine_keypoints": 2}, "need the keypoints architecture"),
        ({"architecture": "nature", "motion_features": True}, "need the keypoints architecture"),
        ({"relative_motion": True}, "relative_motion needs the keypoints architecture and fine_keypoints"),
        ({"ensemble_members": 0}, "ensemble_members must be an int in"),
        ({"architecture": "nature", "ensemble_members": 2}, "ensemble_members > 1 needs the keypoints"),
    ],
)
def test_unsupported_shapes_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(SMALL, **fields)


def test_configs_without_a_stride_have_the_first_shipped_stride_of_four(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = BehaviourNet(SMALL).eval()
    save_behaviour_model(tmp_path, net)
    data = json.loads((tmp_path / "config.json").read_text())
    added_later = ("first_conv_stride", "fine_keypoints", "motion_features", "relative_motion")
    added_later += ("mirror_average",)
    for field in added_later:
        del data["config"][field]
    (tmp_path / "config.json").write_text(json.dumps(data))
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.first_conv_stride == 4 and loaded.config.fine_keypoints == 0
    assert not loaded.config.motion_features and not loaded.config.relative_motion
    assert not loaded.config.mirror_average
    x = torch.randint(0, 256, (1, 18, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(loaded.net(x), net(x), atol=1e-6)


def test_a_stride_two_model_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = BehaviourNet(replace(SMALL, first_conv_stride=2)).eval()
    save_behaviour_model(tmp_path, net)
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.first_conv_stride == 2
    x = torch.randint(0, 256, (2, 18, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(loaded.net(x), net(x), atol=1e-6)


def test_fine_keypoints_place_a_small_disc_to_a_fraction_of_a_pixel() -> None:
    """A red disc between pixel centres: the full-resolution keypoint lands between them too,
    where a 21x21 map could only say which 4-pixel cell it is in."""
    net = BehaviourNet(replace(SMALL, fine_keypoints=2)).eval()
    fine = net.keypoint_net.fine_features  # type: ignore[union-attr]
    assert fine is not None
    with torch.no_grad():
        fine.weight.zero_()
        fine.bias.zero_()
        fine.weight[:, 0, 1, 1] = 40.0  # both maps: the red channel at the centre tap
    frame = torch.zeros(1, 3, 84, 84, dtype=torch.uint8)
    frame[0, 0, 30:32, 50:53] = 255  # rows 30-31, columns 50-52: centre (30.5, 51)
    with torch.no_grad():
        points = net.encode_frames(frame).view(4, -1)  # x, y, peak, mean rows; coarse maps first
    x, y = points[0, 8:], points[1, 8:]
    to_pixels = 83 / 2
    assert torch.allclose((x + 1) * to_pixels, torch.tensor([51.0, 51.0]), atol=0.05)
    assert torch.allclose((y + 1) * to_pixels, torch.tensor([30.5, 30.5]), atol=0.05)


def test_fine_keypoints_extend_the_coarse_encoding() -> None:
    torch.manual_seed(0)
    plain = BehaviourNet(SMALL).eval()
    fine = BehaviourNet(replace(SMALL, fine_keypoints=3)).eval()
    coarse_stack = {k: v for k, v in plain.state_dict().items() if ".head." not in k}
    fine.load_state_dict(coarse_stack, strict=False)  # the same coarse stack
    frames = torch.randint(0, 256, (5, 3, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        coarse = plain.encode_frames(frames).view(5, 4, 8)
        both = fine.encode_frames(frames).view(5, 4, 11)
        logits = fine(torch.cat([frames, frames[:1]]).reshape(1, 18, 84, 84))
    assert torch.allclose(both[:, :, :8], coarse, atol=1e-6)
    assert logits.shape == (1, 6)


def test_a_fine_keypoint_model_with_motion_features_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = BehaviourNet(replace(SMALL, fine_keypoints=4, motion_features=True)).eval()
    save_behaviour_model(tmp_path, net)
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.fine_keypoints == 4 and loaded.config.motion_features
    x = torch.randint(0, 256, (2, 18, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(loaded.net(x), net(x), atol=1e-6)


def test_motion_features_measure_speed_and_the_eight_compass_directions() -> None:
    angles = torch.tensor([0.0, math.pi / 4, math.pi / 8, math.pi / 2 + math.pi / 8])
    dx = (3.0 * torch.cos(angles)).view(1, 4, 1)  # one keypoint, four steps of length 3
    dy = (3.0 * torch.sin(angles)).view(1, 4, 1)
    speed, heading, mean_speed, speed_spread, mean_heading = motion_features(dx, dy)
    assert torch.allclose(speed, torch.full((1, 4), 3.0), atol=1e-5)
    snapped = math.tanh(3.0)
    assert torch.allclose(heading, torch.tensor([[snapped, snapped, -snapped, -snapped]]), atol=1e-5)
    assert torch.allclose(mean_speed, torch.tensor([[3.0]]), atol=1e-5)
    assert speed_spread.abs().max() < 1e-4 and mean_heading.abs().max() < 1e-5
    still = motion_features(torch.zeros(1, 4, 1), torch.zeros(1, 4, 1))[1]
    assert still.abs().max() < 1e-2  # no heading for a keypoint that does not move


def test_motion_features_feed_the_head_and_train_without_nan() -> None:
    torch.manual_seed(0)
    net = BehaviourNet(replace(SMALL, fine_keypoints=1, motion_features=True))
    frames = torch.zeros(2, 18, 84, 84, dtype=torch.uint8)  # nothing moves: every step is zero
    logits = net(frames)
    logits.sum().backward()
    grads = [p.grad for p in net.parameters() if p.grad is not None]
    assert logits.shape == (2, 6) and grads and all(torch.isfinite(g).all() for g in grads)
    plain = BehaviourNet(replace(SMALL, fine_keypoints=1))
    head_inputs = {n.keypoint_net.head[1].in_features for n in (net, plain)}  # type: ignore[union-attr,index]
    assert len(head_inputs) == 2  # the motion features widen the head's input


def test_relative_motion_tells_closing_in_from_strafing() -> None:
    # keypoint 0 is the player; it steps +0.1 in x every frame. Keypoint 1 sits ahead of it on
    # the x axis (the player closes in), keypoint 2 beside it on the y axis (the player strafes).
    k = 3
    x = torch.tensor([[[0.1 * t, 1.0, 0.1 * t] for t in range(k)]])  # (1, K, 3)
    y = torch.tensor([[[0.0, 0.0, 0.5] for _ in range(k)]])
    dx, dy = (x[:, 1:] - x[:, :-1]) * 10.0, (y[:, 1:] - y[:, :-1]) * 10.0
    features = relative_motion_features(x, y, dx, dy, player=0, step_scale=10.0)
    mean_distance, towards, across, closing, mean_towards, mean_across, mean_closing = features
    towards, across = towards.view(k - 1, 3), across.view(k - 1, 3)
    assert torch.allclose(towards[:, 1], torch.ones(k - 1), atol=1e-4)  # straight at it: a full step
    assert across[:, 1].abs().max() < 1e-4
    assert towards[:, 2].abs().max() < 1e-4 and torch.allclose(across[:, 2], torch.ones(k - 1), atol=1e-4)
    assert torch.allclose(closing.view(k - 1, 3)[:, 1], torch.ones(k - 1), atol=1e-3)  # 0.1 closer, x10
    assert closing.view(k - 1, 3)[:, 2].abs().max() < 1e-4  # alongside: the distance stays 0.5
    assert torch.allclose(mean_distance[0, 2], torch.tensor(0.5), atol=1e-4)
    assert mean_towards[0, 1] > 0.99 and mean_across[0, 2] > 0.99 and mean_closing[0, 1] > 0.99
    assert mean_towards[0, 0].abs() < 1e-4  # the player relative to itself: nothing


def test_a_relative_motion_model_trains_without_nan_and_round_trips(tmp_path: Path) -> None:
    torch.manual_seed(0)
    config = replace(SMALL, fine_keypoints=1, motion_features=True, relative_motion=True)
    net = BehaviourNet(config)
    logits = net(torch.zeros(2, 18, 84, 84, dtype=torch.uint8))  # nothing moves, all at one spot
    logits.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    plain = BehaviourNet(replace(config, relative_motion=False))
    widths = {n.keypoint_net.head[1].in_features for n in (net, plain)}  # type: ignore[union-attr,index]
    assert len(widths) == 2
    save_behaviour_model(tmp_path, net.eval())
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.relative_motion
    x = torch.randint(0, 256, (2, 18, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(loaded.net(x), net(x), atol=1e-6)


@pytest.mark.parametrize(
    "config",
    [
        replace(SMALL, fine_keypoints=1, motion_features=True, relative_motion=True, batch_norm=True),
        BehaviourNetConfig(frames_per_window=2, conv_channels=(4, 8, 8), hidden=16),
    ],
    ids=["keypoints", "nature"],
)
def test_mirror_average_serves_the_mean_of_a_window_and_its_mirror_image(config: BehaviourNetConfig) -> None:
    torch.manual_seed(0)
    plain = BehaviourNet(config).eval()
    mirrored = BehaviourNet(replace(config, mirror_average=True)).eval()
    mirrored.load_state_dict(plain.state_dict())
    channels = 3 * config.frames_per_window
    x = torch.randint(0, 256, (3, channels, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        expected = 0.5 * (plain(x) + plain(x.flip(-1)))
        served = mirrored(x)
    assert not torch.allclose(plain(x), plain(x.flip(-1)), atol=1e-3)  # the mirror image does differ
    assert torch.allclose(served, expected, atol=1e-5)
    if config.architecture == "keypoints":
        frames = x[0].view(config.frames_per_window, 3, 84, 84)
        with torch.no_grad():
            encoded = mirrored.encode_frames(frames)
            width = plain.encode_frames(frames).shape[1]
            assert encoded.shape[1] == 2 * width  # each frame's encoding and its mirror image's
            assert torch.allclose(mirrored.classify_encoded(encoded[None]), served[:1], atol=1e-5)
        mirrored.train()  # training sees single encodings
        assert mirrored.encode_frames(frames).shape[1] == width


@pytest.mark.parametrize("mirror_average", [False, True], ids=["plain", "mirror"])
def test_an_ensemble_serves_the_mean_of_its_members_logits(mirror_average: bool, tmp_path: Path) -> None:
    config = replace(SMALL, fine_keypoints=1, motion_features=True, relative_motion=True, batch_norm=True)
    members = []
    for seed in range(3):
        torch.manual_seed(seed)
        net = BehaviourNet(replace(config, mirror_average=mirror_average))
        net.train()(torch.randint(0, 256, (4, 18, 84, 84), dtype=torch.uint8))  # batch-norm statistics move
        members.append(net.eval())
    ensemble = ensemble_of(members, mirror_average=mirror_average)
    assert ensemble.config.ensemble_members == 3 and ensemble.config.mirror_average == mirror_average
    x = torch.randint(0, 256, (3, 18, 84, 84), dtype=torch.uint8)
    frames = x[0].view(6, 3, 84, 84)
    with torch.no_grad():
        each = [net(x) for net in members]
        served = ensemble(x)
        encoded = ensemble.encode_frames(frames)
        width = members[0].encode_frames(frames).shape[1]
        assert encoded.shape[1] == 3 * width  # the members' encodings side by side
        assert torch.allclose(ensemble.classify_encoded(encoded[None]), served[:1], atol=1e-5)
    assert not torch.allclose(each[0], each[1], atol=1e-3)  # the members do differ
    assert torch.allclose(served, torch.stack(each).mean(dim=0), atol=1e-5)
    save_behaviour_model(tmp_path, ensemble)
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.ensemble_members == 3
    with torch.no_grad():
        assert torch.allclose(loaded.net(x), served, atol=1e-6)


def test_a_one_member_ensemble_is_the_network_under_the_same_weight_names() -> None:
    torch.manual_seed(0)
    net = BehaviourNet(SMALL).eval()
    alone = ensemble_of([net], mirror_average=False)
    assert alone.config == net.config
    assert alone.state_dict().keys() == net.state_dict().keys()  # old single-model files still load
    x = torch.randint(0, 256, (2, 18, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.allclose(alone(x), net(x), atol=1e-6)


def test_ensembles_of_unlike_networks_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        ensemble_of([], mirror_average=False)
    with pytest.raises(ValueError, match="share one config"):
        ensemble_of([BehaviourNet(SMALL), BehaviourNet(replace(SMALL, hidden=8))], mirror_average=False)
    nature = BehaviourNet(BehaviourNetConfig(frames_per_window=2, conv_channels=(4, 8, 8), hidden=16))
    with pytest.raises(ValueError, match="single keypoints networks"):
        ensemble_of([nature], mirror_average=False)
    pair = ensemble_of([BehaviourNet(SMALL), BehaviourNet(SMALL)], mirror_average=False)
    with pytest.raises(ValueError, match="single keypoints networks"):
        ensemble_of([pair, BehaviourNet(SMALL)], mirror_average=False)
