"""The behaviour CNN: K stacked downscaled frames -> player behaviour logits.

Serving format (the contract with the training code): a directory, by default
``assets/behaviour/``, holding

* ``model.safetensors``: the :class:`BehaviourNet` state dict;
* ``config.json``: ``{"format": "gameai-behaviour", "format_version": 1,
  "config": {...BehaviourNetConfig fields...}, "metadata": {...free-form...}}``.

Write it with :func:`save_behaviour_model`, read it with :func:`load_behaviour_model`.

Two architectures (``BehaviourNetConfig.architecture``):

* ``nature``: the Nature-DQN shape: the K frames stacked as channels, three convs, a fully
  connected layer over the flattened feature map.
* ``keypoints``: one small conv stack applied to every frame (shared weights: 8x8 of stride
  ``first_conv_stride``, 3x3, then a 1x1 conv to ``conv_channels[2]`` keypoint maps), a spatial
  softmax that turns each of its ``conv_channels[2]`` maps into an expected ``(x, y)`` position
  with its peak and mean activation, and a fully connected head over those K trajectories and their
  frame-to-frame steps. Objects a few pixels wide (the player, enemies, bullets) become
  coordinates, so motion and distances are explicit and nothing is tied to where on the screen
  they happen (the shipped model's architecture; ``docs/behaviour.md``). With
  ``fine_keypoints`` some keypoints come from maps at the frame's full resolution (one conv on
  the pixels), so that a small object's position is known to a fraction of a pixel. With
  ``ensemble_members`` several such networks, trained apart, are served as one: the mean of
  their logits.

Input layout: a window is the ``K = frames_per_window`` most recent frames, oldest
first, each ``(H, W, 3)`` uint8 RGB as produced by
:func:`gameai.client.frames.downscale_frame`. :func:`frames_to_input` turns windows
``(B, K, H, W, 3)`` into the network input ``(B, K*3, H, W)``: channels ``3k..3k+2``
are frame ``k``'s R, G, B.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import torch
from torch import nn

from gameai.behaviour.look import UNKNOWN
from gameai.model_files import (
    WEIGHTS_HASH_KEY,
    ModelLoadError,
    check_weights_hash,
    config_from_dict,
    config_to_dict,
    file_version,
    load_weights,
    read_json,
    save_weights,
    sha256_of,
    write_json,
)
from gameai.vocabulary import BEHAVIOURS

FORMAT: Final = "gameai-behaviour"
FORMAT_VERSION: Final = 1
WEIGHTS_FILE: Final = "model.safetensors"
CONFIG_FILE: Final = "config.json"


@dataclass(frozen=True)
class BehaviourNetConfig:
    """Shape, preprocessing and widths of the behaviour CNN (saved beside its weights)."""

    frame_size: tuple[int, int] = (84, 84)
    """(height, width) of each frame in pixels; clients downscale to this."""
    frames_per_window: int = 4
    """K: how many consecutive frames one classification looks at."""
    channels: int = 3
    """Colour channels per frame (RGB)."""
    class_names: tuple[str, ...] = BEHAVIOURS
    """Behaviour labels in output order."""
    sample_fps: float = 5.0
    """Frames per second the model was trained on; clients send frames at this rate."""
    pixel_mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Per-channel mean subtracted after scaling pixels to [0, 1]."""
    pixel_std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    """Per-channel standard deviation divided by after the mean is subtracted."""
    conv_channels: tuple[int, int, int] = (32, 64, 64)
    """Output channels of the three conv layers (Nature DQN: 32, 64, 64)."""
    hidden: int = 512
    """Width of the fully connected layer."""
    dropout: float = 0.0
    """Dropout before the output layer (training only)."""
    architecture: Literal["nature", "keypoints"] = "nature"
    """``nature``: frames stacked as channels, flattened feature map; ``keypoints``: a shared
    per-frame conv stack, spatial softmax keypoints per frame, a head over their trajectories."""
    batch_norm: bool = False
    """Keypoints architecture: batch normalisation after the first two convs and of the head's
    input (keypoint coordinates, peaks and steps have very different scales)."""
    first_conv_stride: int = 4
    """Keypoints architecture: stride of the first (8x8) conv. 2 gives keypoint maps twice as
    fine (42x42 from 84x84 frames) at 2-3x the serving cost per frame; the Nature shape keeps 4."""
    fine_keypoints: int = 0
    """Keypoints architecture: extra keypoint maps computed at the frame's full resolution (one
    3x3 conv on the pixels, then the spatial softmax over all H x W positions), beside the
    ``conv_channels[2]`` coarse ones. The player is a disc three pixels wide: its position to a
    fraction of a pixel is what tells its speed and heading; 0: none."""
    motion_features: bool = False
    """Keypoints architecture: also give the head every keypoint's speed at each step, how
    close its heading is to one of the 8 compass directions (``cos 8 theta``, faded out when
    it barely moves) and, over the window, the mean and spread of its speed and the mean of
    that heading measure. The head could compute them from the steps, but on the recorded data
    it does not learn to; they are what tells a bot's snapped moves at constant speed from a
    person's (``docs/behaviour.md``)."""
    relative_motion: bool = False
    """Keypoints architecture with ``fine_keypoints >= 1``: also give the head every keypoint's
    motion relative to the first fine keypoint (the one the position loss ties to the player):
    its mean distance, and at each step the player's step towards it, across it and how fast
    the distance between them closes, with the window means of those three. An aggressive
    player closes in on an enemy; a bot strafes at its preferred range."""
    near_player_keypoints: int = 0
    """Keypoints architecture with ``fine_keypoints >= 1``: extra full-resolution keypoint maps
    whose spatial softmax is pulled towards the player: their logits, less ``lambda * d**2``
    (``d`` the distance to the first fine keypoint, the player's; ``lambda`` learnt, one per
    map). A plain keypoint over a map that finds the enemies lands on their mean; this one can
    land on the enemy nearest the player, the one an aggressive player closes in on
    (``docs/behaviour.md``, section *Model*). 0: none."""
    mirror_average: bool = False
    """Outside training, classify every window twice, as it is and mirrored left-right, and
    average the two logits (the fit mirrors half its clips, so both are what it learnt from).
    About 1.8x the per-frame cost; it helps single networks more than ensembles
    (``docs/log/behaviour.md``). With the keypoints architecture each frame's encoding holds
    both (``(N, 8C)`` instead of ``(N, 4C)``); training always sees single encodings."""
    ensemble_members: int = 1
    """Keypoints architecture: how many networks of this shape, trained apart (other seeds),
    classify every window; the served logits are their mean (the geometric mean of their
    probabilities). Each frame's encoding is the members' encodings side by side, so a frame
    is still encoded once per member and session. Costs the per-frame work times the members;
    ``gameai train behaviour export`` builds one from its fits (``docs/behaviour.md``)."""

    def __post_init__(self) -> None:
        height, width = self.frame_size
        if not (isinstance(height, int) and isinstance(width, int) and height >= 36 and width >= 36):
            raise ValueError(f"frame_size must be two ints >= 36, got {self.frame_size}")
        if not (isinstance(self.frames_per_window, int) and self.frames_per_window >= 1):
            raise ValueError(f"frames_per_window must be an int >= 1, got {self.frames_per_window}")
        if self.channels != 3:
            raise ValueError(f"channels must be 3 (RGB), got {self.channels}")
        if len(self.class_names) < 2 or not all(isinstance(c, str) and c for c in self.class_names):
            raise ValueError(f"class_names must be at least two non-empty strings, got {self.class_names}")
        if UNKNOWN in self.class_names or len(set(self.class_names)) != len(self.class_names):
            raise ValueError(
                f"class_names must be distinct and never {UNKNOWN!r} (reserved), got {self.class_names}"
            )
        if not self.sample_fps > 0:
            raise ValueError(f"sample_fps must be > 0, got {self.sample_fps}")
        if len(self.pixel_mean) != 3 or len(self.pixel_std) != 3 or min(self.pixel_std) <= 0:
            raise ValueError("pixel_mean and pixel_std need 3 values each, std > 0")
        if len(self.conv_channels) != 3 or min(self.conv_channels) < 1 or self.hidden < 1:
            raise ValueError("conv_channels needs 3 positive widths and hidden must be positive")
        if self.architecture not in ("nature", "keypoints"):
            raise ValueError(f"architecture must be 'nature' or 'keypoints', got {self.architecture!r}")
        if self.first_conv_stride not in (1, 2, 4):
            raise ValueError(f"first_conv_stride must be 1, 2 or 4, got {self.first_conv_stride!r}")
        if self.architecture == "nature" and self.first_conv_stride != 4:
            raise ValueError("first_conv_stride other than 4 needs the keypoints architecture")
        if not (isinstance(self.fine_keypoints, int) and 0 <= self.fine_keypoints <= 64):
            raise ValueError(f"fine_keypoints must be an int in [0, 64], got {self.fine_keypoints!r}")
        if self.architecture == "nature" and (self.fine_keypoints or self.motion_features):
            raise ValueError("fine_keypoints and motion_features need the keypoints architecture")
        if self.relative_motion and (self.architecture != "keypoints" or self.fine_keypoints < 1):
            raise ValueError("relative_motion needs the keypoints architecture and fine_keypoints >= 1")
        if not (isinstance(self.near_player_keypoints, int) and 0 <= self.near_player_keypoints <= 64):
            got = self.near_player_keypoints
            raise ValueError(f"near_player_keypoints must be an int in [0, 64], got {got!r}")
        if self.near_player_keypoints and (self.architecture != "keypoints" or self.fine_keypoints < 1):
            raise ValueError("near_player_keypoints needs the keypoints architecture and fine_keypoints >= 1")
        if not (isinstance(self.ensemble_members, int) and 1 <= self.ensemble_members <= 16):
            raise ValueError(f"ensemble_members must be an int in [1, 16], got {self.ensemble_members!r}")
        if self.ensemble_members > 1 and self.architecture != "keypoints":
            raise ValueError("ensemble_members > 1 needs the keypoints architecture")

    @property
    def keypoints_per_frame(self) -> int:
        """C of the keypoints architecture: coarse, fine and near-player keypoints of one frame
        (one network's encoding of a frame is ``4C`` numbers)."""
        return self.conv_channels[2] + self.fine_keypoints + self.near_player_keypoints

    @property
    def in_channels(self) -> int:
        """Input channels of the network: K * 3."""
        return self.frames_per_window * self.channels


