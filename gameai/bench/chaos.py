"""``gameai bench chaos``: the fault guarantees of ``docs/operations.md``, measured on a real server.

``gameai serve`` runs in a child process (:class:`~gameai.server.process.ServerProcess`) on a
free loopback port with random test models (:func:`gameai.testing.servers.write_test_assets`,
or the shipped ``assets/`` with ``--shipped-assets``) and ``--model-deadline-s 1``; the clients
run in this process. Scenarios, each reported with its figures and ``passed``:

* ``soak``: ``sessions`` sessions for ``soak_seconds``, each sending frames at the behaviour
  model's ``sample_fps``, ``act`` at ``act_hz`` and a ping a second, plus a canary session
  sending ``act`` at ``act_hz`` and timing each round trip. Figures: requests sent, answered,
  refused with an error, lost (neither answered nor refused: a client timeout or a lost
  connection); 1011 closes (``gameai_closes_total{code="1011"}`` of ``/metrics``); the server's
  RSS at start and end; the canary's p50/p99 and errors.
* ``kill_behaviour_process``: SIGKILL the behaviour model's child process while sessions send
  frames; the time until a frame sent after the kill gets its result; no session closed.
* ``stop_behaviour_process``: the same with SIGSTOP (the server kills a child whose batch overruns
  ``model_deadline_s`` and starts another); ``/healthz`` must say ``degraded`` meanwhile.
* ``corrupt_models``: for each model kind (behaviour, an agent, dialogue), bytes in the middle of
  a copy of its weights overwritten, a server started on it: that model is ``unavailable`` with
  a reason, the others ``ready``.
* ``flood_one_address``: a server with ``--max-sessions 40 --max-sessions-per-address 20``; one
  address opens sessions until refused: the refusal is ``server_full`` naming the per-address
  limit, and once the flood has closed a new session is welcome.

Every request loop is bounded in count and time; every child process is ended at the end.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import os
import shutil
import signal
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gameai import event_loops
from gameai.bench.figures import percentiles_ms, read_metrics
from gameai.bench.machine import machine_info
from gameai.bench.pacing import every
from gameai.bench.procfs import model_process_pid, parent_pid, rss_mb
from gameai.event_loops import EventLoopName

SCENARIOS: tuple[str, ...] = (
    "soak",
    "kill_behaviour_process",
    "stop_behaviour_process",
    "corrupt_models",
    "flood_one_address",
)


@dataclasses.dataclass
class ChaosBenchConfig:
    """Options of ``gameai bench chaos``."""

    scenarios: tuple[str, ...] = SCENARIOS
    """Scenarios to run, in this order (soak, kill_behaviour_process, stop_behaviour_process,
    corrupt_models, flood_one_address)."""
    sessions: int = 32
    """Sessions of the soak (besides the canary)."""
    soak_seconds: float = 60.0
    """Length of the soak, seconds."""
    act_hz: float = 5.0
    """``act`` requests per second of each soak session and of the canary."""
    fault_sessions: int = 4
    """Sessions sending frames and ``act`` while the behaviour process is killed or stopped."""
    shipped_assets: bool = False
    """Serve the shipped models of ``assets_dir`` instead of fast random test models."""
    assets_dir: str = "assets"
    """The shipped models (with ``shipped_assets``): behaviour/, dialogue/model/, agents/."""
    model_deadline_s: float = 1.0
    """The server's model_deadline_s."""
    recovery_limit_s: float = 10.0
    """A killed or stopped behaviour process must be serving again within this, seconds."""
    recovery_timeout_s: float = 30.0
    """How long to wait for the recovery before giving up, seconds."""
    max_rss_growth_mb: float = 200.0
    """The soak fails if the server's RSS grows more than this, MB."""
    flood_max_sessions: int = 40
    """max_sessions of the flood's server."""
    flood_max_sessions_per_address: int = 20
    """max_sessions_per_address of the flood's server."""
    event_loop: EventLoopName = "auto"
    """The event loop of the server and of the clients: auto, uvloop or asyncio."""


