"""``gameai bench capacity``: how many demo-like live games one machine serves.

1. The models alone, in this process: the CPU one session-second of the same work costs the
   default agent (:class:`~gameai.agents.numpy_actor.NumpyActor`, ``npcs * act_hz`` acts),
   the behaviour model (``sample_fps / behaviour_every`` windows, the server's batch function
   as :class:`~gameai.bench.behaviour.SlidingWindows` calls it) and dialogue
   (``1 / dialogue_every_s`` replies of ``dialogue_tokens`` through the server's
   :class:`~gameai.runtime.dialogue.DialogueWorker`); the agent and the behaviour model at each
   batch of ``model_batches``, the largest used for the total. ``sessions_limit_at_cores`` =
   usable cores * 1000 / that total in ms: the ceiling no serving code can beat.
2. ``gameai serve`` in a child process with the models of ``assets_dir`` on the CPU, session
   limits raised for the ramp (every client is 127.0.0.1).
3. ``client_processes`` client processes (:mod:`gameai.bench.capacity_client`). For each step N
   of ``sessions``: N demo-like sessions, spread over them, warm up for ``warmup_s``, are
   measured for ``seconds``, then closed. The step holds when the p99 of each latency is within
   its SLO and there was no error; the ramp stops at the first step that does not hold.

CPU per session-second (ms of CPU per session per second) in each step's measuring window: the
server process (``/proc/<pid>/stat``, every thread), split into ``dialogue_threads`` (threads
named ``gameai-dialogue-*``: the dialogue workers and the torch threads they start),
``frames`` and ``acts_model`` (the server's ``gameai_cpu_seconds_total`` by part: frame
handling and the agents, both on the event loop) and ``loop_and_protocol`` (the rest); beside
it the behaviour model's child process and the client processes (they share the machine).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gameai.bench.capacity_config import CapacityBenchConfig
from gameai.bench.figures import percentiles_ms, read_metrics
from gameai.bench.machine import machine_info
from gameai.bench.procfs import cpu_seconds, model_process_pid, stat_fields, threads_cpu_seconds

_DIALOGUE_THREADS = "gameai-dialogu"
"""What the names of the server's dialogue threads start with (``/proc`` keeps 15 characters)."""


# ---------------------------------------------------------------------------- the models alone


def _cpu_per_call(call: Any, seconds: float) -> tuple[float, int]:
    """CPU seconds per call of ``call()`` over ``seconds`` (after 3 warm-up calls), and the calls."""
    for _ in range(3):
        call()
    calls, started, cpu = 0, time.perf_counter(), time.process_time()
    while calls == 0 or time.perf_counter() - started < seconds:
        call()
        calls += 1
    return (time.process_time() - cpu) / calls, calls


def _agent_cost(agents_dir: Path, config: CapacityBenchConfig) -> dict[str, Any]:
    from gameai.agents.actor import load_actor
    from gameai.agents.numpy_actor import NumpyActor
    from gameai.compute_threads import limit_numpy_blas_threads

    limit_numpy_blas_threads(1)  # as the server does for agents on the loop
    name = min(p.name for p in agents_dir.iterdir() if (p / "actor.json").is_file())  # the server's default
    actor = load_actor(agents_dir / name)
    numpy_actor = NumpyActor(actor.net)
    rng = np.random.default_rng(0)
    per_act: dict[str, float] = {}
    for batch in config.model_batches:
        obs = rng.standard_normal((batch, actor.config.obs_dim)).astype(np.float32)  # (B, obs_dim)
        difficulty = np.full(batch, 0.5, dtype=np.float32)
        cpu, _ = _cpu_per_call(lambda o=obs, d=difficulty: numpy_actor.act(o, d, rng), config.model_seconds)
        per_act[str(batch)] = cpu / batch * 1000.0
    acts_per_session_s = config.npcs * config.act_hz
    return {
        "agent": name,
        "cpu_ms_per_act": {batch: round(ms, 4) for batch, ms in per_act.items()},
        "acts_per_session_s": acts_per_session_s,
        "cpu_ms_per_session_s": per_act[str(max(config.model_batches))] * acts_per_session_s,
    }


def _behaviour_cost(model_dir: Path, config: CapacityBenchConfig) -> dict[str, Any]:
    import torch

    from gameai.behaviour.model import load_behaviour_model
    from gameai.bench.behaviour import SlidingWindows
    from gameai.runtime.models import BehaviourClassifier

    classifier = BehaviourClassifier(load_behaviour_model(model_dir))
    height, width = classifier.config.frame_size
    k = classifier.config.frames_per_window
    frames = np.random.default_rng(0).integers(0, 256, (k + 16, height, width, 3), dtype=np.uint8)
    per_window: dict[str, float] = {}
    with torch.inference_mode():
        for batch in config.model_batches:
            cpu, _ = _cpu_per_call(SlidingWindows(classifier, batch, frames), config.model_seconds)
            per_window[str(batch)] = cpu / batch * 1000.0
    windows_per_session_s = classifier.config.sample_fps / config.behaviour_every
    return {
        "torch_threads": torch.get_num_threads(),
        "cpu_ms_per_window": {batch: round(ms, 3) for batch, ms in per_window.items()},
        "windows_per_session_s": windows_per_session_s,
        "cpu_ms_per_session_s": per_window[str(max(config.model_batches))] * windows_per_session_s,
    }