def _conv_out(size: int, kernel: int, stride: int) -> int:
    return (size - kernel) // stride + 1


class SpatialSoftmax(nn.Module):
    """Feature maps -> expected ``(x, y)`` of each channel's softmax over positions, its peak and mean.

    Args:
        channels: Input channels (one keypoint each).
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.log_temperature = nn.Parameter(torch.zeros(channels))

    def forward(self, maps: torch.Tensor, prior: torch.Tensor | None = None) -> torch.Tensor:
        """``(N, C, h, w)`` -> ``(N, 4*C)``: x of every channel, then y, peak and mean; x and y in [-1, 1].

        The position says where a thing is, the peak how strongly it is there, the mean how
        much of it there is (bullets in flight, say). ``prior`` (broadcastable to
        ``(N, C, h*w)``) is added to the softmax's logits: it moves the position, not the peak
        or the mean.
        """
        n, c, h, w = maps.shape
        flat = maps.reshape(n, c, h * w)  # (N, C, h*w)
        grid_x, grid_y = position_grid(h, w, maps)
        temperature = self.log_temperature.exp().view(1, c, 1)
        return spatial_keypoints(flat, temperature, grid_x, grid_y, prior).view(n, 4 * c)


def spatial_keypoints(
    maps: torch.Tensor,
    temperature: torch.Tensor,
    grid_x: torch.Tensor,
    grid_y: torch.Tensor,
    prior: torch.Tensor | None = None,
) -> torch.Tensor:
    """The arithmetic of :class:`SpatialSoftmax`, over flattened maps of any leading shape.

    Args:
        maps: ``(N, *S, P)`` maps, their ``P`` positions flattened row by row.
        temperature: Broadcastable to ``maps``: each map's softmax temperature (``exp`` of its log).
        grid_x, grid_y: ``(P,)`` every position's x and y (:func:`position_grid`).
        prior: Broadcastable to ``maps``: added to the softmax's logits.

    Returns:
        ``(N, 4, *S)``: each map's expected x and y, then the peak and the mean of its positive part.
    """
    logits = maps * temperature
    weights = torch.softmax(logits if prior is None else logits + prior, dim=-1)
    active = torch.relu(maps)
    return torch.stack([weights @ grid_x, weights @ grid_y, active.amax(dim=-1), active.mean(dim=-1)], dim=1)


def position_grid(h: int, w: int, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The x and the y, in [-1, 1], of every position of an ``h x w`` map, row by row: ``(h*w,)`` each."""
    ys = torch.linspace(-1.0, 1.0, h, device=like.device, dtype=like.dtype)
    xs = torch.linspace(-1.0, 1.0, w, device=like.device, dtype=like.dtype)
    return xs.view(1, w).expand(h, w).reshape(h * w), ys.view(h, 1).expand(h, w).reshape(h * w)


