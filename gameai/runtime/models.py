"""Batch functions of the served models: what a :class:`~gameai.runtime.batching.BatchingWorker` runs.

Each class wraps a loaded network and exposes ``__call__(batch) -> outputs`` for the
worker thread; they are also what the benchmarks call directly ("raw" throughput), so
served and raw numbers measure the same code.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from gameai.agents.actor import LoadedActor
from gameai.agents.numpy_actor import NumpyActor
from gameai.behaviour.fused import FusedBehaviourNet
from gameai.behaviour.model import LoadedBehaviourModel
from gameai.runtime.allocator import keep_freed_memory
from gameai.runtime.device import HeadPrecision, behaviour_head_dtype

_cache_keys = itertools.count()


@dataclass(eq=False)
class FrameEncodingCache:
    """One session's last window of frame encodings (keypoints architecture).

    Created by the session, read and written only by the behaviour worker's thread. It is an
    optimisation and nothing more: every request carries its whole window, so frames the
    cache does not hold are simply encoded again.
    """

    window: torch.Tensor | None = None
    """``(K, 4C)`` keypoints of the frames numbered ``last_frame - K + 1 .. last_frame``, oldest first."""
    last_frame: int = -1
    """Number of the newest frame in ``window``."""
    key: int = field(default_factory=lambda: next(_cache_keys))
    """Unique in this process: names the session's encodings held in a model process."""


FrameWindow = Sequence[np.ndarray] | np.ndarray
"""K frames ``(H, W, 3)`` uint8 oldest first: a sequence of frames or one ``(K, H, W, 3)`` array."""


def stack_frames(frames: Sequence[np.ndarray]) -> torch.Tensor:
    """Copy frames ``(H, W, 3)`` uint8 (at least one) into one ``(M, H, W, 3)`` tensor.

    ``torch.stack`` copies without holding the GIL (``np.stack`` would block the event loop
    meanwhile). The frames may be read-only (a session's frames are views of the bytes they
    arrived in); they are only read here.
    """
    return torch.stack([torch.from_numpy(frame) for frame in frames])


def _silence_read_only_array_warning() -> None:
    """Have torch give, silently, the warning it gives once per process for a read-only array.

    :func:`stack_frames` reads read-only frames, which torch warns about once (writing to
    such a tensor would be undefined; nothing here writes). Filtering the warning around
    each call would change the process-wide warning filters from the worker thread, which
    is not thread-safe; spending the one warning here, on the thread that builds the
    classifier, leaves them alone.
    """
    read_only = np.zeros(1, dtype=np.uint8)
    read_only.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        torch.from_numpy(read_only)


@dataclass(frozen=True)
class WindowRequest:
    """One window of a session's frames to classify."""

    window: FrameWindow
    """K frames ``(H, W, 3)`` uint8, oldest first, that nobody writes to any more: a
    ``(K, H, W, 3)`` array or the session's K read-only frames
    (:meth:`~gameai.session.frames.FrameRingBuffer.frames`, no copy)."""
    last_frame: int
    """Number of the window's newest frame in the session (0, 1, 2... in arrival order): frame
    ``i`` of the window is number ``last_frame - K + 1 + i``. Never reused within a session."""
    cache: FrameEncodingCache | None = None
    """The session's encodings (None: encode the whole window)."""


def held_frame(cache: FrameEncodingCache) -> int:
    """Number of the newest frame whose encoding ``cache`` holds (-1: none)."""
    return cache.last_frame if cache.window is not None else -1


def fresh_frame_counts(
    requests: Sequence[WindowRequest], k: int, held: Callable[[FrameEncodingCache], int]
) -> list[int]:
    """Per request, how many of its newest frames must be encoded (the rest are in its cache).

    A request reuses its session's encodings when it slides the window forward by fewer than
    K frames, counting the earlier requests of the same batch; otherwise all K are encoded.

    Args:
        requests: One batch, each session's requests in order of ``last_frame``.
        k: Frames per window.
        held: The newest frame number a cache holds encodings up to (-1: none).
    """
    newest: dict[int, int] = {}  # cache key -> newest frame number once the earlier requests are done
    counts: list[int] = []
    for request in requests:
        cache = request.cache
        reusable = -1
        if cache is not None:
            reusable = newest.get(cache.key, held(cache))
            newest[cache.key] = request.last_frame
        step = request.last_frame - reusable
        counts.append(step if reusable >= 0 and 0 < step < k else k)
    return counts


