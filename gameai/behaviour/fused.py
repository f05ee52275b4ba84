"""A trained keypoints :class:`BehaviourNet` rebuilt for serving: the same numbers, fewer calls.

Serving classifies a few windows at a time (each session's newest frame), so on CPU what a
batch costs is largely the number of torch calls and the memory they touch, not their
arithmetic: the network makes about a hundred calls per ensemble member to encode frames and
as many to classify windows. :class:`FusedBehaviourNet` takes the trained weights and

* folds every batch norm into its neighbouring layer (in eval mode a batch norm is an affine
  map): the convs' into the conv before them, the head's into the linear layer after it;
* runs the members' layers side by side as one: their first convs and their full-resolution
  convs read the same pixels, so their filters become one conv; the second and third convs
  become grouped convs (one group per member); the spatial softmaxes run over all members'
  maps at once;
* computes the window features (steps, motion, relative motion) once for all members, with
  the members stacked along the batch.

Its :meth:`~FusedBehaviourNet.encode_frames` and :meth:`~FusedBehaviourNet.classify_encoded`
give what the network's own methods give, in the same layout, to float rounding (tests in
``tests/gameai/behaviour/test_fused.py``). It holds copies of the weights: build it again
after the network changes. The server's ``BehaviourClassifier`` serves through it; training
and ``eval`` use the network itself. Its speed: ``gameai bench behaviour`` (figures in
``docs/behaviour.md``, section *Speed*).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from gameai.behaviour.model import BehaviourNet, KeypointHead, near_prior, position_grid, spatial_keypoints


def _batch_norm_affine(norm: nn.Module) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(scale, shift)`` of the affine map a batch norm applies in eval mode; None for anything else."""
    if not isinstance(norm, nn.BatchNorm1d | nn.BatchNorm2d):
        return None
    running_mean, running_var = norm.running_mean, norm.running_var
    if running_mean is None or running_var is None:
        raise ValueError("batch norm without running statistics cannot be folded")
    scale = norm.weight.detach() / torch.sqrt(running_var + norm.eps)
    return scale, norm.bias.detach() - running_mean * scale