def near_prior(
    player_x: torch.Tensor, player_y: torch.Tensor, log_lambda: torch.Tensor, h: int, w: int
) -> torch.Tensor:
    """Softmax logits that pull keypoints towards the player: ``-lambda * d**2``.

    Args:
        player_x, player_y: ``(N,)`` the player's position in [-1, 1].
        log_lambda: ``(C,)`` log of each keypoint's pull.
        h, w: The maps' size.

    Returns:
        ``(N, C, h*w)``: minus ``lambda`` times the squared distance from each position to the player.
    """
    grid_x, grid_y = position_grid(h, w, player_x)
    d2 = (grid_x.view(1, -1) - player_x.view(-1, 1)) ** 2 + (grid_y.view(1, -1) - player_y.view(-1, 1)) ** 2
    return -log_lambda.exp().view(1, -1, 1) * d2.unsqueeze(1)


def fine_keypoint_xy(encoded: torch.Tensor, config: BehaviourNetConfig, index: int = 0) -> torch.Tensor:
    """``(N, 2)`` the (x, y) of fine keypoint ``index`` in frame encodings ``(N, 4C)``.

    The layout is :meth:`KeypointHead.encode`'s: x of every keypoint, then y, peak and mean,
    the coarse keypoints before the fine ones. Fine keypoint 0 is the one the position loss
    teaches where the player is.
    """
    c = config.keypoints_per_frame  # mirrored or ensemble encodings: the first 4C
    column = config.conv_channels[2] + index
    return torch.stack([encoded[:, column], encoded[:, c + column]], dim=1)