# ---------------------------------------------------------------------------- the server, from outside


def _http_get(url: str, path: str, timeout_s: float = 5.0) -> bytes:
    with urllib.request.urlopen(url.replace("ws://", "http://") + path, timeout=timeout_s) as response:
        body: bytes = response.read()
        return body


def _healthz(url: str) -> dict[str, Any]:
    health: dict[str, Any] = json.loads(_http_get(url, "healthz"))
    return health


def _closes_1011(url: str) -> int:
    return int(read_metrics(url, timeout_s=5.0).get('gameai_closes_total{code="1011"}', 0.0))


def _model_process_exits(url: str) -> float:
    return read_metrics(url, timeout_s=5.0).get('gameai_model_process_exits_total{model="behaviour"}', 0.0)


def _wait_for_model_process(server_pid: int, timeout_s: float, not_pid: int | None = None) -> int | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = model_process_pid(server_pid)
        if pid is not None and pid != not_pid:
            return pid
        time.sleep(0.05)
    return None


@contextlib.contextmanager
def _server(models: dict[str, str], extra: list[str], config: ChaosBenchConfig) -> Iterator[Any]:
    from gameai.testing.servers import ServerProcess

    args = [
        "--behaviour-model", models["behaviour"], "--dialogue-model", models["dialogue"],
        "--agents-dir", models["agents"], "--device", "cpu",
        "--model-deadline-s", str(config.model_deadline_s), "--event-loop", config.event_loop,
        *extra,
    ]  # fmt: skip
    server = ServerProcess(args)
    try:
        server.start()
        yield server
    finally:
        server.stop(timeout_s=15.0)


# ---------------------------------------------------------------------------- sessions


def _percentiles(values: list[float]) -> dict[str, float | None]:
    return {**percentiles_ms(values, (50, 99)), "max_ms": round(max(values) * 1000, 2) if values else None}


class _Session:
    """One client session: what it sent, what came back."""

    def __init__(self, client: Any, index: int) -> None:
        behaviour = client.welcome.behaviour
        agent = client.welcome.agents.get(client.welcome.default_agent or "")
        self.client = client
        self.index = index
        rng = np.random.default_rng(index)
        size = (behaviour.height, behaviour.width) if behaviour else (84, 84)
        self.frames = rng.integers(0, 256, (8, *size, 3), dtype=np.uint8)
        self.sample_fps = behaviour.sample_fps if behaviour else 0.0
        self.observation = rng.standard_normal(agent.obs_dim if agent else 0).astype(np.float32)
        self.requests = 0
        self.answered = 0
        self.refused: collections.Counter[str] = collections.Counter()
        self.timed_out = 0
        self.connection_lost = 0
        self.latencies: list[float] = []
        self.seq = 0
        self.sent_at: dict[int, float] = {}
        self.results: list[tuple[float, int]] = []
        self.dropped = 0
        client.on_message = self.on_message

    def on_message(self, message: Any) -> None:
        if message.TYPE == "behaviour":
            self.results.append((time.perf_counter(), message.seq))
            self.dropped += message.dropped_frames

    async def send_frame(self) -> None:
        seq = self.seq
        self.seq += 1
        self.sent_at[seq] = time.perf_counter()
        await self.client.send_frame(self.frames[seq % len(self.frames)], seq=seq)

    async def request(self, kind: str) -> None:
        from gameai.client.async_client import ConnectionLostError, RequestTimeoutError, ServerError

        self.requests += 1
        started = time.perf_counter()
        try:
            if kind == "act":
                await self.client.act("npc-1", self.observation)
            else:
                await self.client.ping()
        except ServerError as exc:
            self.refused[exc.code] += 1
        except RequestTimeoutError:
            self.timed_out += 1
        except ConnectionLostError:
            self.connection_lost += 1
        else:
            self.answered += 1
            self.latencies.append(time.perf_counter() - started)

    @property
    def lost(self) -> int:
        """Requests with neither an answer nor a refusal from the server."""
        return self.requests - self.answered - sum(self.refused.values())

    @property
    def closed(self) -> bool:
        return bool(self.client.closed.done())