def _folded_conv(conv: nn.Module | None, norm: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of ``conv`` followed by ``norm`` (batch norm in eval mode, or identity)."""
    if not isinstance(conv, nn.Conv2d):
        raise TypeError(f"expected a Conv2d, got {type(conv).__name__}")
    weight = conv.weight.detach().clone()
    bias = conv.bias.detach().clone() if conv.bias is not None else torch.zeros_like(weight[:, 0, 0, 0])
    affine = _batch_norm_affine(norm)
    if affine is not None:
        scale, shift = affine
        weight = weight * scale.view(-1, 1, 1, 1)
        bias = bias * scale + shift
    return weight, bias


def _folded_linear(norm: nn.Module, linear: nn.Linear) -> tuple[torch.Tensor, torch.Tensor]:
    """``(out, in)`` weight and ``(out,)`` bias of ``norm`` (batch norm in eval mode, or identity)
    followed by ``linear``."""
    weight = linear.weight.detach().clone()  # (out, in)
    bias = linear.bias.detach().clone()
    affine = _batch_norm_affine(norm)
    if affine is not None:
        scale, shift = affine
        bias = bias + weight @ shift
        weight = weight * scale.view(1, -1)
    return weight, bias


def _stacked(parts: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat(parts).contiguous()


class FusedBehaviourNet:
    """A keypoints network (one or an ensemble) as one set of fused layers, for inference only.

    Args:
        net: A trained keypoints :class:`BehaviourNet`; its weights are copied (its batch
            norms' running statistics are used, whatever mode it is in).
        hidden_dtype: The number type of the heads' first layers (:attr:`hidden_dtype`).

    Raises:
        ValueError: If ``net`` is not of the keypoints architecture.
    """

    def __init__(self, net: BehaviourNet, hidden_dtype: torch.dtype = torch.float32) -> None:
        if net.keypoint_net is None:
            raise ValueError("FusedBehaviourNet needs the keypoints architecture")
        config = net.config
        members: list[KeypointHead] = net._members()
        self.config = config
        self.members = len(members)
        self.mirror_average = config.mirror_average
        self.features_of = members[0]
        """Computes the window features (no weights of its own are read)."""
        self.coarse = config.conv_channels[2]
        self.fine = config.fine_keypoints
        self.near = config.near_player_keypoints
        self.pixel_mean = net.pixel_mean[:, :3].clone()
        self.pixel_std = net.pixel_std[:, :3].clone()

        convs = [member.frame_features for member in members]
        first = [_folded_conv(c[0], c[1]) for c in convs]
        second = [_folded_conv(c[3], c[4]) for c in convs]
        third = [_folded_conv(c[6], nn.Identity()) for c in convs]
        first_conv = convs[0][0]
        assert isinstance(first_conv, nn.Conv2d) and isinstance(first_conv.padding, tuple)
        self.first_stride, self.first_padding = first_conv.stride, first_conv.padding
        self.first_weight = _stacked([w for w, _ in first])
        self.first_bias = _stacked([b for _, b in first])
        self.second_weight = _stacked([w for w, _ in second])
        self.second_bias = _stacked([b for _, b in second])
        self.third_weight = _stacked([w for w, _ in third])
        self.third_bias = _stacked([b for _, b in third])
        temperature = [member.keypoints.log_temperature.detach().exp() for member in members]
        self.coarse_temperature = _stacked(temperature).view(1, -1, 1)
        if self.fine:
            fine_convs = [_folded_conv(member.fine_features, nn.Identity()) for member in members]
            self.fine_weight = _stacked([w for w, _ in fine_convs])
            self.fine_bias = _stacked([b for _, b in fine_convs])
            fine_temperature = [p.log_temperature.detach().exp() for m in members if (p := m.fine_points)]
            self.fine_temperature = torch.stack(fine_temperature).view(1, self.members, -1, 1)
        if self.near:
            near_temperature = [p.log_temperature.detach().exp() for m in members if (p := m.near_points)]
            self.near_temperature = torch.stack(near_temperature).view(1, self.members, -1, 1)
            near_lambda = torch.stack([member.near_log_lambda.detach().exp() for member in members])
            self.near_lambda = near_lambda.view(1, self.members, -1, 1)
            self.no_pull = torch.zeros(1, device=near_lambda.device)  # log 1: near_prior's -d**2 alone

        heads = [member.head for member in members]
        hidden = [_folded_linear(head[0], head[1]) for head in heads]  # type: ignore[arg-type]
        output = [_folded_linear(nn.Identity(), head[4]) for head in heads]  # type: ignore[arg-type]
        self.hidden_dtype = hidden_dtype
        """The number type of the heads' first layers and of the window features they read:
        float32, or bfloat16 (half the memory each batch reads: see
        :func:`gameai.runtime.device.behaviour_head_dtype`); their outputs are float32 again."""
        self.hidden_layers = [(weight.to(hidden_dtype), bias.to(hidden_dtype)) for weight, bias in hidden]
        """Per member: the head's first linear layer with its batch norm folded in: ``(out, in)``
        weight, bias."""
        self.output_layers = output
        """Per member: the head's output layer."""

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Keypoints of single frames, as :meth:`BehaviourNet.encode_frames` (eval mode) gives them.

        Args:
            frames: ``(N, 3, H, W)`` uint8 pixels (or floats in [0, 1]).

        Returns:
            ``(N, M*4C)`` (``(N, M*8C)`` with ``mirror_average``): each member's encoding, side
            by side.
        """
        chunk = BehaviourNet.CPU_ENCODE_CHUNK
        if frames.device.type == "cpu" and len(frames) > chunk:  # see BehaviourNet.encode_frames
            return torch.cat([self._encode(frames[i : i + chunk]) for i in range(0, len(frames), chunk)])
        return self._encode(frames)

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        x = frames.float().mul_(1.0 / 255.0) if frames.dtype == torch.uint8 else frames
        x = (x - self.pixel_mean) / self.pixel_std  # (N, 3, H, W)
        n = len(x)
        if not self.mirror_average:
            return self._encode_normalised(x).reshape(n, -1)
        both = self._encode_normalised(torch.cat([x, x.flip(-1)]))  # (2N, M, 4, C)
        return both.reshape(2, n, self.members, -1).permute(1, 2, 0, 3).reshape(n, -1)

    def _encode_normalised(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised frames -> ``(N, M, 4, C)``: x, y, peak and mean per member."""
        n, m = len(x), self.members
        h = functional.relu(
            functional.conv2d(x, self.first_weight, self.first_bias, self.first_stride, self.first_padding)
        )
        h = functional.relu(functional.conv2d(h, self.second_weight, self.second_bias, padding=1, groups=m))
        h = functional.conv2d(h, self.third_weight, self.third_bias, groups=m)  # (N, M*c3, h, w)
        flat = h.flatten(2)  # (N, M*c3, h*w)
        grid_x, grid_y = position_grid(h.shape[2], h.shape[3], flat)
        parts = [spatial_keypoints(flat, self.coarse_temperature, grid_x, grid_y).view(n, 4, m, self.coarse)]
        if self.fine:
            maps = functional.conv2d(
                x, self.fine_weight, self.fine_bias, padding=1
            )  # (N, M*(fine+near), H, W)
            height, width = maps.shape[2], maps.shape[3]
            grid_x, grid_y = position_grid(height, width, maps)
            per_member = maps.view(n, m, self.fine + self.near, height * width)
            fine = spatial_keypoints(
                per_member[:, :, : self.fine], self.fine_temperature, grid_x, grid_y
            )  # (N, 4, M, f)
            parts.append(fine)
            if self.near:
                player_x, player_y = fine[:, 0, :, 0].reshape(-1), fine[:, 1, :, 0].reshape(-1)  # (N*M,)
                minus_d2 = near_prior(player_x, player_y, self.no_pull, height, width)  # (N*M, 1, H*W)
                prior = minus_d2.view(n, m, 1, height * width) * self.near_lambda  # (N, M, near, H*W)
                near_maps = per_member[:, :, self.fine :]
                parts.append(spatial_keypoints(near_maps, self.near_temperature, grid_x, grid_y, prior))
        return torch.cat(parts, dim=3).transpose(1, 2)  # (N, M, 4, C)

    def classify_encoded(self, points: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)`` of windows of frame encodings ``(B, K, M*4C)`` (or
        ``M*8C`` with ``mirror_average``), oldest first, as :meth:`BehaviourNet.classify_encoded`."""
        b, k, width = points.shape
        m = self.members
        single = 4 * self.config.keypoints_per_frame
        views = width // (m * single)  # 2: each window and its mirror image
        stacked = points.view(b, k, m, views, single).permute(2, 3, 0, 1, 4).reshape(m * views * b, k, single)
        features = self.features_of.window_features(stacked).view(m, views * b, -1)  # (M, V*B, F)
        features = features.to(self.hidden_dtype)
        logits = [
            functional.linear(
                torch.relu(functional.linear(member_features, *hidden)).float(), *output
            )  # (V*B, n)
            for member_features, hidden, output in zip(
                features, self.hidden_layers, self.output_layers, strict=True
            )
        ]
        return torch.stack(logits).view(m * views, b, -1).mean(dim=0)