class BehaviourClassifier:
    """Windows of frames -> class probabilities, in batches.

    With the keypoints architecture each frame is encoded once per session: a window that
    slides by ``d < K`` frames costs ``d`` frame encodings plus the small head instead of K
    encodings (a frame's encoding is the same whichever window it is in, so the result is
    that of classifying the whole window). The Nature-DQN architecture stacks the frames as
    channels and always classifies whole windows.

    Args:
        model: The loaded behaviour model.
        head_precision: The number type of the heads' first layers on the CPU (``auto``:
            bfloat16 where the CPU has bfloat16 instructions; :func:`behaviour_head_dtype`).
    """

    def __init__(self, model: LoadedBehaviourModel, head_precision: HeadPrecision | str = "auto") -> None:
        self.model = model
        self.config = model.config
        self.device = next(model.net.parameters()).device
        self.encodes_frames = model.net.keypoint_net is not None
        """Whether windows are classified from cached per-frame encodings."""
        self.head_dtype = behaviour_head_dtype(head_precision, self.device)
        """The heads' first layers' number type (keypoints architecture)."""
        self.fused = FusedBehaviourNet(model.net, self.head_dtype) if self.encodes_frames else None
        """The keypoints network rebuilt for inference (the same numbers, fewer torch calls)."""
        if self.device.type == "cpu":
            keep_freed_memory()  # a process that serves the model reuses its batch buffers
        _silence_read_only_array_warning()

    def __call__(self, requests: Sequence[WindowRequest]) -> list[np.ndarray]:
        """Classify windows of sessions (the worker's batch function).

        Requests of one session must come in the order of their ``last_frame`` (the worker
        keeps submission order); a request that does not move forward is encoded whole.

        Args:
            requests: One window each.

        Returns:
            One ``(n_classes,)`` float32 probability vector per request.
        """
        if not self.encodes_frames:
            return self.classify_windows([request.window for request in requests])
        k = self.config.frames_per_window
        counts = fresh_frame_counts(requests, k, held_frame)
        pixels = [
            frame
            for request, count in zip(requests, counts, strict=True)
            for frame in request.window[k - count :]
        ]
        return self.classify_fresh(requests, counts, pixels)

    def classify_fresh(
        self,
        requests: Sequence[WindowRequest],
        counts: Sequence[int],
        pixels: Sequence[np.ndarray] | np.ndarray,
    ) -> list[np.ndarray]:
        """Classify windows given only the frames their caches lack (keypoints architecture).

        Args:
            requests: One window each; only ``last_frame`` and ``cache`` are read.
            counts: Per request, how many of its newest frames ``pixels`` holds
                (:func:`fresh_frame_counts`); the rest come from its cache.
            pixels: The fresh frames ``(H, W, 3)`` uint8, request by request, oldest first
                (a sequence of frames or one ``(M, H, W, 3)`` array).

        Returns:
            One ``(n_classes,)`` float32 probability vector per request.

        Raises:
            RuntimeError: If a request counts on encodings its cache does not hold.
        """
        k = self.config.frames_per_window
        with torch.inference_mode():
            encoded = self._encode(pixels)  # (M, 4C)
            windows = []
            row = 0
            for request, count in zip(requests, counts, strict=True):
                new = encoded[row : row + count]  # (count, 4C)
                row += count
                cache = request.cache
                window = new  # (K, 4C) when count == K
                if count < k:
                    if (
                        cache is None
                        or cache.window is None
                        or cache.last_frame != request.last_frame - count
                    ):
                        raise RuntimeError(
                            f"window ending at frame {request.last_frame} needs {k - count} cached encodings"
                            " its session's cache does not hold"
                        )
                    window = torch.cat([cache.window[count:], new])  # (K, 4C)
                if cache is not None:
                    cache.window, cache.last_frame = window, request.last_frame
                windows.append(window)
            logits = self._fused().classify_encoded(torch.stack(windows))  # (B, n_classes)
            probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
        return list(probs)

    def _encode(self, pixels: Sequence[np.ndarray] | np.ndarray) -> torch.Tensor:
        """Frames ``(H, W, 3)`` uint8 (at least one, listed or stacked) -> ``(M, 4C)`` keypoints."""
        stacked = (
            torch.from_numpy(pixels) if isinstance(pixels, np.ndarray) else stack_frames(pixels)
        )  # (M, H, W, 3)
        frames = stacked.permute(0, 3, 1, 2).contiguous().to(self.device, non_blocking=True)  # (M, 3, H, W)
        return self._fused().encode_frames(frames)

    def _fused(self) -> FusedBehaviourNet:
        if self.fused is None:
            raise ValueError("frame encodings need the keypoints architecture")
        return self.fused

    def classify_windows(self, windows: Sequence[FrameWindow]) -> list[np.ndarray]:
        """Classify whole windows, every frame encoded anew (no cache).

        Args:
            windows: Each K frames ``(H, W, 3)`` uint8 (or one ``(K, H, W, 3)`` array), oldest first.

        Returns:
            One ``(n_classes,)`` float32 probability vector per window.
        """
        k = self.config.frames_per_window
        stacked = stack_frames([frame for window in windows for frame in window])  # (B*K, H, W, 3)
        _, height, width, channels = stacked.shape
        batch = len(windows)
        stacked = stacked.view(batch, k, height, width, channels)
        x = stacked.permute(0, 1, 4, 2, 3).reshape(batch, k * channels, height, width)  # (B, K*3, H, W)
        with torch.inference_mode():
            x = x.to(self.device, non_blocking=True)
            if self.fused is None:
                logits = self.model.net(x)  # (B, n_classes)
            else:
                encoded = self.fused.encode_frames(x.reshape(batch * k, channels, height, width))  # (B*K, 4C)
                logits = self.fused.classify_encoded(encoded.view(batch, k, -1))
            probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
        return list(probs)