async def _open(url: str, count: int, first_index: int = 0) -> list[_Session]:
    from gameai.client.async_client import ClientConfig, GameAIClient

    sessions = []
    for index in range(first_index, first_index + count):
        config = ClientConfig(url=url, game_id=f"chaos-{index}", behaviour_every=1)
        sessions.append(_Session(await GameAIClient.connect(config), index))
    return sessions


async def _close(sessions: list[_Session]) -> None:
    for session in sessions:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(session.client.close(), 5.0)


async def _drive(
    sessions: list[_Session], until: Callable[[], bool], act_hz: float, pings: bool = True
) -> None:
    """Frames at each session's sample_fps, act at ``act_hz`` and (``pings``) a ping a second."""
    tasks = []
    for i, session in enumerate(sessions):
        offset = i / max(1, len(sessions))
        tasks.append(every(session.sample_fps, offset, until, session.send_frame))
        if session.observation.size:
            tasks.append(every(act_hz, offset, until, lambda s=session: s.request("act")))  # type: ignore[misc]
        if pings:
            tasks.append(every(1.0, offset, until, lambda s=session: s.request("ping")))  # type: ignore[misc]
    await asyncio.gather(*tasks)


def _request_figures(sessions: list[_Session]) -> dict[str, Any]:
    refused: collections.Counter[str] = collections.Counter()
    for session in sessions:
        refused.update(session.refused)
    return {
        "requests_sent": sum(s.requests for s in sessions),
        "answered": sum(s.answered for s in sessions),
        "refused_with_error": dict(refused),
        "lost": sum(s.lost for s in sessions),
        "timed_out": sum(s.timed_out for s in sessions),
        "sessions_closed": sum(s.closed for s in sessions),
        "frames_sent": sum(s.seq for s in sessions),
        "behaviour_results": sum(len(s.results) for s in sessions),
        "frames_dropped_by_server": sum(s.dropped for s in sessions),
    }


# ---------------------------------------------------------------------------- scenarios


async def _soak(url: str, server_pid: int, config: ChaosBenchConfig) -> dict[str, Any]:
    closes_before = await asyncio.to_thread(_closes_1011, url)
    sessions = await _open(url, config.sessions)
    canary = (await _open(url, 1, first_index=config.sessions))[0]
    rss_start = rss_mb(server_pid)
    model_pid = model_process_pid(server_pid)
    model_rss_start = rss_mb(model_pid) if model_pid else None
    rss_samples: list[float] = []
    end = time.perf_counter() + config.soak_seconds

    def over() -> bool:
        return time.perf_counter() >= end

    async def sample_rss() -> None:
        while not over():
            rss = rss_mb(server_pid)
            if rss is not None:
                rss_samples.append(rss)
            await asyncio.sleep(1.0)

    try:
        await asyncio.gather(
            _drive(sessions, over, config.act_hz),
            every(config.act_hz, 0.5, over, lambda: canary.request("act")),
            sample_rss(),
        )
        figures = _request_figures(sessions)
    finally:
        await _close([*sessions, canary])
    rss_end = rss_mb(server_pid)
    model_pid_end = model_process_pid(server_pid)
    closes = await asyncio.to_thread(_closes_1011, url) - closes_before
    growth = round(rss_end - rss_start, 1) if rss_start is not None and rss_end is not None else None
    canary_figures = {
        "requests_sent": canary.requests,
        "answered": canary.answered,
        "errors": sum(canary.refused.values()) + canary.lost,
        **_percentiles(canary.latencies),
    }
    report = {
        "sessions": config.sessions,
        "seconds": config.soak_seconds,
        **figures,
        "closes_1011": closes,
        "server_rss_mb": {
            "start": rss_start,
            "end": rss_end,
            "max": max(rss_samples, default=None),
            "growth": growth,
        },
        "model_process_rss_mb": {
            "start": model_rss_start,
            "end": rss_mb(model_pid_end) if model_pid_end else None,
        },
        "canary_act": canary_figures,
    }
    report["passed"] = (
        figures["lost"] == 0
        and closes == 0
        and figures["sessions_closed"] == 0
        and canary_figures["errors"] == 0
        and growth is not None
        and growth < config.max_rss_growth_mb
    )
    return report