def motion_features(dx: torch.Tensor, dy: torch.Tensor) -> list[torch.Tensor]:
    """Speed and 8-way heading of keypoint steps, per step and over the window.

    Args:
        dx, dy: ``(B, K-1, C)`` the steps of C keypoints between consecutive frames.

    Returns:
        ``(B, (K-1)*C)`` speeds, ``(B, (K-1)*C)`` ``cos 8 theta * tanh(speed)`` (1 for a move
        along a compass direction, -1 halfway between two; near 0 when it barely moves), then
        ``(B, C)`` each: the window's mean speed, its standard deviation, the mean heading measure.
    """
    b = dx.shape[0]
    speed = torch.sqrt(dx * dx + dy * dy + 1e-6)
    cos, sin = dx / speed, dy / speed
    for _ in range(3):  # angle doubling, three times: cos 8 theta without atan2 (no 0/0 gradient)
        cos, sin = cos * cos - sin * sin, 2.0 * cos * sin
    heading = cos * torch.tanh(speed)
    return [
        speed.reshape(b, -1),
        heading.reshape(b, -1),
        speed.mean(dim=1),
        speed.std(dim=1),
        heading.mean(dim=1),
    ]


def relative_motion_features(
    x: torch.Tensor, y: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor, player: int, step_scale: float
) -> list[torch.Tensor]:
    """Every keypoint's motion relative to keypoint ``player``.

    Args:
        x, y: ``(B, K, C)`` keypoint positions in K consecutive frames.
        dx, dy: ``(B, K-1, C)`` their steps between consecutive frames, times ``step_scale``.
        player: Index of the player's keypoint.
        step_scale: How much the steps were scaled up (distance changes get the same).

    Returns:
        ``(B, C)`` mean distance to the player; ``(B, (K-1)*C)`` each: the player's step
        towards the keypoint (negative: away), its step across (unsigned) and how much the
        distance shrinks; then ``(B, C)`` each: the window means of those three. The player's
        own entries are 0.
    """
    b = x.shape[0]
    rx, ry = x - x[..., player : player + 1], y - y[..., player : player + 1]  # (B, K, C)
    distance = torch.sqrt(rx * rx + ry * ry + 1e-6)
    px, py = dx[..., player : player + 1], dy[..., player : player + 1]  # (B, K-1, 1)
    before = distance[:, :-1]
    towards = (px * rx[:, :-1] + py * ry[:, :-1]) / before
    across = (px * ry[:, :-1] - py * rx[:, :-1]).abs() / before
    closing = (before - distance[:, 1:]) * step_scale
    return [
        distance.mean(dim=1),
        towards.reshape(b, -1),
        across.reshape(b, -1),
        closing.reshape(b, -1),
        towards.mean(dim=1),
        across.mean(dim=1),
        closing.mean(dim=1),
    ]


