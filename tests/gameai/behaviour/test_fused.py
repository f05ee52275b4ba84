"""FusedBehaviourNet gives the trained network's numbers, in its layout, for every keypoints shape."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch
from torch import nn

from gameai.behaviour.fused import FusedBehaviourNet
from gameai.behaviour.model import BehaviourNet, BehaviourNetConfig

BASE = BehaviourNetConfig(
    architecture="keypoints", frames_per_window=5, conv_channels=(8, 12, 6), hidden=16, frame_size=(40, 44)
)
SHAPES = {
    "coarse only": BASE,
    "batch norm, fine, motion": replace(BASE, batch_norm=True, fine_keypoints=3, motion_features=True),
    "shipped shape, 2 members": replace(
        BASE,
        batch_norm=True,
        fine_keypoints=4,
        near_player_keypoints=2,
        motion_features=True,
        relative_motion=True,
        ensemble_members=2,
    ),
    "3 members, stride 2, mirrored": replace(
        BASE,
        fine_keypoints=2,
        near_player_keypoints=1,
        relative_motion=True,
        first_conv_stride=2,
        ensemble_members=3,
        mirror_average=True,
    ),
}


def trained_looking(config: BehaviourNetConfig, seed: int = 0) -> BehaviourNet:
    """A network with random weights and batch-norm statistics far from the identity, in eval mode."""
    torch.manual_seed(seed)
    net = BehaviourNet(config)
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.BatchNorm1d | nn.BatchNorm2d):
                assert module.running_mean is not None and module.running_var is not None
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.3, 0.3)
        for name, parameter in net.named_parameters():
            if name.endswith("log_temperature") or name.endswith("near_log_lambda"):
                parameter.add_(torch.rand_like(parameter))
    return net.eval()


def frames(count: int, config: BehaviourNetConfig, seed: int = 1) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (count, 3, *config.frame_size), dtype=torch.uint8, generator=generator)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_fused_encodings_and_logits_are_the_networks(shape: str) -> None:
    config = SHAPES[shape]
    net = trained_looking(config)
    fused = FusedBehaviourNet(net)
    k = config.frames_per_window
    pixels = frames(3 * k + 11, config)  # more than one CPU piece of frames
    with torch.inference_mode():
        expected = net.encode_frames(pixels)
        encoded = fused.encode_frames(pixels)
        assert encoded.shape == expected.shape
        torch.testing.assert_close(encoded, expected, rtol=1e-4, atol=1e-5)
        windows = torch.stack([expected[i : i + k] for i in range(0, 2 * k + 9, 3)])  # (B, K, width)
        logits = fused.classify_encoded(windows)
        torch.testing.assert_close(logits, net.classify_encoded(windows), rtol=1e-4, atol=1e-4)
        whole = pixels[: 2 * k].reshape(2, k * 3, *config.frame_size)
        from_frames = fused.classify_encoded(fused.encode_frames(pixels[: 2 * k]).view(2, k, -1))
        torch.testing.assert_close(from_frames, net(whole), rtol=1e-4, atol=1e-4)


def test_every_member_counts() -> None:
    """A change to the weights of the last member (only) changes the fused logits."""
    config = SHAPES["shipped shape, 2 members"]
    net = trained_looking(config)
    k = config.frames_per_window
    pixels = frames(2 * k, config)
    before = FusedBehaviourNet(net)
    with torch.no_grad():
        for parameter in net.other_members[-1].parameters():
            parameter.mul_(1.5)
    after = FusedBehaviourNet(net)
    with torch.inference_mode():
        old = before.classify_encoded(before.encode_frames(pixels).view(2, k, -1))
        new = after.classify_encoded(after.encode_frames(pixels).view(2, k, -1))
        assert (old - new).abs().max() > 1e-3
        torch.testing.assert_close(new, net.classify_encoded(net.encode_frames(pixels).view(2, k, -1)))


def test_the_fused_net_holds_copies() -> None:
    config = SHAPES["batch norm, fine, motion"]
    net = trained_looking(config)
    k = config.frames_per_window
    pixels = frames(k, config)
    fused = FusedBehaviourNet(net)
    with torch.inference_mode():
        before = fused.classify_encoded(fused.encode_frames(pixels).view(1, k, -1))
    with torch.no_grad():
        for parameter in net.parameters():
            parameter.zero_()
    with torch.inference_mode():
        torch.testing.assert_close(fused.classify_encoded(fused.encode_frames(pixels).view(1, k, -1)), before)


def test_nature_networks_are_refused() -> None:
    with pytest.raises(ValueError, match="keypoints"):
        FusedBehaviourNet(BehaviourNet(BehaviourNetConfig(frames_per_window=2)))
