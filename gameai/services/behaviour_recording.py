"""Which behaviour sessions are recorded for training, into which dataset, and their labels.

A session is recorded only when both hold: the operator enabled recording (``gameai serve
--record-dir DIR``, :attr:`~gameai.runtime.config.RuntimeConfig.record_dir`; off by default) and
the session's ``hello.record`` asks for it, with the player's consent. Its frames, as the
behaviour model receives them (decoded RGB at the model's frame size), and the labels of its
``label`` messages go into its game's dataset ``DIR/<game_id>/``
(:mod:`gameai.behaviour.recordings`, :mod:`gameai.behaviour.dataset`: the classes, accusation
classes, frame size and rate of the session's behaviour model; source ``server``), with the
player id and the times; nothing else of the session (no token, no address). The writing runs
off the event loop (:class:`~gameai.services.session_recorder.SessionRecorder`).

A ``hello`` that asks to be recorded is never refused: ``welcome.recording`` says whether the
session is recorded and, when not, why (without server paths), and the log says so too.
A ``label`` is checked at once: ``not_recording`` for a session not recorded (or no longer),
``unknown_label`` for a label that is not one of the model's classes; the session goes on.

Calling order::

    recordings = BehaviourRecordings.from_config(runtime_config)     # the service's, at load
    recording = recordings.open(context, model_config, accusation_classes)  # per session
    recording.welcome_fields()           # welcome.recording
    recording.label                      # the label a frame received now gets
    recording.add_frame(pixels, label)   # per decoded frame
    recording.set_label(message)         # per ``label`` message (raises RequestRefusedError)
    recording.close()                    # the session ended
    await recordings.stop()              # the server stops: the last chunks reach the disk
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final

import numpy as np

from gameai.behaviour.dataset import (
    DEFAULT_CHUNK_FRAMES,
    DatasetInfo,
    DatasetWriter,
    SessionWriter,
    read_info,
)
from gameai.behaviour.model import BehaviourNetConfig
from gameai.behaviour.recordings import game_dataset_dir
from gameai.protocol.errors import ErrorCode
from gameai.protocol.messages import Error, Hello, Label, RecordingInfo
from gameai.runtime.config import RuntimeConfig
from gameai.services.base import RequestRefusedError, SendMessage, SessionContext
from gameai.services.session_recorder import DEFAULT_MAX_BACKLOG, SessionRecorder

logger = logging.getLogger(__name__)

#: Threads writing the server's recordings (every recorded session's, a batch at a time each).
RECORDING_THREADS: Final = 2
#: How long a stopping server waits for the recordings' last chunks, in seconds.
STOP_TIMEOUT_S: Final = 30.0
#: The recorded dataset's ``source``.
SOURCE: Final = "server"
#: Why a session is not recorded, for each reason there is (``welcome.recording.reason``).
OFF_ON_SERVER: Final = "recording is off on this server (its operator did not enable it)"
NO_CONSENT: Final = "hello.record.consent is false: the player did not agree"
NO_BEHAVIOUR_SERVICE: Final = "recording needs the behaviour service: 'behaviour' is not in hello.services"
MODEL_UNAVAILABLE: Final = "this game's behaviour model is unavailable"


def recording_without_behaviour(hello: Hello) -> dict[str, Any]:
    """``welcome.recording`` of a session that asks to be recorded without the behaviour service
    (empty when it does not ask)."""
    if hello.record is None:
        return {}
    logger.info("session asked to be recorded; not recorded: %s", NO_BEHAVIOUR_SERVICE)
    return {"recording": RecordingInfo(recorded=False, reason=NO_BEHAVIOUR_SERVICE)}


class SessionRecording:
    """One behaviour session's recording, or why there is none (made by :meth:`BehaviourRecordings.open`).

    Args:
        info: ``welcome.recording`` (None: the session did not ask to be recorded).
        classes: The labels ``label`` may name (the model's classes).
        send: Sends a message to the session's client.
        on_drop: Called for each frame dropped because the writer was behind (a metric).
    """

    def __init__(
        self,
        info: RecordingInfo | None,
        classes: tuple[str, ...] = (),
        send: SendMessage | None = None,
        on_drop: Callable[[], object] | None = None,
    ) -> None:
        self.info = info
        self.classes = classes
        self.recorder: SessionRecorder | None = None
        """The writer's side (None: not recorded); set by :meth:`BehaviourRecordings.open`."""
        self._send = send
        self._on_drop = on_drop
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def label(self) -> str | None:
        """The label a frame received now gets (None: unlabelled, or not recorded)."""
        return self.recorder.label if self.recorder is not None else None

    def welcome_fields(self) -> dict[str, Any]:
        """``welcome.recording`` (nothing for a session that did not ask)."""
        return {} if self.info is None else {"recording": self.info}

    def add_frame(self, pixels: np.ndarray, label: str | None) -> None:
        """Record a frame the model received (queued for the writer; nothing when not recorded)."""
        if self.recorder is not None and self.recorder.add_frame(pixels, label) and self._on_drop is not None:
            self._on_drop()

    def set_label(self, message: Label) -> None:
        """The label of the frames received from now on.

        Raises:
            RequestRefusedError: ``not_recording`` if the session is not recorded (any more),
                ``unknown_label`` if the label is not one of the model's classes.
        """
        recorder = self.recorder
        if recorder is None or recorder.stopped is not None:
            if recorder is not None:
                why = f"its recording stopped: {recorder.stopped}"
            elif self.info is None:
                why = "hello.record did not ask for it"
            else:
                why = self.info.reason or "not recorded"
            raise RequestRefusedError(ErrorCode.NOT_RECORDING, f"this session is not recorded: {why}")
        if message.label is not None and message.label not in self.classes:
            raise RequestRefusedError(
                ErrorCode.UNKNOWN_LABEL,
                f"label {message.label[:64]!r} is not one of welcome.behaviour.classes {list(self.classes)} "
                "(null: unlabelled)",
            )
        recorder.label = message.label

    def close(self) -> None:
        """The session ended: its recording writes its last frames and closes (off the loop)."""
        if self.recorder is not None:
            self.recorder.close()

    def report_stop(self, reason: str) -> None:
        """On the event loop: the recording stopped before the session's end; tell the client (once:
        the recorder calls this once)."""
        send = self._send
        if send is None:
            return
        error = Error(
            code=ErrorCode.RECORDING_STOPPED,
            message=f"recording of this session stopped: {reason}; the session goes on, unrecorded",
        )

        async def tell() -> None:
            await send(error)  # never raises once the connection is closed

        task = asyncio.get_running_loop().create_task(tell())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


class BehaviourRecordings:
    """Where the behaviour service records sessions, and the threads that write them.

    Args:
        record_dir: The record directory (None: recording is off).
        max_backlog: Frames of a session that may wait for its writer before new ones are dropped.
        chunk_frames: Frames a session's writer holds before it writes them as a chunk (a server
            killed loses at most these of each session).
    """

    def __init__(
        self,
        record_dir: Path | None,
        max_backlog: int = DEFAULT_MAX_BACKLOG,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    ) -> None:
        self.record_dir = record_dir
        self.max_backlog = max_backlog
        self.chunk_frames = chunk_frames
        self._executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_config(cls, config: RuntimeConfig) -> BehaviourRecordings:
        """Recordings into ``config.record_dir`` (off when it is empty)."""
        return cls(Path(config.record_dir).expanduser() if config.record_dir else None)

    def log(self) -> None:
        """Say whether the server records (at startup)."""
        if self.record_dir is None:
            logger.info("recording off: no session is recorded (gameai serve --record-dir DIR enables it)")
        else:
            logger.warning(
                "recording on: the behaviour frames and labels of sessions whose hello.record asks for "
                "it, with the player's consent, are stored under %s (one dataset per game; "
                "gameai recordings delete --player ID removes a player's)",
                self.record_dir,
            )

    def open(
        self,
        context: SessionContext,
        config: BehaviourNetConfig | None,
        accusation_classes: tuple[str, ...] = (),
    ) -> SessionRecording:
        """The recording of a new behaviour session, or why there is none.

        Args:
            context: The session.
            config: The session's behaviour model's config (None: the model is unavailable).
            accusation_classes: The model's accusation classes (the dataset's).
        """
        hello = context.session.hello
        if hello.record is None:
            return SessionRecording(None)
        classes = config.class_names if config is not None else ()
        reason, info = self._refusal(hello, config, accusation_classes)
        if reason is not None or info is None:
            logger.info("session asked to be recorded; not recorded: %s", reason)
            return SessionRecording(RecordingInfo(recorded=False, reason=reason), classes, context.send)
        assert self.record_dir is not None
        drops = context.metrics.frames_dropped_total.labels("recording")
        recording = SessionRecording(RecordingInfo(recorded=True), classes, context.send, drops.inc)
        player_id = hello.record.player_id
        path = game_dataset_dir(self.record_dir, info.game_id)

        def open_writer() -> SessionWriter:
            return DatasetWriter.of_info(path, info, self.chunk_frames).session(player_id, source=SOURCE)

        if self._executor is None:
            self._executor = ThreadPoolExecutor(RECORDING_THREADS, thread_name_prefix="gameai-record")
        recording.recorder = SessionRecorder(
            open_writer, self._executor, recording.report_stop, self.max_backlog
        )
        return recording

    def _refusal(
        self, hello: Hello, config: BehaviourNetConfig | None, accusation_classes: tuple[str, ...]
    ) -> tuple[str | None, DatasetInfo | None]:
        """Why a session that asks to be recorded is not (None and its dataset's metadata: it is)."""
        assert hello.record is not None
        if self.record_dir is None:
            return OFF_ON_SERVER, None
        if not hello.record.consent:
            return NO_CONSENT, None
        if config is None:
            return MODEL_UNAVAILABLE, None
        try:
            height, width = config.frame_size
            info = DatasetInfo(
                game_id=hello.game_id,
                classes=tuple(config.class_names),
                accusation_classes=accusation_classes,
                frame_size=(height, width),
                sample_fps=float(config.sample_fps),
            )
        except ValueError as exc:  # a game id that cannot name a folder, a model's classes...
            return f"this session cannot be recorded: {exc}", None
        return self._dataset_problem(info), info

    def _dataset_problem(self, info: DatasetInfo) -> str | None:
        """Why the game's existing dataset cannot take this session (None: it can, or there is none yet).

        Reads the small ``dataset.json`` (no write happens on the event loop: the first recorded
        session of a game creates it, on the writer's thread).
        """
        assert self.record_dir is not None
        path = game_dataset_dir(self.record_dir, info.game_id)
        try:
            existing = read_info(path)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("recordings of game %r cannot be read: %s", info.game_id, exc)
            return "this game's recordings on the server cannot be read (see the server's log)"
        if existing == info:
            return None
        ours, theirs = info.to_json(), existing.to_json()
        differ = [key for key in ours if ours[key] != theirs[key]]
        logger.warning(
            "recordings of game %r in %s hold another dataset than its behaviour model's: %s",
            info.game_id,
            path,
            "; ".join(f"{key} {theirs[key]!r} there, {ours[key]!r} the model's" for key in differ),
        )
        return (
            f"this game's recordings on the server are of another model: their {', '.join(differ)} "
            "differ from its behaviour model's (the operator can move them aside to record again)"
        )

    async def stop(self) -> None:
        """Wait for every recording's last chunk to reach the disk (sessions closed first)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            async with asyncio.timeout(STOP_TIMEOUT_S):
                await asyncio.to_thread(executor.shutdown, wait=True)
        except TimeoutError:
            logger.error(
                "recordings still writing after %.0f s at shutdown; their last frames may be lost",
                STOP_TIMEOUT_S,
            )