class KeypointHead(nn.Module):
    """Per-frame conv stack + spatial softmax, then a head over the K frames' keypoints.

    Two steps, :meth:`encode` (per frame) and :meth:`classify` (per window), so that a frame
    is encoded once however many windows it is in (:class:`BehaviourNet` runs them).

    Args:
        config: Shapes and widths.
    """

    #: Frame-to-frame keypoint steps are multiplied by this before the head (they are small).
    STEP_SCALE: Final = 10.0
    #: Initial pull of the near-player keypoints: 20 / (42 px)**2 per pixel squared on an 84 px
    #: frame (coordinates run -1..1), a logit penalty of about 2 at 13 px, 18 at 40 px.
    NEAR_LAMBDA_INIT: Final = 20.0

    def __init__(self, config: BehaviourNetConfig) -> None:
        super().__init__()
        c1, c2, c3 = config.conv_channels
        self.k = config.frames_per_window
        norm = config.batch_norm
        self.frame_features = nn.Sequential(
            nn.Conv2d(
                config.channels,
                c1,
                kernel_size=8,
                stride=config.first_conv_stride,
                padding=(8 - config.first_conv_stride) // 2,
                bias=not norm,
            ),
            nn.BatchNorm2d(c1) if norm else nn.Identity(),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, kernel_size=3, stride=1, padding=1, bias=not norm),
            nn.BatchNorm2d(c2) if norm else nn.Identity(),
            nn.ReLU(inplace=True),
            nn.Conv2d(c2, c3, kernel_size=1),
        )
        self.keypoints = SpatialSoftmax(c3)
        fine, near = config.fine_keypoints, config.near_player_keypoints
        self.fine_features: nn.Conv2d | None = None
        self.fine_points: SpatialSoftmax | None = None
        self.near_points: SpatialSoftmax | None = None
        if fine:  # the near-player maps come from the same conv, after the fine ones
            self.fine_features = nn.Conv2d(config.channels, fine + near, kernel_size=3, padding=1)
            self.fine_points = SpatialSoftmax(fine)
        if near:
            self.near_points = SpatialSoftmax(near)
            self.near_log_lambda = nn.Parameter(torch.full((near,), math.log(self.NEAR_LAMBDA_INIT)))
        self.n_fine = fine
        points = config.keypoints_per_frame
        self.n_points = points
        """C: keypoints per frame (coarse, then fine, then near-player)."""
        self.mirror_average = config.mirror_average
        inputs = self.k * 4 * points + (self.k - 1) * 2 * points
        self.motion_features = config.motion_features
        if self.motion_features:
            inputs += (self.k - 1) * 2 * points + 3 * points
        self.player_keypoint = c3 if config.relative_motion else -1  # the first fine keypoint
        if config.relative_motion:
            inputs += (self.k - 1) * 3 * points + 4 * points
        self.head = nn.Sequential(
            nn.BatchNorm1d(inputs) if norm else nn.Identity(),
            nn.Linear(inputs, config.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, len(config.class_names)),
        )

    def encode(self, frames: torch.Tensor) -> torch.Tensor:
        """``(N, 3, H, W)`` normalised frames -> ``(N, 4C)`` keypoints: x of every channel, then y,
        peak and mean; C counts the coarse maps, then the fine ones. With ``mirror_average``
        outside training: ``(N, 8C)``, the frame's encoding then its mirror image's."""
        if self.mirror_average and not self.training:
            n = len(frames)
            both = self._encode(torch.cat([frames, frames.flip(-1)]))  # (2N, 4C)
            return torch.cat([both[:n], both[n:]], dim=1)
        return self._encode(frames)

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        coarse = self.keypoints(self.frame_features(frames))  # (N, 4 * c3)
        if self.fine_features is None or self.fine_points is None:
            return coarse
        maps = self.fine_features(frames)  # (N, fine + near, H, W)
        nf = self.n_fine
        fine = self.fine_points(maps[:, :nf])  # (N, 4 * fine)
        n = len(frames)
        parts = [coarse.view(n, 4, -1), fine.view(n, 4, -1)]
        if self.near_points is not None:  # pulled towards the player (fine keypoint 0), not moving it
            h, w = maps.shape[-2:]
            prior = near_prior(fine[:, 0].detach(), fine[:, nf].detach(), self.near_log_lambda, h, w)
            parts.append(self.near_points(maps[:, nf:], prior).view(n, 4, -1))
        return torch.cat(parts, dim=2).view(n, -1)

    def classify(self, points: torch.Tensor) -> torch.Tensor:
        """``(B, K, 4C)`` keypoints of K consecutive frames, oldest first -> logits ``(B, n_classes)``.

        ``(B, K, 8C)`` mirror-averaged encodings (see :meth:`encode`) give the mean of the
        window's logits and its mirror image's.
        """
        width = 4 * self.n_points
        if points.shape[-1] == 2 * width:
            return 0.5 * (self._classify(points[..., :width]) + self._classify(points[..., width:]))
        return self._classify(points)

    def _classify(self, points: torch.Tensor) -> torch.Tensor:
        return self.head(self.window_features(points))

    def window_features(self, points: torch.Tensor) -> torch.Tensor:
        """``(B, K, 4C)`` keypoints of K consecutive frames -> ``(B, F)`` what the head reads.

        The keypoints with their steps, motion and relative-motion features; no weights are
        involved, so every member of an ensemble computes them alike.
        """
        b = points.shape[0]
        c = points.shape[-1] // 4
        xy = points[:, :, : 2 * c]  # (B, K, 2C)
        steps = (xy[:, 1:] - xy[:, :-1]) * self.STEP_SCALE  # (B, K-1, 2C)
        inputs = [points.reshape(b, -1), steps.reshape(b, -1)]
        if self.motion_features:
            inputs += motion_features(steps[..., :c], steps[..., c:])
        if self.player_keypoint >= 0:
            inputs += relative_motion_features(
                xy[..., :c],
                xy[..., c:],
                steps[..., :c],
                steps[..., c:],
                self.player_keypoint,
                self.STEP_SCALE,
            )
        return torch.cat(inputs, dim=1)


