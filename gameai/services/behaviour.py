"""The behaviour service: a CNN over each session's frames pushes the recognised player behaviour.

:meth:`BehaviourService.load` loads the model directory (``model.safetensors`` +
``config.json``) of the default set (:attr:`~gameai.runtime.config.RuntimeConfig.behaviour_model`,
else the default game's) and of every other game of the models directory
(:mod:`~gameai.services.game_models`), each with its own batching worker and child process; a
model that is missing or corrupt leaves the service up and ``unavailable`` with the reason. Each
session that asks for ``behaviour`` gets a :class:`~gameai.services.behaviour_frames.FramePipeline`
on the model of its ``hello.game_id``, or the default set's.

With ``--record-dir``, a session whose ``hello.record`` asks for it is recorded into its game's
dataset, and its ``label`` messages label the recorded frames
(:mod:`~gameai.services.behaviour_recording`); otherwise nothing of a session is stored.
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

from gameai.behaviour.calibration import (
    DEFAULT_MIN_PRECISION,
    BotLikeGuard,
    accusation_classes,
    bot_like_guard,
    class_calibration_metadata,
)
from gameai.behaviour.look import FrameLook, load_frame_look
from gameai.behaviour.model import BehaviourNetConfig, load_behaviour_model
from gameai.compute_threads import share_torch_threads
from gameai.model_files import ModelLoadError
from gameai.observability.metrics import ServiceMetrics
from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.frames import Frame
from gameai.protocol.messages import (
    AccusationMinimum,
    BehaviourSpec,
    BotLikeMinimum,
    Hello,
    Label,
    Message,
    ModelInfo,
)
from gameai.runtime.batching import BatchingConfig, BatchingWorker
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.model_process import SLOTS, BehaviourProcess, ModelProcessError, process_workers_supported
from gameai.runtime.models import BehaviourClassifier, WindowRequest
from gameai.services.base import RequestJob, Service, SessionContext, SessionService, with_health
from gameai.services.behaviour_frames import FramePipeline
from gameai.services.behaviour_recording import (
    BehaviourRecordings,
    SessionRecording,
    recording_without_behaviour,
)
from gameai.services.game_models import ServedGames, model_key, served_games
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
    """The calibrated precision ``smoothing`` holds the accusation classes to (None: none)."""
    accusation_classes: tuple[str, ...] = ()
    """The model's classes a game may act against a player on (``bot_like`` for the arena's)."""
    look: FrameLook | None = None
    """The model's frame look: which windows are ``unknown`` (None: the model has none)."""

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
            accusation_classes=self.accusation_classes,
            accusation_minimums=tuple(
                AccusationMinimum(label=label, from_s=from_s, min_probability=p)
                for label in self.accusation_classes
                for from_s, p in self.smoothing.minimums_of(label)
            ),
            unknown_threshold=self.look.threshold if self.look is not None else None,
        )


class _UnavailableBehaviour(SessionService):
    """A session's behaviour part while the model is unavailable: every frame gets the reason
    (and a session that asked to be recorded is not)."""

    def __init__(self, reason: str | None, context: SessionContext, recording: SessionRecording) -> None:
        self.reason = reason
        self.context = context
        self.recording = recording

    def welcome_fields(self) -> Mapping[str, Any]:
        """``welcome.recording`` (not recorded) when the session asked to be."""
        return self.recording.welcome_fields()

    def handle(self, message: Message, received_at: float) -> RequestJob | None:
        """A ``label``: refused with ``not_recording``."""
        if not isinstance(message, Label):
            return super().handle(message, received_at)
        self.recording.set_label(message)
        return None

    async def on_frame(self, frame: Frame, received_at: float) -> None:
        error = ProtocolError(ErrorCode.MODEL_UNAVAILABLE, f"behaviour model unavailable: {self.reason}")
        error.seq = frame.seq
        await self.context.send_frame_error(error)


