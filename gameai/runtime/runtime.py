"""The model runtime: loads whatever is in ``assets/`` and runs one worker per model.

:meth:`ModelRuntime.load` tries every model independently. A model that is missing or
corrupt is logged with the reason and listed as ``unavailable`` in :attr:`ModelRuntime.models`
(which becomes ``welcome.models``); the other models are served regardless.

Calling order: :meth:`ModelRuntime.load` (blocking, before serving), :meth:`ModelRuntime.start`
(on the event loop), then submit to :attr:`behaviour`, :attr:`agents`, :attr:`dialogue`;
:meth:`ModelRuntime.stop` at shutdown (finishes queued frames and actions, cancels replies).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gameai.agents.actor import ActorConfig, load_actor
from gameai.behaviour.calibration import DEFAULT_MIN_PRECISION, BotLikeGuard, bot_like_guard
from gameai.behaviour.model import BehaviourNetConfig, load_behaviour_model
from gameai.dialogue.types import DialogueBackend
from gameai.model_files import ModelLoadError
from gameai.observability.metrics import ServiceMetrics
from gameai.paths import resolve_path
from gameai.protocol.messages import AgentSpec, BehaviourSpec, BotLikeMinimum, ModelInfo
from gameai.runtime.batching import BatchingConfig, BatchingWorker
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.device import select_device
from gameai.runtime.dialogue import DialogueWorker
from gameai.runtime.model_process import SLOTS, BehaviourProcess, ModelProcessError, process_workers_supported
from gameai.runtime.models import ActRequest, AgentPolicy, BehaviourClassifier, WindowRequest
from gameai.session.smoothing import SmoothingConfig, smoothing_config

logger = logging.getLogger(__name__)


def cpu_inference_threads() -> int:
    """Torch threads for serving on CPU: one fewer than the usable cores, at least 1.

    Torch's OpenMP threads spin after each operation; using every core starves the event
    loop (on 2 cores, p99 latency at 32 clients x 10 fps went from ~20 ms to ~1 s).
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, cores - 1)


@dataclass
class BehaviourService:
    """The behaviour model being served."""

    config: BehaviourNetConfig
    worker: BatchingWorker[WindowRequest, np.ndarray]
    classifier: BehaviourClassifier
    """The model in this process (for direct calls; the worker may run it in a child process)."""
    smoothing: SmoothingConfig = field(default_factory=SmoothingConfig)
    """How each session smooths its results over time."""
    process: BehaviourProcess | None = None
    """The child process the worker runs the model in (None: on the worker's thread)."""
    bot_like_min_precision: float | None = None
    """The calibrated ``bot_like`` precision ``smoothing`` holds that label to (None: none)."""

    @property
    def spec(self) -> BehaviourSpec:
        """The frame format clients must send (``welcome.behaviour``)."""
        height, width = self.config.frame_size
        return BehaviourSpec(
            width=width,
            height=height,
            channels=self.config.channels,
            frames_per_window=self.config.frames_per_window,
            sample_fps=self.config.sample_fps,
            classes=self.config.class_names,
            bot_like_min_precision=self.bot_like_min_precision,
            bot_like_minimums=tuple(
                BotLikeMinimum(from_s=from_s, min_probability=p)
                for from_s, p in self.smoothing.minimums_of("bot_like")
            ),
        )


@dataclass
class AgentService:
    """One agent being served."""

    name: str
    config: ActorConfig
    worker: BatchingWorker[ActRequest, tuple[int, ...]]

    @property
    def spec(self) -> AgentSpec:
        """What ``act`` takes and returns (``welcome.agents[name]``)."""
        return AgentSpec(
            obs_dim=self.config.obs_dim,
            action_nvec=self.config.action_nvec,
            difficulty_input=self.config.difficulty_input,
        )