class BehaviourNet(nn.Module):
    """CNN over a window of frames (Nature-DQN-shaped or keypoints, by ``config.architecture``).

    Args:
        config: Shapes and widths.
    """

    pixel_mean: torch.Tensor
    pixel_std: torch.Tensor

    CPU_INFERENCE_CHUNK = 1
    """Windows per piece when a batch is classified on CPU without gradients (see ``forward``)."""
    CPU_ENCODE_CHUNK = 8
    """Frames per piece when frames are encoded on CPU without gradients (see ``encode_frames``)."""

    def __init__(self, config: BehaviourNetConfig) -> None:
        super().__init__()
        self.config = config
        k = config.frames_per_window
        mean = torch.tensor(config.pixel_mean, dtype=torch.float32).repeat(k).view(1, -1, 1, 1)
        std = torch.tensor(config.pixel_std, dtype=torch.float32).repeat(k).view(1, -1, 1, 1)
        self.register_buffer("pixel_mean", mean, persistent=False)
        self.register_buffer("pixel_std", std, persistent=False)
        self.keypoint_net: KeypointHead | None = None
        """The keypoints network (the first member of an ensemble); None for ``nature``."""
        self.other_members = nn.ModuleList()
        """The other ``ensemble_members - 1`` keypoints networks (empty for a single network)."""
        if config.architecture == "keypoints":
            self.keypoint_net = KeypointHead(config)
            self.other_members.extend(KeypointHead(config) for _ in range(config.ensemble_members - 1))
            return
        c1, c2, c3 = config.conv_channels
        self.features = nn.Sequential(
            nn.Conv2d(config.in_channels, c1, kernel_size=8, stride=4),
            nn.ReLU(inplace=True),
            nn.Conv2d(c1, c2, kernel_size=4, stride=2),
            nn.ReLU(inplace=True),
            nn.Conv2d(c2, c3, kernel_size=3, stride=1),
            nn.ReLU(inplace=True),
            nn.Flatten(),
        )
        height, width = config.frame_size
        for kernel, stride in ((8, 4), (4, 2), (3, 1)):
            height, width = _conv_out(height, kernel, stride), _conv_out(width, kernel, stride)
        self.head = nn.Sequential(
            nn.Linear(c3 * height * width, config.hidden),
            nn.ReLU(inplace=True),
            nn.Dropout(config.dropout),
            nn.Linear(config.hidden, len(config.class_names)),
        )

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """uint8 pixels (or floats in [0, 1]) ``(B, n*3, H, W)`` -> normalised floats, any ``n <= K``."""
        if x.dtype == torch.uint8:
            x = x.float().mul_(1.0 / 255.0)
        channels = x.shape[1]
        return (x - self.pixel_mean[:, :channels]) / self.pixel_std[:, :channels]

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """Keypoints of single frames (keypoints architecture only).

        A window's logits are ``classify_encoded`` of its K frames' encodings: training and
        evaluation encode each frame once and reuse it in every window it belongs to.

        Args:
            frames: ``(N, 3, H, W)`` uint8 pixels (or floats in [0, 1]).

        Returns:
            ``(N, 4C)`` float keypoints (``(N, 8C)`` with ``mirror_average`` outside training;
            times ``ensemble_members``: the members' encodings side by side).

        Raises:
            ValueError: If the architecture is not ``keypoints``.
        """
        if self.keypoint_net is None:
            raise ValueError("encode_frames needs the keypoints architecture")
        chunk = self.CPU_ENCODE_CHUNK
        if self._cpu_inference(frames) and len(frames) > chunk:
            # The convs get slower per frame as the piece grows (activations fall out of
            # cache); pieces of CPU_ENCODE_CHUNK were the fastest on one torch thread. In
            # eval mode every frame is encoded on its own, so the pieces give the same result.
            return torch.cat([self._encode(frames[i : i + chunk]) for i in range(0, len(frames), chunk)])
        return self._encode(frames)

    def _encode(self, frames: torch.Tensor) -> torch.Tensor:
        normalised = self.normalise(frames)
        members = self._members()
        if len(members) == 1:
            return members[0].encode(normalised)
        return torch.cat([member.encode(normalised) for member in members], dim=1)

    def classify_encoded(self, points: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)`` of windows given as ``(B, K, 4C)`` frame encodings, oldest first
        (an ensemble's: the mean of its members' logits, each from its own part of the encodings)."""
        if self.keypoint_net is None:
            raise ValueError("classify_encoded needs the keypoints architecture")
        members = self._members()
        if len(members) == 1:
            return members[0].classify(points)
        parts = points.chunk(len(members), dim=-1)
        logits = [member.classify(part) for member, part in zip(members, parts, strict=True)]
        return torch.stack(logits).mean(dim=0)

    def _members(self) -> list[KeypointHead]:
        """The keypoints networks, the first member first (none for ``nature``)."""
        first = [] if self.keypoint_net is None else [self.keypoint_net]
        return first + [member for member in self.other_members if isinstance(member, KeypointHead)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify windows.

        Args:
            x: ``(B, K*3, H, W)``; uint8 pixels, or floats already scaled to [0, 1].

        Returns:
            Logits ``(B, n_classes)``.
        """
        if self.keypoint_net is not None:
            b, _, height, width = x.shape
            points = self.encode_frames(x.reshape(b * self.config.frames_per_window, -1, height, width))
            return self.classify_encoded(points.view(b, self.config.frames_per_window, -1))
        chunk = self.CPU_INFERENCE_CHUNK
        if self._cpu_inference(x) and len(x) > chunk:
            # On CPU the convs get slower per frame as the batch grows (activations fall out of
            # cache; see ``encode_frames``). In eval mode every window is computed on its own,
            # so the pieces give the same result.
            return torch.cat([self._logits(x[i : i + chunk]) for i in range(0, len(x), chunk)])
        return self._logits(x)

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.head(self.features(self.normalise(x)))  # (B, n_classes)
        if self.config.mirror_average and not self.training:
            logits = 0.5 * (logits + self.head(self.features(self.normalise(x.flip(-1)))))
        return logits

    def _cpu_inference(self, x: torch.Tensor) -> bool:
        return x.device.type == "cpu" and not torch.is_grad_enabled() and not self.training