async def _fault(url: str, server_pid: int, config: ChaosBenchConfig, sig: int) -> dict[str, Any]:
    """Sessions send frames and act; the behaviour process gets ``sig``; how long until results flow."""
    closes_before = await asyncio.to_thread(_closes_1011, url)
    exits_before = await asyncio.to_thread(_model_process_exits, url)
    victim = await asyncio.to_thread(_wait_for_model_process, server_pid, 30.0)
    if victim is None:
        return {"passed": False, "error": "no behaviour model process found (is --behaviour-process on?)"}
    sessions = await _open(url, config.fault_sessions, first_index=1000)
    stop = False
    faulted_at = 0.0
    recovered_at: float | None = None
    health_seen: collections.Counter[str] = collections.Counter()
    polling = threading.Event()

    def poll_health() -> None:
        while not polling.is_set():
            with contextlib.suppress(Exception):
                health = _healthz(url)
                health_seen[health["status"]] += 1
                if health["models"].get("behaviour") != "ready":
                    health_seen["behaviour_" + str(health["models"].get("behaviour"))] += 1
            time.sleep(0.005)

    def fresh_result() -> float | None:
        """When the first result of a frame sent after the fault arrived."""
        times = [t for s in sessions for t, seq in s.results if s.sent_at.get(seq, 0.0) > faulted_at]
        return min(times, default=None)

    driver = asyncio.ensure_future(_drive(sessions, lambda: stop, config.act_hz, pings=False))
    poller = threading.Thread(target=poll_health, daemon=True)
    try:
        warm_until = time.perf_counter() + config.recovery_timeout_s
        while not all(s.results for s in sessions) and time.perf_counter() < warm_until:
            await asyncio.sleep(0.05)
        results_before = sum(len(s.results) for s in sessions)
        poller.start()
        faulted_at = time.perf_counter()
        os.kill(victim, sig)
        give_up = faulted_at + config.recovery_timeout_s
        while time.perf_counter() < give_up:
            recovered_at = fresh_result()
            if recovered_at is not None:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.0)  # results keep flowing after the first
    finally:
        stop = True
        polling.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(driver, 15.0)
        if sig != signal.SIGKILL and parent_pid(victim) == server_pid:
            with contextlib.suppress(OSError):
                os.kill(victim, signal.SIGKILL)
        if poller.is_alive():
            poller.join(5.0)
        figures = _request_figures(sessions)
        errors: collections.Counter[str] = collections.Counter(
            e.code for s in sessions for e in s.client.errors
        )
        await _close(sessions)
    replacement = await asyncio.to_thread(_wait_for_model_process, server_pid, 5.0, victim)
    closes = await asyncio.to_thread(_closes_1011, url) - closes_before
    exits = await asyncio.to_thread(_model_process_exits, url)
    recovery_s = round(recovered_at - faulted_at, 3) if recovered_at is not None else None
    report: dict[str, Any] = {
        "signal": signal.Signals(sig).name,
        "killed_pid": victim,
        "new_pid": replacement,
        "sessions": config.fault_sessions,
        "results_before_fault": results_before,
        "recovery_s": recovery_s,
        "recovery_limit_s": config.recovery_limit_s,
        **figures,
        "frame_errors": dict(errors),
        "closes_1011": closes,
        "model_process_exits": int(exits - exits_before),
        "healthz_seen": dict(health_seen),
    }
    passed = (
        recovery_s is not None
        and recovery_s <= config.recovery_limit_s
        and figures["sessions_closed"] == 0
        and figures["lost"] == 0
        and closes == 0
        and replacement is not None
        and set(errors) <= {"internal_error"}
    )
    if sig == signal.SIGSTOP:
        passed = passed and health_seen["degraded"] > 0
    report["passed"] = passed
    return report