@dataclass
class ModelRuntime:
    """The loaded models and their workers (see the module docstring)."""

    device: torch.device
    models: dict[str, ModelInfo] = field(default_factory=dict)
    """Status of every model, as sent in ``welcome.models``."""
    behaviour: BehaviourService | None = None
    dialogue: DialogueWorker | None = None
    agents: dict[str, AgentService] = field(default_factory=dict)

    @property
    def default_agent(self) -> str | None:
        """The agent ``act`` uses when none is named: the first ready one by name."""
        return min(self.agents) if self.agents else None

    @classmethod
    def load(
        cls,
        config: RuntimeConfig,
        metrics: ServiceMetrics | None = None,
        dialogue_backend: DialogueBackend | None = None,
    ) -> ModelRuntime:
        """Load every configured model; failures are logged and reported, never raised.

        Args:
            config: Model paths, device and batching.
            metrics: Where workers record their metrics.
            dialogue_backend: Serve this backend instead of loading ``config.dialogue_model``
                (for embedding gameai with a backend of one's own).

        Returns:
            The runtime, not started.

        Raises:
            ValueError: If the device preference cannot be satisfied.
        """
        device = select_device(config.device)
        threads = config.torch_threads or (cpu_inference_threads() if device.type == "cpu" else 0)
        if threads > 0:
            torch.set_num_threads(threads)
        runtime = cls(device=device)
        runtime._load_behaviour(config, metrics, threads)
        runtime._load_dialogue(config, metrics, dialogue_backend)
        runtime._load_agents(config, metrics)
        runtime._await_behaviour_process()
        for key, info in runtime.models.items():
            if metrics is not None:
                metrics.model_up.labels(key).set(1 if info.status == "ready" else 0)
            if info.status == "ready":
                logger.info("model %s ready: %s %s on %s", key, info.name, info.version, device)
            else:
                logger.warning("model %s unavailable: %s", key, info.reason)
        return runtime

    def _load_behaviour(
        self, config: RuntimeConfig, metrics: ServiceMetrics | None, torch_threads: int
    ) -> None:
        if not config.behaviour_model:
            self.models["behaviour"] = ModelInfo(service="behaviour", status="unavailable", reason="disabled")
            return
        model_dir = resolve_path(config.behaviour_model)
        try:
            loaded = load_behaviour_model(model_dir, self.device)
        except ModelLoadError as exc:
            self.models["behaviour"] = ModelInfo(service="behaviour", status="unavailable", reason=str(exc))
            return
        smoothing = smoothing_config(config, loaded.metadata)  # a bad setting raises before any child starts
        guard = _log_bot_like_guard(config, loaded.metadata)
        classifier = BehaviourClassifier(loaded)
        process = None
        if config.behaviour_process and process_workers_supported():
            try:
                exits = metrics.model_process_exits_total.labels("behaviour") if metrics is not None else None
                process = BehaviourProcess(
                    model_dir,
                    loaded.config,
                    str(self.device),
                    torch_threads,
                    config.behaviour_max_batch,
                    on_exit=exits.inc if exits is not None else None,
                )
            except OSError as exc:
                logger.warning("behaviour model process not started (%s); the model runs on a thread", exc)
        batching = BatchingConfig(
            config.behaviour_max_batch, config.behaviour_max_wait_ms, config.model_max_queue
        )
        worker: BatchingWorker[WindowRequest, np.ndarray] = BatchingWorker(
            "behaviour", process or classifier, batching, metrics, threads=SLOTS if process else 1
        )
        precision = guard.schedule.precision if guard.schedule is not None else None
        self.behaviour = BehaviourService(loaded.config, worker, classifier, smoothing, process, precision)
        self.models["behaviour"] = ModelInfo(
            service="behaviour",
            status="ready",
            name=Path(config.behaviour_model).name,
            version=loaded.version,
            random_init=bool(loaded.metadata.get("random_init", False)),
        )

    def _await_behaviour_process(self) -> None:
        """Wait for the behaviour model's child process; if it cannot start, use a thread instead."""
        service = self.behaviour
        if service is None or service.process is None:
            return
        try:
            service.process.wait_ready()
        except ModelProcessError as exc:
            logger.warning("%s; the behaviour model runs on a thread of this process instead", exc)
            service.process.close()
            service.process = None
            service.worker = BatchingWorker(
                "behaviour", service.classifier, service.worker.config, service.worker.metrics
            )

    def _load_dialogue(
        self, config: RuntimeConfig, metrics: ServiceMetrics | None, backend: DialogueBackend | None
    ) -> None:
        if backend is None:
            if not config.dialogue_model:
                self.models["dialogue"] = ModelInfo(
                    service="dialogue", status="unavailable", reason="disabled"
                )
                return
            from gameai.dialogue.hf_backend import HuggingFaceBackend

            try:
                backend = HuggingFaceBackend.load(resolve_path(config.dialogue_model), self.device)
            except ModelLoadError as exc:
                self.models["dialogue"] = ModelInfo(service="dialogue", status="unavailable", reason=str(exc))
                return
        self.dialogue = DialogueWorker(
            "dialogue",
            backend,
            config.dialogue_concurrency,
            config.dialogue_max_queue,
            metrics,
            max_batch=config.dialogue_max_batch,
        )
        self.models["dialogue"] = ModelInfo(
            service="dialogue", status="ready", name=backend.name, version=backend.version
        )

    def _load_agents(self, config: RuntimeConfig, metrics: ServiceMetrics | None) -> None:
        if not config.agents_dir:
            return
        root = resolve_path(config.agents_dir)
        directories = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        if not directories:
            self.models["agent"] = ModelInfo(
                service="agent", status="unavailable", reason=f"{root}: no agent directories found"
            )
            return
        batching = BatchingConfig(config.agent_max_batch, config.agent_max_wait_ms, config.model_max_queue)
        for directory in directories:
            key = f"agent/{directory.name}"
            try:
                actor = load_actor(directory, self.device)
            except ModelLoadError as exc:
                self.models[key] = ModelInfo(
                    service="agent", status="unavailable", name=directory.name, reason=str(exc)
                )
                continue
            worker: BatchingWorker[ActRequest, tuple[int, ...]] = BatchingWorker(
                key, AgentPolicy(actor), batching, metrics
            )
            self.agents[actor.name] = AgentService(actor.name, actor.config, worker)
            self.models[key] = ModelInfo(
                service="agent",
                status="ready",
                name=actor.name,
                version=actor.version,
                random_init=bool(actor.metadata.get("random_init", False)),
            )

    def start(self) -> None:
        """Start every worker; call from the event loop."""
        if self.behaviour is not None:
            self.behaviour.worker.start()
        if self.dialogue is not None:
            self.dialogue.start()
        for agent in self.agents.values():
            agent.worker.start()

    async def stop(self) -> None:
        """Stop every worker: queued frames and actions finish, replies are cancelled."""
        if self.dialogue is not None:
            await self.dialogue.stop()
        if self.behaviour is not None:
            await self.behaviour.worker.stop()
            if self.behaviour.process is not None:
                await asyncio.to_thread(self.behaviour.process.close)
        for agent in self.agents.values():
            await agent.worker.stop()


def _log_bot_like_guard(config: RuntimeConfig, metadata: Mapping[str, Any]) -> BotLikeGuard:
    """Say how the server holds ``bot_like`` back, and return that (the settings are checked already)."""
    guard = bot_like_guard(metadata, config.behaviour_bot_like_min_precision)
    floor = config.behaviour_bot_like_min_probability
    never_below = f", and never below {floor}" if floor else ""
    if guard.schedule is not None:
        logger.info(
            "behaviour: bot_like held to a minimum smoothed probability by the play a session has "
            "shown: %s (calibrated for precision %s on %d players per style%s)%s",
            guard.schedule.describe(),
            guard.schedule.precision,
            guard.schedule.players_per_style,
            "" if guard.requested else "; the default, --behaviour-bot-like-min-precision 0 turns it off",
            never_below,
        )
    elif guard.requested:
        logger.info("behaviour: bot_like minimum precision %s%s", guard.reason, never_below)
    else:
        sent = f"only at a smoothed probability of at least {floor}" if floor else "like any other label"
        logger.warning(
            "behaviour: bot_like is not held to precision %s (the default): %s; it is sent %s",
            DEFAULT_MIN_PRECISION,
            guard.reason,
            sent,
        )
    return guard