def ensemble_of(nets: Sequence[BehaviourNet], mirror_average: bool) -> BehaviourNet:
    """One network that serves the mean of the logits of ``nets`` (see ``ensemble_members``).

    Args:
        nets: Single keypoints networks of one shape (fits of one config with other seeds);
            the first becomes ``keypoint_net``, so a one-element list gives that network back
            as it was (its weights under the same names).
        mirror_average: Whether the result averages every window with its mirror image.

    Returns:
        A new network in eval mode holding copies of their weights.

    Raises:
        ValueError: If ``nets`` is empty, one is not a single keypoints network, or their
            shapes differ (``mirror_average`` aside).
    """
    if not nets:
        raise ValueError("an ensemble needs at least one network")
    heads = [
        net.keypoint_net for net in nets if net.keypoint_net is not None and net.config.ensemble_members == 1
    ]
    if len(heads) != len(nets):
        raise ValueError("ensemble members must be single keypoints networks")
    configs = [replace(net.config, mirror_average=False) for net in nets]
    if any(c != configs[0] for c in configs[1:]):
        raise ValueError("ensemble members must share one config (only their weights may differ)")
    combined = BehaviourNet(replace(configs[0], ensemble_members=len(nets), mirror_average=mirror_average))
    for member, head in zip(combined._members(), heads, strict=True):
        member.load_state_dict(head.state_dict())
    return combined.eval()