class BehaviourService(Service):
    """Frames in, smoothed ``behaviour`` results out (see the module docstring).

    Args:
        info: The default set's model's status.
        model: The default set's served model (None when unavailable).
        games: Every other game's model, each served like the default set's, by game id.
        recordings: Where sessions that ask to be recorded are (default: nowhere, recording off;
            :mod:`~gameai.services.behaviour_recording`).
    """

    name: ClassVar[str] = "behaviour"
    message_types: ClassVar[tuple[type[Message], ...]] = (Label,)
    takes_frames: ClassVar[bool] = True

    def __init__(
        self,
        info: ModelInfo,
        model: ServedBehaviourModel | None = None,
        games: Mapping[str, BehaviourService] | None = None,
        recordings: BehaviourRecordings | None = None,
    ) -> None:
        self.info = info
        self.model = model
        self.absent = False
        """Whether this is a game that has no behaviour model (not listed among the server's
        models: nothing is broken; its sessions are told it has none)."""
        self.games: dict[str, BehaviourService] = dict(games or {})
        self.recordings = recordings if recordings is not None else BehaviourRecordings(None)

    @classmethod
    def load(
        cls,
        config: RuntimeConfig,
        device: torch.device,
        metrics: ServiceMetrics | None,
        torch_threads: int,
        games: ServedGames | None = None,
    ) -> BehaviourService:
        """Load the default set's model and every other game's, and start their child processes
        (not their workers).

        Args:
            config: Batching, smoothing and where the models run.
            device: Where the models run.
            metrics: Where workers record their metrics.
            torch_threads: Each child process's torch threads.
            games: The served games (default: :func:`~gameai.services.game_models.served_games`).

        Raises:
            ValueError: From :meth:`load_model`.
        """
        games = games if games is not None else served_games(config)
        service = cls.load_model(config, device, metrics, torch_threads, games.default.behaviour)
        for game_id, game in games.games.items():
            service.games[game_id] = cls.load_model(
                config, device, metrics, torch_threads, game.behaviour, game_id
            )
        service.recordings = BehaviourRecordings.from_config(config)
        service.recordings.log()
        return service

    @classmethod
    def load_model(
        cls,
        config: RuntimeConfig,
        device: torch.device,
        metrics: ServiceMetrics | None,
        torch_threads: int,
        model_dir: Path | None,
        game_id: str | None = None,
    ) -> BehaviourService:
        """Load one game's model from ``model_dir`` and start its child process (not its worker).

        Missing or corrupt files give an ``unavailable`` service with the reason, never an error.

        Args:
            config: Batching, smoothing and where the model runs.
            device: Where the model runs.
            metrics: Where the worker records its metrics.
            torch_threads: The child process's torch threads.
            model_dir: The model directory (None: no model).
            game_id: The game, for the worker's metric labels (None: the default set).

        Raises:
            ValueError: If a behaviour setting is out of range, or a ``bot_like`` precision is
                asked of a model whose calibration does not reach it.
        """
        key = model_key(game_id, "behaviour")
        if model_dir is None:
            reason = "disabled" if game_id is None else f"game {game_id!r} has no behaviour model"
            service = cls(ModelInfo(service="behaviour", status="unavailable", reason=reason))
            service.absent = game_id is not None
            return service
        try:
            loaded = load_behaviour_model(model_dir, device)
            look = load_frame_look(model_dir)
        except ModelLoadError as exc:
            return cls(ModelInfo(service="behaviour", status="unavailable", reason=str(exc)))
        # A bad setting raises before any child starts.
        smoothing = smoothing_config(config, loaded.metadata, loaded.config.class_names)
        accusations = accusation_classes(loaded.metadata, loaded.config.class_names)
        guards = [_log_accusation_guard(config, loaded.metadata, label) for label in accusations]
        classifier = BehaviourClassifier(loaded, config.behaviour_head_precision)
        if classifier.encodes_frames:
            head_type = str(classifier.head_dtype).removeprefix("torch.")
            setting = config.behaviour_head_precision
            logger.info("%s: heads in %s (behaviour_head_precision %s)", key, head_type, setting)
        process = None
        if config.behaviour_process and process_workers_supported():
            try:
                exits = metrics.model_process_exits_total.labels(key) if metrics is not None else None
                process = BehaviourProcess(
                    model_dir,
                    loaded.config,
                    str(device),
                    torch_threads,
                    config.behaviour_max_batch,
                    on_exit=exits.inc if exits is not None else None,
                    head_precision=config.behaviour_head_precision,
                )
            except OSError as exc:
                logger.warning("behaviour model process not started (%s); the model runs on a thread", exc)
        batching = BatchingConfig(
            config.behaviour_max_batch, config.behaviour_max_wait_ms, config.model_max_queue
        )
        worker: BatchingWorker[WindowRequest, np.ndarray] = BatchingWorker(
            key,
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
        precisions = [guard.schedule.precision for guard in guards if guard.schedule is not None]
        precision = precisions[0] if precisions else None
        model = ServedBehaviourModel(
            loaded.config,
            worker,
            classifier,
            smoothing,
            process,
            bot_like_min_precision=precision,
            accusation_classes=accusations,
            look=look,
        )
        _log_look(model_dir, look)
        info = ModelInfo(
            service="behaviour",
            status="ready",
            name=model_dir.name,
            version=loaded.version,
            random_init=bool(loaded.metadata.get("random_init", False)),
        )
        return cls(info, model)

    def of_game(self, game_id: str) -> BehaviourService:
        """The model a session of ``game_id`` gets: its game's, else the default set's (this one)."""
        return self.games.get(game_id, self)

    def wait_ready(self) -> None:
        """Wait for every model's child process; one that cannot start runs its model on a thread instead."""
        for game in self.games.values():
            game.wait_ready()
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
                model.worker.name,
                model.classifier,
                model.worker.config,
                model.worker.metrics,
                check=unfit_probabilities,
                deadline_s=model.worker.deadline_s,
                thread_setup=share_torch_threads,
            )

    def _own_model(self) -> ModelInfo:
        """This model's status (unavailable while it does not answer, or keeps failing)."""
        problem = self.model.worker.health_problem if self.model is not None else None
        return with_health(self.info, problem)

    def models(self) -> Mapping[str, ModelInfo]:
        """``behaviour``: the default set's model's status; ``games/<game_id>/behaviour``: each
        other game's that has one (a game without a behaviour model is not degraded: it has none)."""
        own = {"behaviour": self._own_model()}
        return own | {
            model_key(game_id, "behaviour"): game._own_model()
            for game_id, game in self.games.items()
            if not game.absent
        }

    def session_models(self, hello: Hello) -> Mapping[str, ModelInfo]:
        """``behaviour``: the status of the model of the session's game."""
        return {"behaviour": self.of_game(hello.game_id)._own_model()}

    def welcome_fields(self, hello: Hello) -> Mapping[str, Any]:
        """``welcome.behaviour``: the frame format of the session's game's model (absent while
        unavailable)."""
        model = self.of_game(hello.game_id).model
        fields: dict[str, Any] = {"behaviour": model.spec} if model is not None else {}
        if self.name not in hello.services:
            fields.update(recording_without_behaviour(hello))  # welcome.recording: not recorded
        return fields

    def expected_frame_size(self, hello: Hello) -> tuple[int, int] | None:
        """The (width, height) of the session's game's model, or None while unavailable."""
        model = self.of_game(hello.game_id).model
        if model is None:
            return None
        height, width = model.config.frame_size
        return width, height

    def check_hello(self, hello: Hello) -> tuple[ErrorCode, str] | None:
        """Refuse a hello whose declared frames are not the size of its game's model."""
        size = self.expected_frame_size(hello)
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
        """A frame pipeline on the model of the session's game (or one that answers every frame
        with the reason)."""
        game = self.of_game(context.session.hello.game_id)
        if game.model is None:
            return _UnavailableBehaviour(game.info.reason, context, self.recordings.open(context, None))
        model = game.model
        recording = self.recordings.open(context, model.config, model.accusation_classes)
        return FramePipeline(model.config, model.worker, model.smoothing, context, model.look, recording)

    def start(self) -> None:
        """Start every game's batching worker."""
        for game in self.games.values():
            game.start()
        if self.model is not None:
            self.model.worker.start()

    async def stop(self) -> None:
        """Finish queued windows, stop every game's worker and child process, and let the
        recordings' last frames reach the disk (every session is closed by now)."""
        for game in self.games.values():
            await game.stop()
        await self.recordings.stop()
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


