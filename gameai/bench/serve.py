"""``gameai bench serve``: frames/s and latency of the behaviour service, next to the raw model.

Steps, all in one run on one machine:

1. The behaviour model of ``assets/behaviour`` (or, if none loads, the same architecture
   with random weights, said so in the JSON) is timed in-process on batches of 1, 8, 32
   and 64 windows: the raw throughput, with torch's default threads and with the threads
   the server uses. Each batch is what the server's worker gets in play: sessions each
   sending their next frame (see :class:`gameai.bench.behaviour.SlidingWindows`).
2. ``gameai serve`` is started in a child process on a free loopback port serving only
   that model (no per-session frame rate limit, so clients can saturate it).
3. For each client count C, C clients (asyncio, in this process, on the same kind of event
   loop as the server) each connect and
   * saturate: keep ``window`` frames in flight for ``seconds`` (served frames/s);
   * pace: send at ``fps`` for ``seconds`` (end-to-end latency at a realistic load).
   End-to-end latency is from just before a frame is sent to its ``behaviour`` result.
   The CPU time the server process (with its model process, also given apart) and the
   clients spend per frame is recorded too: on a shared machine, where the throughput
   depends on what else runs, CPU per frame next to the raw model's CPU per window says
   where the time goes.

The ratio served/raw compares saturated served frames/s at C with the raw windows/s at
batch ``min(C, max_batch)``, twice: with the same torch threads as the server, and with
the better of that and torch's default threads (the best the raw model does here).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from gameai import event_loops
from gameai.bench.figures import percentiles_ms, read_metrics
from gameai.bench.machine import machine_info
from gameai.bench.procfs import process_cpu_seconds
from gameai.event_loops import EventLoopName

#: Goals of issue 3 on the 2-core reference machine.
GOALS = {
    "served_over_raw_at_32": 0.8,
    "p99_ms_at_32_clients_10_fps": 20.0,
    "errors_at_64": 0,
}


@dataclasses.dataclass
class ServeBenchConfig:
    """Options of ``gameai bench serve``."""

    clients: tuple[int, ...] = (1, 8, 32, 64)
    """Client counts C to measure."""
    seconds: float = 3.0
    """Measuring time of each phase (saturated, paced) at each C, seconds."""
    fps: float = 10.0
    """Frame rate of each client in the paced phase."""
    window: int = 8
    """Frames each client keeps in flight in the saturated phase (enough that the server, not the
    clients' wait for answers, sets the pace: with the model in a child process, 2 fell short)."""
    behaviour_model: str = "assets/behaviour"
    """Behaviour model directory; random weights of the default architecture if it does not load."""
    max_batch: int = 32
    """The server's behaviour_max_batch."""
    max_wait_ms: float = 20.0
    """The server's behaviour_max_wait_ms (its default)."""
    torch_threads: int = 0
    """The server's torch threads (0: its default, cores - 1 on CPU)."""
    behaviour_process: bool = True
    """The server's behaviour_process: the model in a child process (False: on a thread of the server)."""
    raw_seconds: float = 1.0
    """Measuring time of each raw batch size, seconds."""
    event_loop: EventLoopName = "auto"
    """The event loop of the server and of the clients (gameai.event_loops): auto, uvloop or asyncio."""


def _prepare_model(config: ServeBenchConfig, scratch: Path) -> tuple[Path, dict[str, Any]]:
    """The model directory to benchmark, and what it is."""
    from gameai.behaviour.model import load_behaviour_model
    from gameai.model_files import ModelLoadError
    from gameai.testing.tiny_models import write_random_behaviour_model

    try:
        loaded = load_behaviour_model(config.behaviour_model)
        path = Path(config.behaviour_model)
        random_init = bool(loaded.metadata.get("random_init", False))
        weights = "random-init (as saved)" if random_init else "trained"
    except ModelLoadError as exc:
        path = scratch / "behaviour"
        write_random_behaviour_model(path)
        loaded = load_behaviour_model(path)
        weights = f"random-init: no trained model loads from {config.behaviour_model} ({exc})"
    parameters = sum(p.numel() for p in loaded.net.parameters())
    return path, {
        "path": str(path),
        "weights": weights,
        "version": loaded.version,
        "parameters": parameters,
        "config": dataclasses.asdict(loaded.config),
    }


def _raw_throughput(
    model_dir: Path, batches: list[int], seconds: float, threads: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Windows/s of the server's batch function called in-process; CPU ms per window.

    Each call is one batch of sessions each sending its next frame (as the saturating
    clients do), so with the keypoints architecture each window encodes one new frame.
    """
    import torch

    from gameai.behaviour.model import load_behaviour_model
    from gameai.bench.behaviour import SlidingWindows
    from gameai.runtime.models import BehaviourClassifier

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        classifier = BehaviourClassifier(load_behaviour_model(model_dir))
        height, width = classifier.config.frame_size
        k = classifier.config.frames_per_window
        frames = np.random.default_rng(0).integers(0, 256, (k + 16, height, width, 3), dtype=np.uint8)
        result: dict[str, float] = {}
        cpu: dict[str, float] = {}
        for batch in batches:
            call = SlidingWindows(classifier, batch, frames)
            for _ in range(3):
                call()
            done = 0
            start, cpu_start = time.perf_counter(), time.process_time()
            while time.perf_counter() - start < seconds:
                call()
                done += batch
            result[str(batch)] = round(done / (time.perf_counter() - start), 1)
            cpu[str(batch)] = round((time.process_time() - cpu_start) / done * 1000.0, 3)
        return result, cpu
    finally:
        torch.set_num_threads(previous)


class _Client:
    """One benchmark client: frames out, results in, send time -> latency."""

    def __init__(self, frames: np.ndarray, k_warm: int) -> None:
        self.frames = frames
        self.k_warm = k_warm
        """Frames a session sends before its first full window (K - 1): they get no result."""
        self.sent_at: dict[int, float] = {}
        self.latencies: list[float] = []
        self.results = 0
        self.dropped = 0
        self.seq = 0
        self.answered = asyncio.Event()
        self.client: Any = None

    def on_message(self, message: Any) -> None:
        if message.TYPE == "behaviour":
            sent = self.sent_at.pop(message.seq, None)
            if sent is not None:
                self.latencies.append(time.perf_counter() - sent)
            self.results += 1
            self.dropped += message.dropped_frames
            self.answered.set()

    async def send(self) -> None:
        seq = self.seq
        self.seq += 1
        if seq >= self.k_warm:
            self.sent_at[seq] = time.perf_counter()
        await self.client.send_frame(self.frames[seq % len(self.frames)], seq=seq)


async def _connect(url: str, count: int, frames_per_window: int) -> list[_Client]:
    from gameai.client.async_client import ClientConfig, GameAIClient

    rng = np.random.default_rng(1)
    clients = []
    for index in range(count):
        frames = rng.integers(0, 256, (8, 84, 84, 3), dtype=np.uint8)
        bench_client = _Client(frames, k_warm=frames_per_window - 1)
        config = ClientConfig(url=url, game_id=f"bench-{index}", services=("behaviour",))
        bench_client.client = await GameAIClient.connect(config, on_message=bench_client.on_message)
        clients.append(bench_client)
    return clients


async def _wait_for_answers(clients: list[_Client], quiet_s: float = 3.0) -> int:
    """Wait for the frames still in flight; returns how many got no result.

    Gives up once no result has arrived for ``quiet_s``: an overloaded server drops the
    oldest queued frames (reported in ``dropped_frames``), and those are never answered.
    """
    last_progress, last_results = time.perf_counter(), sum(c.results for c in clients)
    while any(c.sent_at for c in clients) and time.perf_counter() - last_progress < quiet_s:
        await asyncio.sleep(0.02)
        results = sum(c.results for c in clients)
        if results != last_results:
            last_progress, last_results = time.perf_counter(), results
    unanswered = sum(len(c.sent_at) for c in clients)
    for bench_client in clients:
        bench_client.sent_at.clear()
    return unanswered


async def _saturate(clients: list[_Client], window: int, seconds: float) -> dict[str, Any]:
    over = False

    def end() -> None:
        nonlocal over
        over = True
        for bench_client in clients:
            bench_client.answered.set()

    async def drive(bench_client: _Client) -> None:
        for _ in range(bench_client.k_warm + window):
            await bench_client.send()
        while not over:
            bench_client.answered.clear()
            while len(bench_client.sent_at) < window:
                await bench_client.send()
            # One timer for all clients ends the phase (a timeout per wait cost the clients'
            # process a tenth of its CPU, on the machine the server runs on).
            await bench_client.answered.wait()

    for bench_client in clients:
        bench_client.latencies.clear()
        bench_client.results = 0
    start = time.perf_counter()
    timer = asyncio.get_running_loop().call_later(seconds, end)
    try:
        await asyncio.gather(*(drive(c) for c in clients))
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - start
    latencies = [x for c in clients for x in c.latencies]
    report = {
        "frames_per_s": round(sum(c.results for c in clients) / elapsed, 1),
        **percentiles_ms(latencies, (50, 90, 99)),
    }
    await _wait_for_answers(clients)  # the frames still in flight come back before the next phase
    return report


async def _pace(clients: list[_Client], fps: float, seconds: float) -> dict[str, Any]:
    async def drive(index: int, bench_client: _Client) -> int:
        start = time.perf_counter() + index / fps / len(clients)
        frames = int(seconds * fps)
        for n in range(frames):
            await asyncio.sleep(max(0.0, start + n / fps - time.perf_counter()))
            await bench_client.send()
        return frames

    for bench_client in clients:
        bench_client.latencies.clear()
        bench_client.results = 0
        bench_client.dropped = 0
        bench_client.sent_at.clear()
    start = time.perf_counter()
    sent = await asyncio.gather(*(drive(i, c) for i, c in enumerate(clients)))
    unanswered = await _wait_for_answers(clients)
    elapsed = time.perf_counter() - start
    latencies = [x for c in clients for x in c.latencies]
    return {
        "frames_sent": sum(sent),
        "results": sum(c.results for c in clients),
        "unanswered": unanswered,
        "dropped_by_server": sum(c.dropped for c in clients),
        "frames_per_s": round(sum(c.results for c in clients) / elapsed, 1),
        **percentiles_ms(latencies, (50, 90, 99)),
    }


def _batch_counters(url: str) -> tuple[float, float]:
    """(batches, windows) the server's behaviour worker has run so far, from its /metrics."""
    samples = read_metrics(url)
    return (
        samples.get('gameai_model_batch_size_count{model="behaviour"}', 0.0),
        samples.get('gameai_model_batch_size_sum{model="behaviour"}', 0.0),
    )


async def _measure(
    url: str, server_pid: int, config: ServeBenchConfig, frames_per_window: int
) -> dict[str, Any]:
    served: dict[str, Any] = {}
    for count in config.clients:
        clients = await _connect(url, count, frames_per_window)
        try:
            await _saturate(clients, config.window, min(0.5, config.seconds))  # warm-up
            server_cpu, client_cpu = process_cpu_seconds(server_pid), time.process_time()
            parent_cpu = process_cpu_seconds(server_pid, children=False)
            batches, windows = await asyncio.to_thread(_batch_counters, url)
            saturated = await _saturate(clients, config.window, config.seconds)
            batches_after, windows_after = await asyncio.to_thread(_batch_counters, url)
            if batches_after > batches:
                saturated["mean_batch_size"] = round((windows_after - windows) / (batches_after - batches), 2)
            frames = saturated["frames_per_s"] * config.seconds
            if frames:
                server_total = process_cpu_seconds(server_pid) - server_cpu
                parent = process_cpu_seconds(server_pid, children=False) - parent_cpu
                saturated["cpu_ms_per_frame"] = {
                    "server": round(server_total / frames * 1000.0, 3),
                    "model_process": round((server_total - parent) / frames * 1000.0, 3),
                    "clients": round((time.process_time() - client_cpu) / frames * 1000.0, 3),
                }
            paced = await _pace(clients, config.fps, config.seconds)
        finally:
            errors = sum(len(c.client.errors) for c in clients)
            for bench_client in clients:
                await bench_client.client.close()
        served[str(count)] = {"saturated": saturated, f"paced_{config.fps:g}_fps": paced, "errors": errors}
    return served


def run_serve_benchmark(config: ServeBenchConfig) -> dict[str, Any]:
    """Run the benchmark of the module docstring and return its JSON-ready report."""
    import torch

    from gameai.runtime.device import cpu_inference_threads
    from gameai.testing.servers import ServerProcess

    server_threads = config.torch_threads or cpu_inference_threads()
    with tempfile.TemporaryDirectory(prefix="gameai-bench-") as scratch:
        model_dir, model = _prepare_model(config, Path(scratch))
        batches = sorted({1, 8, 32, 64, *(min(c, config.max_batch) for c in config.clients)})
        default_threads = torch.get_num_threads()
        raw_default, raw_default_cpu = _raw_throughput(
            model_dir, batches, config.raw_seconds, default_threads
        )
        raw_serving, raw_serving_cpu = _raw_throughput(model_dir, batches, config.raw_seconds, server_threads)
        k = int(model["config"]["frames_per_window"])
        args = [
            "--behaviour-model", str(model_dir), "--dialogue-model", "", "--agents-dir", "",
            "--device", "cpu", "--torch-threads", str(server_threads),
            "--behaviour-max-batch", str(config.max_batch),
            "--behaviour-max-wait-ms", str(config.max_wait_ms), "--max-fps", "100000",
            "--frame-queue", str(max(8, config.window + k + 1)), "--max-sessions", "1024",
            "--behaviour-process" if config.behaviour_process else "--no-behaviour-process",
            "--event-loop", config.event_loop,
        ]  # fmt: skip
        with ServerProcess(args) as server:
            assert server.process is not None
            served = event_loops.run(_measure(server.url, server.process.pid, config, k), config.event_loop)
    for count, entry in served.items():
        batch = str(min(int(count), config.max_batch))
        frames_per_s = entry["saturated"]["frames_per_s"]
        entry["raw_at_batch"] = {
            "batch": int(batch),
            "windows_per_s_same_threads": raw_serving[batch],
            "windows_per_s_best": max(raw_default[batch], raw_serving[batch]),
        }
        entry["ratio_served_over_raw"] = {
            "vs_raw_same_threads": round(frames_per_s / raw_serving[batch], 3),
            "vs_raw_best": round(frames_per_s / max(raw_default[batch], raw_serving[batch]), 3),
        }
    at32 = served.get("32")
    at64 = served.get("64")
    paced_key = f"paced_{config.fps:g}_fps"
    goals: dict[str, dict[str, Any]] = {
        "served_over_raw_at_32": {
            "target": GOALS["served_over_raw_at_32"],
            "measured": at32["ratio_served_over_raw"] if at32 else None,
            "baseline": "raw = the server's batch function called in-process at batch min(C, max_batch); "
            "same_threads: with the server's torch threads; best: the better of that and torch's default",
        },
        "p99_ms_at_32_clients_10_fps": {
            "target": GOALS["p99_ms_at_32_clients_10_fps"],
            "measured": at32[paced_key]["p99_ms"] if at32 and config.fps == 10.0 else None,
        },
        "errors_at_64": {"target": 0, "measured": at64["errors"] if at64 else None},
    }
    ratios = goals["served_over_raw_at_32"]["measured"] or {}
    goals["served_over_raw_at_32"]["met"] = {key: value >= 0.8 for key, value in ratios.items()}
    p99 = goals["p99_ms_at_32_clients_10_fps"]["measured"]
    goals["p99_ms_at_32_clients_10_fps"]["met"] = p99 is not None and p99 <= 20.0
    goals["errors_at_64"]["met"] = goals["errors_at_64"]["measured"] == 0
    return {
        "benchmark": "serve",
        "machine": {
            **machine_info(),
            "usable_cores": len(os.sched_getaffinity(0))
            if hasattr(os, "sched_getaffinity")
            else os.cpu_count(),
            "note": "clients, server and raw model share this machine; other jobs may run on it too",
        },
        "model": model,
        "settings": {
            **dataclasses.asdict(config),
            "server_torch_threads": server_threads,
            "event_loop_resolved": event_loops.resolve_event_loop_name(config.event_loop),
            "raw_torch_threads_default": default_threads,
            "latency": "end-to-end: just before a frame is sent -> its behaviour result received",
        },
        "raw_windows_per_s": {"default_threads": raw_default, "server_threads": raw_serving},
        "raw_cpu_ms_per_window": {"default_threads": raw_default_cpu, "server_threads": raw_serving_cpu},
        "served": served,
        "goals": goals,
    }