def _corrupt_one(
    kind: str, models: dict[str, str], scratch: Path, config: ChaosBenchConfig
) -> dict[str, Any]:
    root = scratch / f"corrupt-{kind}"
    copy = {key: str(root / key) for key in ("behaviour", "dialogue", "agents")}
    for key in copy:
        shutil.copytree(models[key], copy[key])
    agent = sorted(p.name for p in Path(copy["agents"]).iterdir() if p.is_dir())[0]
    key, weights = {
        "behaviour": ("behaviour", Path(copy["behaviour"]) / "model.safetensors"),
        "agent": (f"agent/{agent}", Path(copy["agents"]) / agent / "actor.safetensors"),
        "dialogue": ("dialogue", Path(copy["dialogue"]) / "model.safetensors"),
    }[kind]
    from gameai.testing.tiny_models import garble_middle

    garble_middle(weights)
    with _server(copy, ["--no-behaviour-process"], config) as server:
        health = _healthz(server.url)
        reasons = _reasons(server.url, config.event_loop)
    others = {name: status for name, status in health["models"].items() if name != key}
    report = {
        "model": key,
        "file": str(weights.relative_to(root)),
        "status": health["models"].get(key),
        "reason": reasons.get(key),
        "others": others,
        "healthz": health["status"],
    }
    report["passed"] = (
        report["status"] == "unavailable"
        and bool(report["reason"])
        and all(status == "ready" for status in others.values())
    )
    return report


def _reasons(url: str, event_loop: EventLoopName) -> dict[str, str | None]:
    """The reason of each model in a session's welcome."""
    from gameai.client.async_client import ClientConfig, GameAIClient

    async def ask() -> dict[str, str | None]:
        client = await GameAIClient.connect(ClientConfig(url=url, game_id="chaos-corrupt"))
        try:
            return {name: info.reason for name, info in client.welcome.models.items()}
        finally:
            await client.close()

    return event_loops.run(ask(), event_loop)


def _corrupt_models(models: dict[str, str], scratch: Path, config: ChaosBenchConfig) -> dict[str, Any]:
    kinds = ("behaviour", "agent", "dialogue")
    with concurrent.futures.ThreadPoolExecutor(len(kinds)) as pool:
        futures = {kind: pool.submit(_corrupt_one, kind, models, scratch, config) for kind in kinds}
        kinds_report: dict[str, Any] = {}
        for kind, future in futures.items():
            try:
                kinds_report[kind] = future.result()
            except Exception as exc:  # reported, not raised: the other scenarios still run
                kinds_report[kind] = {"passed": False, "error": f"{type(exc).__name__}: {exc}"}
    return {"kinds": kinds_report, "passed": all(k["passed"] for k in kinds_report.values())}


async def _flood(url: str, config: ChaosBenchConfig) -> dict[str, Any]:
    from gameai.client.async_client import ClientConfig, GameAIClient, HelloRefusedError

    limit = config.flood_max_sessions_per_address
    flood: list[Any] = []
    refusal: dict[str, Any] | None = None
    try:
        for index in range(config.flood_max_sessions + 1):  # bounded: the server's total
            try:
                flood.append(
                    await GameAIClient.connect(
                        ClientConfig(url=url, game_id=f"flood-{index}", services=("agents",))
                    )
                )
            except HelloRefusedError as exc:
                refusal = {
                    "after_sessions": len(flood),
                    "code": exc.error.code if exc.error else None,
                    "message": exc.error.message if exc.error else None,
                    "close_code": exc.close_code,
                }
                break
        health_during = await asyncio.to_thread(_healthz, url)
    finally:
        for client in flood:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.close(), 5.0)
    opened = len(flood)
    welcome_after = False
    deadline = time.perf_counter() + 10.0
    while not welcome_after and time.perf_counter() < deadline:  # the server may still be closing them
        try:
            client = await GameAIClient.connect(
                ClientConfig(url=url, game_id="after-flood", services=("agents",))
            )
        except HelloRefusedError:
            await asyncio.sleep(0.1)
            continue
        welcome_after = True
        await client.close()
    closes = await asyncio.to_thread(_closes_1011, url)
    message = (refusal or {}).get("message") or ""
    report = {
        "max_sessions": config.flood_max_sessions,
        "max_sessions_per_address": limit,
        "sessions_opened": opened,
        "refusal": refusal,
        "healthz_during_flood": health_during["status"],
        "new_session_welcome_after_flood": welcome_after,
        "closes_1011": closes,
    }
    report["passed"] = (
        opened == limit
        and refusal is not None
        and refusal["code"] == "server_full"
        and "this address" in message
        and "max_sessions_per_address" in message
        and welcome_after
        and closes == 0
    )
    return report