def _dialogue_cost(model_dir: Path, config: CapacityBenchConfig) -> dict[str, Any]:
    import torch

    from gameai.bench.capacity_client import dialogue_fields
    from gameai.dialogue.hf_backend import HuggingFaceBackend
    from gameai.dialogue.npc_card import card_from_persona, load_npc_cards
    from gameai.dialogue.types import DialogueContext, GenerationParams
    from gameai.runtime.config import RuntimeConfig
    from gameai.runtime.dialogue import DialogueWorker

    backend = HuggingFaceBackend.load(model_dir, torch.device("cpu"))
    npcs_file = Path(model_dir).parent / "npcs.toml"
    cards = load_npc_cards(npcs_file) if npcs_file.exists() else {}
    worker = DialogueWorker("capacity", backend, max_batch=RuntimeConfig.dialogue_max_batch)

    async def replies() -> tuple[float, int]:
        worker.start()
        cpu_total, tokens = 0.0, 0
        try:
            for turn in range(config.model_replies + 1):  # the first warms up
                fields = dialogue_fields(turn, turn % 3)  # as many sessions' first three requests
                persona = fields.pop("persona")
                card = cards.get(persona) or card_from_persona(persona)
                context = DialogueContext(npc_id="npc-0", npc=card, **fields)
                cpu = time.process_time()
                reply = worker.submit(
                    context, GenerationParams(max_new_tokens=config.dialogue_tokens, seed=turn)
                )
                async for _ in reply:
                    pass
                if turn:
                    cpu_total += time.process_time() - cpu
                    tokens += reply.tokens
        finally:
            await worker.stop()
        return cpu_total / config.model_replies * 1000.0, tokens

    per_reply, tokens = asyncio.run(replies())
    return {
        "cpu_ms_per_reply": round(per_reply, 2),
        "tokens_per_reply": round(tokens / config.model_replies, 1),
        "replies_per_session_s": 1.0 / config.dialogue_every_s,
        "cpu_ms_per_session_s": per_reply / config.dialogue_every_s,
    }


def _model_costs(assets: Path, config: CapacityBenchConfig, cores: int) -> dict[str, Any]:
    """What the models alone cost per session-second, in this process, and the limit that sets."""
    import torch

    from gameai.runtime.device import cpu_inference_threads

    threads = torch.get_num_threads()
    torch.set_num_threads(cpu_inference_threads())  # the server's (and its model process's) threads
    try:
        parts = {
            "agent": _agent_cost(assets / "agents", config),
            "behaviour": _behaviour_cost(assets / "behaviour", config),
            "dialogue": _dialogue_cost(assets / "dialogue" / "model", config),
        }
    finally:
        torch.set_num_threads(threads)
    per_session = {name: round(part.pop("cpu_ms_per_session_s"), 3) for name, part in parts.items()}
    total = sum(per_session.values())
    return {
        "details": parts,
        "model_cpu_ms_per_session_s": {**per_session, "total": round(total, 3)},
        "sessions_limit_at_cores": round(cores * 1000.0 / total, 1) if total > 0 else None,
    }


# ---------------------------------------------------------------------------- CPU from /proc


def _cpu_snapshot(server_pid: int, client_pids: list[int], url: str) -> dict[str, Any]:
    """CPU seconds so far of each part (see the module docstring)."""
    metrics = read_metrics(url)
    model_pid = model_process_pid(server_pid)
    threads = threads_cpu_seconds(server_pid)
    return {
        "server_total": cpu_seconds(stat_fields(f"/proc/{server_pid}/stat")),
        "dialogue_threads": sum(s for name, s in threads.items() if name.startswith(_DIALOGUE_THREADS))
        if any(name.startswith(_DIALOGUE_THREADS) for name in threads)
        else None,
        "frames": metrics.get('gameai_cpu_seconds_total{part="frames"}', 0.0),
        "acts_model": sum(
            value
            for key, value in metrics.items()
            if key.startswith('gameai_cpu_seconds_total{part="model:agent/')
        ),
        "behaviour_model_process": cpu_seconds(stat_fields(f"/proc/{model_pid}/stat")) if model_pid else 0.0,
        "clients": sum(cpu_seconds(stat_fields(f"/proc/{pid}/stat")) for pid in client_pids),
        "model_pid": model_pid,
        "threads": threads,
    }