def _log_accusation_guard(config: RuntimeConfig, metadata: Mapping[str, Any], label: str) -> BotLikeGuard:
    """Say how the server holds accusation class ``label`` back, and return that (the settings are
    checked already)."""
    guard = bot_like_guard(
        class_calibration_metadata(metadata, label), config.behaviour_bot_like_min_precision, label
    )
    floor = config.behaviour_bot_like_min_probability
    never_below = f", and never below {floor}" if floor else ""
    if guard.schedule is not None:
        logger.info(
            "behaviour: %s held to a minimum smoothed probability by the play a session has "
            "shown: %s (calibrated for precision %s on %d players per style%s)%s",
            label,
            guard.schedule.describe(),
            guard.schedule.precision,
            guard.schedule.players_per_style,
            "" if guard.requested else "; the default, --behaviour-bot-like-min-precision 0 turns it off",
            never_below,
        )
    elif guard.requested:
        logger.info("behaviour: %s minimum precision %s%s", label, guard.reason, never_below)
    else:
        sent = f"only at a smoothed probability of at least {floor}" if floor else "like any other label"
        logger.warning(
            "behaviour: %s is not held to precision %s (the default): %s; it is sent %s",
            label,
            DEFAULT_MIN_PRECISION,
            guard.reason,
            sent,
        )
    return guard


def _log_look(model_dir: Path, look: FrameLook | None) -> None:
    """Say whether the model tells frames of its game from others (the ``unknown`` label)."""
    if look is None:
        logger.warning(
            "behaviour: %s has no frame look (look.json): frames of any other game get one of its "
            "classes, never 'unknown' (gameai train behaviour look makes one)",
            model_dir,
        )
        return
    logger.info(
        "behaviour: %s labels a window 'unknown' above look score %.4f (%d exemplars; calibrated: "
        "%s of its own held-out windows unknown, %s of other scenes)",
        model_dir,
        look.threshold,
        len(look.exemplars),
        look.metadata.get("own_unknown_share", "?"),
        look.metadata.get("other_unknown_share", "?"),
    )