# ---------------------------------------------------------------------------- the run


def _models(config: ChaosBenchConfig, scratch: Path) -> tuple[dict[str, str], str]:
    if config.shipped_assets:
        root = Path(config.assets_dir)
        what = f"shipped models of {root}"
    else:
        from gameai.testing.servers import write_test_assets

        root = write_test_assets(scratch / "assets", small=True, dialogue=True)
        what = "random test models (gameai.testing.servers.write_test_assets)"
    models = {
        "behaviour": str(root / "behaviour"),
        "dialogue": str(root / "dialogue" / "model"),
        "agents": str(root / "agents"),
    }
    return models, what


def run_chaos_benchmark(config: ChaosBenchConfig) -> dict[str, Any]:
    """Run the scenarios of the module docstring and return the JSON-ready report."""
    unknown = set(config.scenarios) - set(SCENARIOS)
    if unknown:
        raise ValueError(f"unknown scenarios {sorted(unknown)}; known: {', '.join(SCENARIOS)}")
    if config.sessions < 1 or config.soak_seconds <= 0 or config.fault_sessions < 1:
        raise ValueError("sessions, soak_seconds and fault_sessions must be > 0")
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="gameai-chaos-") as scratch_name:
        scratch = Path(scratch_name)
        models, what = _models(config, scratch)
        live = [
            s for s in config.scenarios if s in ("soak", "kill_behaviour_process", "stop_behaviour_process")
        ]
        if live:
            extra = ["--max-sessions", str(max(64, config.sessions + config.fault_sessions + 8)),
                     "--max-sessions-per-address", "0"]  # fmt: skip
            with _server(models, extra, config) as server:
                pid = server.process.pid

                async def run_live() -> None:
                    for name in live:
                        if name == "soak":
                            results[name] = await _soak(server.url, pid, config)
                        else:
                            sig = signal.SIGKILL if name == "kill_behaviour_process" else signal.SIGSTOP
                            results[name] = await _fault(server.url, pid, config, sig)

                event_loops.run(run_live(), config.event_loop)
                results["server_log_warnings"] = [
                    line for line in server.log_lines if " WARNING " in line or " ERROR " in line
                ][-20:]
        if "corrupt_models" in config.scenarios:
            results["corrupt_models"] = _corrupt_models(models, scratch, config)
        if "flood_one_address" in config.scenarios:
            extra = ["--max-sessions", str(config.flood_max_sessions),
                     "--max-sessions-per-address", str(config.flood_max_sessions_per_address)]  # fmt: skip
            with _server(models, extra, config) as server:
                results["flood_one_address"] = event_loops.run(_flood(server.url, config), config.event_loop)
    scenarios = {name: results[name] for name in config.scenarios}
    return {
        "benchmark": "chaos",
        "machine": machine_info(),
        "models": what,
        "settings": dataclasses.asdict(config),
        "scenarios": scenarios,
        "server_log_warnings": results.get("server_log_warnings", []),
        "passed": all(entry["passed"] for entry in scenarios.values()),
        "seconds": round(time.perf_counter() - started, 1),
    }