def _cpu_split(before: dict[str, Any], after: dict[str, Any], session_seconds: float) -> dict[str, Any]:
    """ms of CPU per session-second of each part between two snapshots (None: not measurable)."""

    def ms(key: str) -> float | None:
        if before[key] is None or after[key] is None:
            return None
        return max(0.0, after[key] - before[key]) / session_seconds * 1000.0

    split = {key: ms(key) for key in ("server_total", "dialogue_threads", "frames", "acts_model")}
    on_the_side = sum(split[key] or 0.0 for key in ("dialogue_threads", "frames", "acts_model"))
    split["loop_and_protocol"] = max(0.0, (split["server_total"] or 0.0) - on_the_side)
    same_model = before["model_pid"] is not None and before["model_pid"] == after["model_pid"]
    split["behaviour_model_process"] = ms("behaviour_model_process") if same_model else None
    split["clients"] = ms("clients")
    threads = {
        name: round((after["threads"][name] - before["threads"].get(name, 0.0)) / session_seconds * 1000.0, 3)
        for name in after["threads"]
    }
    report: dict[str, Any] = {
        "cpu_ms_per_session_s": {key: None if v is None else round(v, 3) for key, v in split.items()},
        "server_threads_cpu_ms_per_session_s": {name: v for name, v in sorted(threads.items()) if v > 0},
    }
    if split["dialogue_threads"] is None:
        report["cpu_note"] = (
            f"no server thread named {_DIALOGUE_THREADS}* in /proc (Python < 3.14 does not give threads "
            "OS names): dialogue_threads is None and its CPU is inside loop_and_protocol"
        )
    return report


def _server_cpu_per_action(split: dict[str, float | None], actions_per_session_s: float) -> float | None:
    """The server's CPU per action answered, ms: its loop and protocol plus the agents, over the
    actions; an upper bound (the loop's share also carries frames' reading, events and the rest)."""
    loop, agents = split["loop_and_protocol"], split["acts_model"]
    if loop is None or agents is None or actions_per_session_s <= 0:
        return None
    return round((loop + agents) / actions_per_session_s, 4)


# ---------------------------------------------------------------------------- the ramp


class _ClientProcess:
    """One ``python -m gameai.bench.capacity_client``: JSON-line commands in, answers out (see there)."""

    def __init__(self, url: str, config: CapacityBenchConfig) -> None:
        settings = json.dumps(dataclasses.asdict(config))
        command = [sys.executable, "-m", "gameai.bench.capacity_client", url, settings]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self.process.pid
        self._answers: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._answers.put(line)
        self._answers.put("")  # the end

    def send(self, *command: Any) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def receive(self, kind: str, timeout_s: float) -> list[Any]:
        """The next answer, which must be ``kind``.

        Raises:
            RuntimeError: If the process failed, ended, answered something else or nothing in time.
        """
        try:
            line = self._answers.get(timeout=timeout_s)
        except queue.Empty:
            raise RuntimeError(f"a client process did not answer {kind!r} within {timeout_s:g} s") from None
        if not line:
            raise RuntimeError(f"a client process ended (exit status {self.process.wait()})")
        answer: list[Any] = json.loads(line)
        if answer[0] == "failed":
            raise RuntimeError(f"a client process failed:\n{answer[1]}")
        if answer[0] != kind:
            raise RuntimeError(f"a client process answered {answer[0]!r}, expected {kind!r}")
        return answer

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.send("quit")
            assert self.process.stdin is not None
            self.process.stdin.close()
        try:
            self.process.wait(10.0)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _sleep_until(wall: float) -> None:
    time.sleep(max(0.0, wall - time.time()))


def _slo(config: CapacityBenchConfig, latency: dict[str, dict[str, Any]], errors: int) -> dict[str, Any]:
    slo: dict[str, Any] = {}
    limits = {
        "act": config.slo_action_p99_ms,
        "behaviour": config.slo_behaviour_p99_ms,
        "dialogue_first_token": config.slo_dialogue_first_token_p99_ms,
    }
    for name, limit in limits.items():
        p99 = latency[name]["p99_ms"]  # None: nothing measured, which does not hold
        slo[f"{name}_p99_ms"] = {"limit": limit, "measured": p99, "held": p99 is not None and p99 <= limit}
    slo["errors"] = {"limit": 0, "measured": errors, "held": errors == 0}
    return slo