def member_of(net: BehaviourNet, index: int) -> BehaviourNet:
    """Member ``index`` of an ensemble as a single network: the inverse of :func:`ensemble_of`.

    Args:
        net: A keypoints network (an ensemble, or a single network: its member 0).
        index: Which member, ``0 <= index < net.config.ensemble_members``.

    Returns:
        A new single network (``mirror_average`` off) holding a copy of that member's weights.

    Raises:
        ValueError: If ``net`` is not a keypoints network or has no member ``index``.
    """
    members = net._members()
    if not members or not 0 <= index < len(members):
        raise ValueError(
            f"no member {index} in a {net.config.architecture} network of {len(members)} member(s)"
        )
    single = BehaviourNet(replace(net.config, ensemble_members=1, mirror_average=False))
    assert single.keypoint_net is not None  # a keypoints config
    single.keypoint_net.load_state_dict(members[index].state_dict())
    return single


def frames_to_input(windows: np.ndarray) -> np.ndarray:
    """Turn frame windows into the network's input layout.

    Args:
        windows: ``(..., K, H, W, 3)`` uint8, oldest frame first.

    Returns:
        ``(..., K*3, H, W)`` uint8 (a contiguous copy).
    """
    *lead, k, height, width, channels = windows.shape
    moved = np.moveaxis(windows, -1, -3)  # (..., K, 3, H, W)
    return np.ascontiguousarray(moved).reshape(*lead, k * channels, height, width)


def save_behaviour_model(
    directory: Path | str, net: BehaviourNet, metadata: dict[str, Any] | None = None
) -> None:
    """Write ``model.safetensors`` and ``config.json`` into ``directory``.

    Args:
        directory: Target directory (created if needed).
        net: The network; its ``config`` is saved with it.
        metadata: Free-form JSON data kept in ``config.json`` (training run, accuracy...).
    """
    directory = Path(directory)
    save_weights(directory / WEIGHTS_FILE, net, metadata={"format": FORMAT})
    write_json(
        directory / CONFIG_FILE,
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": config_to_dict(net.config),
            WEIGHTS_HASH_KEY: sha256_of(directory / WEIGHTS_FILE),
            "metadata": metadata or {},
        },
    )


def set_behaviour_metadata(directory: Path | str, key: str, value: Any) -> None:
    """Set ``key`` of a saved model's ``config.json`` metadata to ``value`` (the weights stay as they are)."""
    path = Path(directory) / CONFIG_FILE
    data = read_json(path)
    data.setdefault("metadata", {})[key] = value
    write_json(path, data)


@dataclass(frozen=True)
class LoadedBehaviourModel:
    """A behaviour model ready for inference."""

    net: BehaviourNet
    """The network in eval mode on its device."""
    config: BehaviourNetConfig
    """Its config."""
    version: str
    """Content hash of the weights."""
    metadata: dict[str, Any]
    """The ``metadata`` of ``config.json``."""


def load_behaviour_model(directory: Path | str, device: torch.device | str = "cpu") -> LoadedBehaviourModel:
    """Load a behaviour model saved by :func:`save_behaviour_model`.

    Args:
        directory: The model directory.
        device: Where to put the network.

    Returns:
        The network in eval mode, its config, version and metadata.

    Raises:
        ModelLoadError: If a file is missing, corrupt, of another format, or the weights
            do not fit the config.
    """
    directory = Path(directory)
    path = directory / CONFIG_FILE
    data = read_json(path)
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path}: not a JSON object")
    if data.get("format") != FORMAT:
        raise ModelLoadError(f"{path}: not a {FORMAT} config (format={data.get('format')!r})")
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{path}: format_version {data.get('format_version')!r} unsupported")
    config = config_from_dict(BehaviourNetConfig, data.get("config", {}), path)
    net = BehaviourNet(config)
    check_weights_hash(directory / WEIGHTS_FILE, data.get(WEIGHTS_HASH_KEY))
    load_weights(directory / WEIGHTS_FILE, net, device)
    net.to(device).eval()
    metadata = data.get("metadata") or {}
    return LoadedBehaviourModel(
        net=net,
        config=config,
        version=file_version(directory / WEIGHTS_FILE),
        metadata=metadata if isinstance(metadata, dict) else {},
    )