@dataclass(frozen=True)
class ActRequest:
    """One observation to act on."""

    observation: np.ndarray
    """``(obs_dim,)`` float32."""
    difficulty: float
    """In [0, 1]."""


class AgentPolicy:
    """Observations -> the actor's actions (played at each request's difficulty), in batches.

    Args:
        actor: The loaded actor.
    """

    def __init__(self, actor: LoadedActor) -> None:
        self.actor = actor
        self.config = actor.config
        self.device = next(actor.net.parameters()).device

    def __call__(self, requests: Sequence[ActRequest]) -> list[tuple[int | float, ...]]:
        """Choose actions.

        Args:
            requests: Observations of length ``obs_dim`` with their difficulty.

        Returns:
            One action per request: ints for a discrete action, floats for a Box one.
        """
        obs = torch.from_numpy(np.stack([r.observation for r in requests]).astype(np.float32, copy=False))
        difficulty = torch.tensor([r.difficulty for r in requests], dtype=torch.float32)
        with torch.inference_mode():
            actions = self.actor.net.act(obs.to(self.device), difficulty.to(self.device))  # (B, action_dim)
        if self.config.continuous:
            return [tuple(float(a) for a in row) for row in actions.cpu().tolist()]
        return [tuple(int(a) for a in row) for row in actions.cpu().tolist()]


class NumpyAgentPolicy:
    """:class:`AgentPolicy` in numpy, for a small actor served on the event loop (same rule, same choice).

    Args:
        actor: The loaded actor (its weights are copied to numpy).
        seed: Seed of the handicap's draws (None: fresh entropy).
    """

    def __init__(self, actor: LoadedActor, seed: int | None = None) -> None:
        self.actor = NumpyActor(actor.net)
        self.config = actor.config
        self.rng = np.random.default_rng(seed)

    def __call__(self, requests: Sequence[ActRequest]) -> list[tuple[int | float, ...]]:
        """Choose actions (ints for a discrete action, floats for a Box one)."""
        obs = np.stack([r.observation for r in requests])
        difficulty = np.fromiter((r.difficulty for r in requests), dtype=np.float32, count=len(requests))
        actions: list[list[int | float]] = self.actor.act(obs, difficulty, self.rng).tolist()
        return [tuple(row) for row in actions]
