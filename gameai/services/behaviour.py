"""The behaviour service: a CNN over each session's frames pushes the recognised player behaviour.

:meth:`BehaviourService.load` loads the model directory (``model.safetensors`` +
``config.json``) named by :attr:`~gameai.runtime.config.RuntimeConfig.behaviour_model`; a model
that is missing or corrupt leaves the service up and ``unavailable`` with the reason. Each
session that asks for ``behaviour`` gets a :class:`~gameai.services.behaviour_frames.FramePipeline`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from gameai.behaviour.calibration import DEFAULT_MIN_PRECISION, BotLikeGuard, bot_like_guard
from gameai.behaviour.model import BehaviourNetConfig, load_behaviour_model
from gameai.compute_threads import share_torch_threads
from gameai.model_files import ModelLoadError
from gameai.observability.metrics import ServiceMetrics
from gameai.paths import resolve_path
from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.frames import Frame
from gameai.protocol.messages import BehaviourSpec, BotLikeMinimum, Hello, ModelInfo
from gameai.runtime.batching import BatchingConfig, BatchingWorker
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.model_process import SLOTS, BehaviourProcess, ModelProcessError, process_workers_supported
from gameai.runtime.models import BehaviourClassifier, WindowRequest
from gameai.services.base import Service, SessionContext, SessionService, with_health
from gameai.services.behaviour_frames import FramePipeline
from gameai.session.smoothing import SmoothingConfig, smoothing_config

logger = logging.getLogger(__name__)


@dataclass
class ServedBehaviourModel:
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


class _UnavailableBehaviour(SessionService):
    """A session's behaviour part while the model is unavailable: every frame gets the reason."""

    def __init__(self, reason: str | None, context: SessionContext) -> None:
        self.reason = reason
        self.context = context

    async def on_frame(self, frame: Frame, received_at: float) -> None:
        error = ProtocolError(ErrorCode.MODEL_UNAVAILABLE, f"behaviour model unavailable: {self.reason}")
        error.seq = frame.seq
        await self.context.send_frame_error(error)


class BehaviourService(Service):
    """Frames in, smoothed ``behaviour`` results out (see the module docstring).

    Args:
        info: The model's status.
        model: The served model (None when unavailable).
    """

    name: ClassVar[str] = "behaviour"
    takes_frames: ClassVar[bool] = True

    def __init__(self, info: ModelInfo, model: ServedBehaviourModel | None = None) -> None:
        self.info = info
        self.model = model

    @classmethod
    def load(
        cls, config: RuntimeConfig, device: torch.device, metrics: ServiceMetrics | None, torch_threads: int
    ) -> BehaviourService:
        """Load the model of ``config.behaviour_model`` and start its child process (not its worker).

        Missing or corrupt files give an ``unavailable`` service with the reason, never an error.

        Raises:
            ValueError: If a behaviour setting is out of range, or a ``bot_like`` precision is
                asked of a model whose calibration does not reach it.
        """
        if not config.behaviour_model:
            return cls(ModelInfo(service="behaviour", status="unavailable", reason="disabled"))
        model_dir = resolve_path(config.behaviour_model)
        try:
            loaded = load_behaviour_model(model_dir, device)
        except ModelLoadError as exc:
            return cls(ModelInfo(service="behaviour", status="unavailable", reason=str(exc)))
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
                    str(device),
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
            "behaviour",
            process or classifier,
            batching,
            metrics,
            threads=SLOTS if process else 1,
            check=unfit_probabilities,
            deadline_s=config.model_deadline_s,
            on_hang=process.kill if process is not None else None,
            starting=(lambda: process.starting) if process is not None else None,
            thread_setup=share_torch_threads,
        )
        precision = guard.schedule.precision if guard.schedule is not None else None
        model = ServedBehaviourModel(loaded.config, worker, classifier, smoothing, process, precision)
        info = ModelInfo(
            service="behaviour",
            status="ready",
            name=Path(config.behaviour_model).name,
            version=loaded.version,
            random_init=bool(loaded.metadata.get("random_init", False)),
        )
        return cls(info, model)

    def wait_ready(self) -> None:
        """Wait for the model's child process; if it cannot start, run the model on a thread instead."""
        model = self.model
        if model is None or model.process is None:
            return
        try:
            model.process.wait_ready()
        except ModelProcessError as exc:
            logger.warning("%s; the behaviour model runs on a thread of this process instead", exc)
            model.process.close()
            model.process = None
            model.worker = BatchingWorker(
                "behaviour",
                model.classifier,
                model.worker.config,
                model.worker.metrics,
                check=unfit_probabilities,
                deadline_s=model.worker.deadline_s,
                thread_setup=share_torch_threads,
            )

    def models(self) -> Mapping[str, ModelInfo]:
        """``behaviour``: the model's status (unavailable while it does not answer, or keeps failing)."""
        problem = self.model.worker.health_problem if self.model is not None else None
        return {"behaviour": with_health(self.info, problem)}

    def welcome_fields(self) -> Mapping[str, Any]:
        """``welcome.behaviour``: the frame format clients send (absent while unavailable)."""
        return {"behaviour": self.model.spec} if self.model is not None else {}

    def expected_frame_size(self) -> tuple[int, int] | None:
        """The model's (width, height), or None while unavailable."""
        if self.model is None:
            return None
        height, width = self.model.config.frame_size
        return width, height

    def check_hello(self, hello: Hello) -> tuple[ErrorCode, str] | None:
        """Refuse a hello whose declared frames are not the model's size."""
        size = self.expected_frame_size()
        if hello.frames is None or size is None:
            return None
        if (hello.frames.width, hello.frames.height) != size:
            return (
                ErrorCode.UNSUPPORTED_FRAME_FORMAT,
                f"frames must be {size[0]}x{size[1]}, "
                f"hello declares {hello.frames.width}x{hello.frames.height}",
            )
        return None

    def open_session(self, context: SessionContext) -> SessionService:
        """A frame pipeline for the session (or one that answers every frame with the reason)."""
        if self.model is None:
            return _UnavailableBehaviour(self.info.reason, context)
        return FramePipeline(self.model.config, self.model.worker, self.model.smoothing, context)

    def start(self) -> None:
        """Start the batching worker."""
        if self.model is not None:
            self.model.worker.start()

    async def stop(self) -> None:
        """Finish queued windows, stop the worker and the child process."""
        if self.model is None:
            return
        await self.model.worker.stop()
        if self.model.process is not None:
            await asyncio.to_thread(self.model.process.close)


def unfit_probabilities(probabilities: np.ndarray) -> str | None:
    """Why a window's class probabilities cannot be sent (None: they can).

    Garbled weights can load and then compute NaN or infinity; such a window gets
    ``internal_error`` instead of a result, and the session goes on.
    """
    if not np.all(np.isfinite(probabilities)):
        return "non-finite class probabilities (are the weights corrupt?)"
    return None


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
