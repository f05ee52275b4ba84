"""``gameai bench behaviour``: speed of the behaviour model at batch 1, 8, 32, beside its accuracy.

The timed calls are :class:`gameai.runtime.models.BehaviourClassifier`, exactly what the
server's batching worker runs for a batch, two ways. For each batch size ``B`` each runs for
``seconds`` after a warm-up:

* ``streaming``: what the server does in play. ``B`` sessions each send their next frame
  (``behaviour_every = 1``), so each window is the session's previous one slid by a frame;
  with the keypoints architecture only that new frame is encoded (the session's cached
  encodings supply the other K - 1). ``windows_per_s`` is then also the frames per second
  the model keeps up with;
* ``whole_windows``: ``B`` unrelated windows, all K frames of each encoded (the cost of a
  session's first window, and of every window of the Nature-DQN architecture).

Each reports ``windows_per_s``, ``latency_ms`` (p50 / p90 / p99 of one batch call) and
``frame_encodings_per_s`` (frames through the per-frame convs per second).

The model's accuracy (from the ``eval`` figures in its metadata) and the machine are printed
beside the speed, so that every figure comes with what it was measured on.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from gameai.runtime.models import BehaviourClassifier


@dataclasses.dataclass
class BehaviourBenchConfig:
    """Options of ``gameai bench behaviour``."""

    model_dir: str = "assets/behaviour"
    """The model to time (serving format)."""
    batch_sizes: tuple[int, ...] = (1, 8, 32)
    """Windows per call."""
    seconds: float = 2.0
    """Measuring time per batch size, seconds."""
    warmup_calls: int = 5
    """Untimed calls before each measurement."""
    device: str = "cpu"
    """Where the model runs: cpu, cuda, or auto (cuda when present)."""
    threads: int = 0
    """Torch CPU threads (0: the server's choice, one fewer than the cores, at least 1)."""
    head_precision: str = "auto"
    """The heads' number type: auto (the server's default), float32 or bfloat16."""


class SlidingWindows:
    """Calls a classifier as the server does in play: sessions each sending their next frame.

    Every call classifies one window per session, the session's previous window slid by one
    frame, with the session's own encoding cache (so with the keypoints architecture one
    frame per session is encoded).

    Args:
        classifier: The classifier to call.
        sessions: Windows per call (one per session).
        frames: ``(N, H, W, 3)`` uint8 frames to cycle through, ``N > K``.
    """

    def __init__(self, classifier: BehaviourClassifier, sessions: int, frames: np.ndarray) -> None:
        from gameai.runtime.models import FrameEncodingCache

        self.classifier = classifier
        self.k = classifier.config.frames_per_window
        if len(frames) <= self.k:
            raise ValueError(f"need more than K = {self.k} frames, got {len(frames)}")
        self.frames = frames
        self.caches = [FrameEncodingCache() for _ in range(sessions)]
        self.last_frame = self.k - 2

    def __call__(self) -> list[np.ndarray]:
        """Slide every session's window by a frame and classify them in one batch."""
        from gameai.runtime.models import WindowRequest

        self.last_frame += 1
        start = (self.last_frame - self.k + 1) % (len(self.frames) - self.k)
        window = self.frames[start : start + self.k]
        return self.classifier([WindowRequest(window, self.last_frame, cache) for cache in self.caches])


def _percentiles(values: list[float]) -> dict[str, float]:
    p50, p90, p99 = np.percentile(np.asarray(values) * 1000.0, [50, 90, 99])
    return {"p50": round(float(p50), 3), "p90": round(float(p90), 3), "p99": round(float(p99), 3)}


def accuracy_of(metadata: dict[str, Any]) -> dict[str, Any] | None:
    """The accuracy figures stored by ``gameai train behaviour eval`` (None if there are none)."""
    evaluation = metadata.get("eval")
    if not isinstance(evaluation, dict):
        return None
    figures: dict[str, Any] = {}
    for split, views in evaluation.get("splits", {}).items():
        for view, entry in views.items():
            figures[f"{split}_{view}"] = {
                "accuracy": entry["accuracy"],
                "macro_f1": entry["macro_f1"],
                "bot_like_precision": entry["per_class"].get("bot_like", {}).get("precision"),
            }
    return figures


def run_behaviour_benchmark(config: BehaviourBenchConfig) -> dict[str, Any]:
    """Time the model (see the module docstring) and return the JSON report."""
    import torch

    from gameai.behaviour.model import load_behaviour_model
    from gameai.bench.machine import machine_info
    from gameai.runtime.device import cpu_inference_threads, select_device
    from gameai.runtime.models import BehaviourClassifier

    device = select_device(config.device)
    threads = config.threads or cpu_inference_threads()
    torch.set_num_threads(threads)
    model = load_behaviour_model(config.model_dir, device)
    classifier = BehaviourClassifier(model, config.head_precision)
    net_config = model.config
    height, width = net_config.frame_size
    k = net_config.frames_per_window
    frames = np.random.default_rng(0).integers(0, 256, (k + 48, height, width, 3), dtype=np.uint8)
    starts = len(frames) - k + 1  # windows start at 0 .. len - K; larger batches reuse them
    encoded_per_window = {"streaming": 1 if classifier.encodes_frames else k, "whole_windows": k}
    results: dict[str, Any] = {}
    for batch in config.batch_sizes:
        calls: dict[str, Callable[[], list[np.ndarray]]] = {
            "streaming": SlidingWindows(classifier, batch, frames),
            "whole_windows": functools.partial(
                classifier.classify_windows, [frames[i % starts : i % starts + k] for i in range(batch)]
            ),
        }
        results[str(batch)] = {}
        for name, call in calls.items():
            for _ in range(config.warmup_calls):
                call()
            latencies: list[float] = []
            started = time.perf_counter()
            while time.perf_counter() - started < config.seconds or len(latencies) < 3:
                tick = time.perf_counter()
                call()
                if device.type == "cuda":
                    torch.cuda.synchronize()
                latencies.append(time.perf_counter() - tick)
            total = sum(latencies)
            results[str(batch)][name] = {
                "calls": len(latencies),
                "windows_per_s": round(batch * len(latencies) / total, 1),
                "frame_encodings_per_s": round(batch * encoded_per_window[name] * len(latencies) / total, 1),
                "latency_ms": _percentiles(latencies),
            }
    weights = model.metadata.get("weights_dtype", "float32")
    return {
        "benchmark": "behaviour",
        "model": {
            "directory": config.model_dir,
            "version": model.version,
            "architecture": net_config.architecture,
            "parameters": sum(p.numel() for p in model.net.parameters()),
            "weights_dtype": weights,
            "frames_per_window": net_config.frames_per_window,
            "frame_size": list(net_config.frame_size),
            "sample_fps": net_config.sample_fps,
            "random_init": bool(model.metadata.get("random_init", False)),
        },
        "accuracy": accuracy_of(model.metadata),
        "device": str(device),
        "head_dtype": str(classifier.head_dtype).removeprefix("torch."),
        "torch_threads": threads,
        "results": results,
        "machine": machine_info(),
    }