def _step(
    n: int, config: CapacityBenchConfig, clients: list[_ClientProcess], url: str, server_pid: int
) -> dict[str, Any]:
    """Run one ramp step of ``n`` sessions (module docstring) and return its report."""
    from gameai.bench.capacity_client import LATENCIES

    shares = [n // len(clients) + (i < n % len(clients)) for i in range(len(clients))]
    for i, (client, share) in enumerate(zip(clients, shares, strict=True)):
        client.send("open", share, sum(shares[:i]), n)
    connected = sum(
        client.receive("opened", 30.0 + share)[1] for client, share in zip(clients, shares, strict=True)
    )
    start_at = time.time() + 0.5
    for client in clients:
        client.send("go", start_at)
    client_pids = [client.pid for client in clients]
    _sleep_until(start_at + config.warmup_s)
    before = _cpu_snapshot(server_pid, client_pids, url)
    _sleep_until(start_at + config.warmup_s + config.seconds)
    after = _cpu_snapshot(server_pid, client_pids, url)
    parts = [client.receive("figures", 60.0)[1] for client in clients]
    errors: dict[str, int] = {}
    for part in parts:
        for kind, count in part["errors"].items():
            errors[kind] = errors.get(kind, 0) + count
    latency = {}
    for name in LATENCIES:
        values = [x for part in parts for x in part["latencies"][name]]
        latency[name] = {"count": len(values), **percentiles_ms(values, (50, 99))}
        latency[name]["max_ms"] = round(max(values) * 1000.0, 2) if values else None
    session_seconds = max(1, connected) * config.seconds
    slo = _slo(config, latency, sum(errors.values()))
    cpu = _cpu_split(before, after, session_seconds)
    return {
        "sessions": n,
        "connected": connected,
        "latency_ms": latency,
        "answered_per_session_s": {
            name: round(latency[name]["count"] / session_seconds, 3) for name in LATENCIES
        },
        "frames": {
            key: sum(p[key] for p in parts)
            for key in ("frames_sent", "frames_unanswered", "frames_dropped_by_server")
        },
        "errors": errors,
        **cpu,
        "server_cpu_ms_per_action_at_most": _server_cpu_per_action(
            cpu["cpu_ms_per_session_s"], latency["act"]["count"] / session_seconds
        ),
        "slo": slo,
        "held": all(entry["held"] for entry in slo.values()),
    }


@contextlib.contextmanager
def _client_processes(url: str, config: CapacityBenchConfig) -> Iterator[list[_ClientProcess]]:
    clients: list[_ClientProcess] = []
    try:
        for _ in range(config.client_processes):
            clients.append(_ClientProcess(url, config))
        yield clients
    finally:
        for client in clients:
            client.stop()


def run_capacity_benchmark(config: CapacityBenchConfig) -> dict[str, Any]:
    """Measure the models alone, then ramp live sessions (module docstring); return the JSON-ready report."""
    from gameai.server.process import ServerProcess

    if not config.sessions or min(config.sessions) < 1 or config.client_processes < 1:
        raise ValueError("sessions must be >= 1 and client_processes >= 1")
    periods = (config.dialogue_every_s, config.events_every_s, config.match_every_s)
    if min(config.warmup_s, config.seconds, config.act_hz, *periods) <= 0 or config.behaviour_every < 1:
        raise ValueError(
            "warmup_s, seconds, act_hz, dialogue_every_s, events_every_s and match_every_s must be > 0, "
            "behaviour_every >= 1"
        )
    started = time.perf_counter()
    assets = Path(config.assets_dir)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    models = _model_costs(assets, config, cores)
    dialogue = str(assets / "dialogue" / "model")
    args = [
        "--behaviour-model", str(assets / "behaviour"), "--dialogue-model", dialogue,
        "--agents-dir", str(assets / "agents"), "--device", "cpu", "--event-loop", config.event_loop,
        "--max-sessions", str(max(config.sessions) + 16), "--max-sessions-per-address", "0",
    ]  # fmt: skip
    steps: list[dict[str, Any]] = []
    with ServerProcess(args) as server:
        assert server.process is not None
        with _client_processes(server.url, config) as clients:
            for n in config.sessions:
                steps.append(_step(n, config, clients, server.url, server.process.pid))
                if not steps[-1]["held"]:
                    break
                time.sleep(1.0)  # the closed sessions leave the server
        warnings = [line for line in server.log_lines if " WARNING " in line or " ERROR " in line][-20:]
    held = [step["sessions"] for step in steps if step["held"]]
    broken = next((step for step in steps if not step["held"]), None)
    return {
        "benchmark": "capacity",
        "machine": {**machine_info(), "usable_cores": cores},
        "config": dataclasses.asdict(config),
        **models,
        "steps": steps,
        "largest_sessions_held": max(held) if held else None,
        "first_step_broken": None
        if broken is None
        else {
            "sessions": broken["sessions"],
            "why": sorted(name for name, entry in broken["slo"].items() if not entry["held"]),
        },
        "server_log_warnings": warnings,
        "seconds": round(time.perf_counter() - started, 1),
    }
