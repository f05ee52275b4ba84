"""One session's recording, written into its game's dataset on a thread, never on the event loop.

The behaviour pipeline hands each frame the model receives to :meth:`SessionRecorder.add_frame`
(cheap: it queues a reference under a lock, never blocks). The writing (zlib per frame, then every
64 frames a chunk file and ``session.json``, each flushed to disk:
:class:`~gameai.behaviour.dataset.SessionWriter`) runs on a thread of the executor that all
recordings of the server share, one batch of a session at a time, in order.

Bounded: at most ``max_backlog`` frames of a session wait for the writer; while the writer is
that far behind, new frames are dropped and counted (:attr:`SessionRecorder.dropped_frames`),
so a slow disk costs the recording frames, never memory and never the session's behaviour
results.

Stops: when opening the session's writer or writing fails (disk full, permissions, a file in
the way...), or the player's recordings are deleted while being written (``gameai recordings
delete``, :attr:`~gameai.behaviour.dataset.SessionWriter.deleted`), the recording stops: the
failure is logged with its details, ``on_stop`` gets a reason fit for the client (no server
path) once, on the event loop, and nothing more is written.

Calling order (on the event loop)::

    recorder = SessionRecorder(open_writer, executor, on_stop)
    dropped = recorder.add_frame(pixels, label)  # per frame; the first opens the writer (on the executor)
    recorder.close()                     # the session ended: the last frames are written, it is closed
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Final

import numpy as np

from gameai.behaviour.dataset import SessionWriter

logger = logging.getLogger(__name__)

#: Frames of one session that may wait for the writer before new ones are dropped (at 5 fps:
#: 6.4 s of play; 84x84 RGB frames: 0.7 MB).
DEFAULT_MAX_BACKLOG: Final = 32
#: Why a recording stops when the player's recordings are deleted while it is being written.
DELETED_REASON: Final = "this player's recordings were deleted (gameai recordings delete)"


@dataclass(frozen=True)
class _RecordedFrame:
    pixels: np.ndarray
    """``(height, width, 3)`` uint8 RGB, never written to after it is queued."""
    label: str | None
    """Its label (None: unlabelled)."""


def public_reason(error: BaseException) -> str:
    """Why writing failed, in words fit for the client: the kind of failure, never a path."""
    if isinstance(error, OSError):
        return f"the server could not write the recording ({error.strerror or type(error).__name__})"
    if isinstance(error, ValueError):
        return "the server's recordings of this game do not match its behaviour model"
    return "the server could not write the recording (internal error)"


class SessionRecorder:
    """Writes one session's frames and labels into its game's dataset (see the module docstring).

    Args:
        open_writer: Opens the session's writer; called once, on the executor.
        executor: Where the writing runs (shared by the server's recordings).
        on_stop: Called once, on the event loop, with why the recording stopped before its end
            (a failure, a deletion; closing it can fail too); not called when it ends well.
        max_backlog: Frames that may wait for the writer before new ones are dropped.

    Must be made on the event loop whose thread calls its methods.
    """

    def __init__(
        self,
        open_writer: Callable[[], SessionWriter],
        executor: Executor,
        on_stop: Callable[[str], None],
        max_backlog: int = DEFAULT_MAX_BACKLOG,
    ) -> None:
        if max_backlog < 1:
            raise ValueError(f"max_backlog must be >= 1, got {max_backlog}")
        self._open_writer = open_writer
        self._executor = executor
        self._on_stop = on_stop
        self._max_backlog = max_backlog
        self._loop = asyncio.get_running_loop()
        self._lock = threading.Lock()
        self._backlog: deque[_RecordedFrame | None] = deque()
        """Frames waiting for the writer, in order; None: close the writer."""
        self._draining = False
        self._closing = False
        self._writer: SessionWriter | None = None
        self.label: str | None = None
        """The label the frames received from now on get (set on the event loop)."""
        self.stopped: str | None = None
        """Why the recording stopped early (None: it has not)."""
        self.dropped_frames = 0
        """Frames dropped because the writer was behind."""
        self.written_frames = 0
        """Frames handed to the writer (on disk once their chunk is written)."""
        self.finished = threading.Event()
        """Set once the writer is closed, or the recording stopped."""

    @property
    def session_id(self) -> str | None:
        """The recorded session's id in the dataset (None until the writer is open)."""
        return self._writer.session_id if self._writer is not None else None

    def add_frame(self, pixels: np.ndarray, label: str | None) -> bool:
        """Queue a frame for the writer (nothing happens once stopped or closed).

        Args:
            pixels: ``(height, width, 3)`` uint8 RGB at the dataset's frame size, which nothing
                writes to afterwards.
            label: Its label (None: unlabelled).

        Returns:
            True if the frame was dropped because the writer is ``max_backlog`` frames behind.
        """
        if self.stopped is not None or self._closing:
            return False
        with self._lock:
            if len(self._backlog) >= self._max_backlog:
                self.dropped_frames += 1
                return True
            self._backlog.append(_RecordedFrame(pixels, label))
            start = not self._draining
            self._draining = True
        if start:
            self._submit()
        return False

    def close(self) -> None:
        """End the recording: the frames queued are written, then the session closed (again:
        nothing happens). Returns at once; :attr:`finished` is set once it is done."""
        if self._closing:
            return
        self._closing = True
        self._schedule(None)

    def _schedule(self, *items: _RecordedFrame | None) -> None:
        with self._lock:
            self._backlog.extend(items)
            start = not self._draining
            self._draining = True
        if start:
            self._submit()

    def _submit(self) -> None:
        # The session's context (its id in every log line) goes along to the thread.
        try:
            self._executor.submit(contextvars.copy_context().run, self._drain)
        except RuntimeError:  # the executor was shut down: the server is stopping
            self.stopped = "the server is stopping"
            self.finished.set()

    # ------------------------------------------------------------------ on the executor

    def _drain(self) -> None:
        """Write what waits, in order, until nothing does."""
        while True:
            with self._lock:
                if not self._backlog:
                    self._draining = False
                    return
                batch = list(self._backlog)
                self._backlog.clear()
            self._write(batch)

    def _write(self, batch: list[_RecordedFrame | None]) -> None:
        try:
            for item in batch:
                if self.stopped is not None:
                    return
                if item is None:
                    self._close_writer()
                    continue
                if self._writer is None:
                    self._writer = self._open_writer()
                    logger.info("recording this session as %s", self._writer.session_id)
                self._writer.add_frame(item.pixels, item.label)
                self.written_frames += 1
                if self._writer.deleted:
                    logger.warning("recording stopped: %s", DELETED_REASON)
                    self._stop(DELETED_REASON)
        except Exception as error:
            logger.error("recording stopped: writing it failed", exc_info=True)
            self._stop(public_reason(error))

    def _close_writer(self) -> None:
        writer = self._writer
        if writer is not None:
            writer.close()
            if writer.deleted:
                logger.info("recording ended: %s", DELETED_REASON)
            else:
                dropped = (
                    f", {self.dropped_frames} dropped (the writer fell behind)" if self.dropped_frames else ""
                )
                logger.info(
                    "recording %s closed: %d frames%s", writer.session_id, self.written_frames, dropped
                )
        self.finished.set()

    def _stop(self, reason: str) -> None:
        """Stop for good: keep nothing more, and tell the session once."""
        if self.stopped is not None:
            return
        self.stopped = reason
        with self._lock:
            self._backlog.clear()
        if self._writer is not None:
            with contextlib.suppress(Exception):  # it failed already; it keeps what it wrote
                self._writer.close()
        self.finished.set()
        with contextlib.suppress(RuntimeError):  # the event loop is closed: nobody to tell
            self._loop.call_soon_threadsafe(self._on_stop, reason)
