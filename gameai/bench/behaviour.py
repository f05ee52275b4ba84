"""``gameai bench behaviour``: speed of the behaviour model at batch 1, 8, 32, beside its accuracy.

The timed call is :class:`gameai.runtime.models.BehaviourClassifier`, exactly what the
server's batching worker runs for a batch: stack ``B`` windows ``(K, H, W, 3)`` uint8, permute
to ``(B, K*3, H, W)``, run the network, softmax. For each batch size it runs for ``seconds``
after a warm-up and reports:

* ``windows_per_s``: windows classified per second. With ``behaviour_every = 1`` every incoming
  frame completes a window, so this is also the frames per second the model keeps up with;
* ``latency_ms``: p50 / p90 / p99 of one batch call;
* ``frame_encodings_per_s``: windows/s x K (the per-frame work of the keypoints architecture).

The model's accuracy (from the ``eval`` figures in its metadata) and the machine are printed
beside the speed, so that every figure comes with what it was measured on.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import numpy as np


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
    from gameai.runtime.device import select_device
    from gameai.runtime.models import BehaviourClassifier
    from gameai.runtime.runtime import cpu_inference_threads

    device = select_device(config.device)
    threads = config.threads or cpu_inference_threads()
    torch.set_num_threads(threads)
    model = load_behaviour_model(config.model_dir, device)
    classifier = BehaviourClassifier(model)
    net_config = model.config
    height, width = net_config.frame_size
    rng = np.random.default_rng(0)
    results: dict[str, Any] = {}
    for batch in config.batch_sizes:
        windows = [
            rng.integers(0, 256, (net_config.frames_per_window, height, width, 3), dtype=np.uint8)
            for _ in range(batch)
        ]
        for _ in range(config.warmup_calls):
            classifier(windows)
        latencies: list[float] = []
        started = time.perf_counter()
        while time.perf_counter() - started < config.seconds or len(latencies) < 3:
            tick = time.perf_counter()
            classifier(windows)
            if device.type == "cuda":
                torch.cuda.synchronize()
            latencies.append(time.perf_counter() - tick)
        total = sum(latencies)
        results[str(batch)] = {
            "calls": len(latencies),
            "windows_per_s": round(batch * len(latencies) / total, 1),
            "frame_encodings_per_s": round(batch * net_config.frames_per_window * len(latencies) / total, 1),
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
        "torch_threads": threads,
        "results": results,
        "machine": machine_info(),
    }
