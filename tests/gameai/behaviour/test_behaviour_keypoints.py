"""The keypoints architecture: spatial softmax finds things, frames are encoded independently,
half-precision storage, the first conv's stride, and configs written before the architecture
and stride fields still load."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch

from gameai.behaviour.model import (
    BehaviourNet,
    BehaviourNetConfig,
    SpatialSoftmax,
    load_behaviour_model,
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
    ],
)
def test_unsupported_strides_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        replace(SMALL, **fields)


def test_configs_without_a_stride_have_the_first_shipped_stride_of_four(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = BehaviourNet(SMALL).eval()
    save_behaviour_model(tmp_path, net)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["config"]["first_conv_stride"] == 4
    del data["config"]["first_conv_stride"]
    (tmp_path / "config.json").write_text(json.dumps(data))
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config.first_conv_stride == 4
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
