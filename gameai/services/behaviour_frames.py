"""A session's frames: bounded queue -> decode -> ring buffer -> batched behaviour model.

The connection's receive loop hands it parsed frames (:meth:`~FramePipeline.on_frame`: cheap,
never blocks). :meth:`~FramePipeline.run` runs two tasks per session:

* intake takes the frames in order, keeps the last K in the session's ring buffer and,
  every ``behaviour_every`` frames, submits the window (K frame references, no copy) to the
  behaviour worker, numbered and with the session's
  :class:`~gameai.runtime.models.FrameEncodingCache` (so a keypoints model encodes each
  frame once, not once per window it is in);
* delivery awaits those results in submission order, smooths them over time with the
  session's :class:`~gameai.session.smoothing.BehaviourSmoother` (so the label does not
  flicker from one window to the next) and pushes them to the client.

When the model has a frame look (:mod:`gameai.behaviour.look`), intake also measures how
unlike the model's game each frame is; a window whose frames' mean distance is above the
look's threshold is ``unknown``: its result has the label ``unknown`` and the model's own
probabilities for it, and it never enters the smoother (so no accusation class can be sent on
the evidence of frames that are not the game, then or later, and the seconds of play the
smoother counts are seconds of the game's play).

A recorded session (:mod:`~gameai.services.behaviour_recording`) also hands each decoded frame,
with the label its session had when the frame was received, to its recording, which writes it
off the event loop (a frame the queue dropped is neither classified nor recorded).

At most ``in_flight`` windows of a session are in the model at once (so one session can
fill a batch slot while its previous window is still computing, and results stay in
order). When the model falls behind, intake waits, the frame queue fills and drops its
oldest frames (counted in ``dropped_frames``) instead of growing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from gameai.behaviour.look import UNKNOWN, FrameLook
from gameai.behaviour.model import BehaviourNetConfig
from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.frames import Frame, FrameEncoding, decode_frame_pixels
from gameai.protocol.messages import BehaviourResult, Label, Message
from gameai.runtime.batching import BatchingWorker, OverloadedError, WorkerStoppedError
from gameai.runtime.models import FrameEncodingCache, WindowRequest
from gameai.services.base import RequestJob, SessionContext, SessionService
from gameai.services.behaviour_recording import SessionRecording
from gameai.session.frame_queue import DropOldestQueue
from gameai.session.frames import FrameRingBuffer
from gameai.session.smoothing import BehaviourSmoother, SmoothingConfig
from gameai.session.state import RecognisedBehaviour

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _QueuedFrame:
    frame: Frame
    received_at: float
    label: str | None = None
    """The session's recording label when the frame was received (``label`` messages)."""


@dataclass(frozen=True)
class _Submitted:
    future: asyncio.Future[np.ndarray]
    queued: _QueuedFrame
    dropped: int
    frames: int
    """Frames taken into the ring buffer since the previous submitted window."""
    look_score: float | None
    """The window's mean frame distance to the model's game (None: the model has no look)."""


class FramePipeline(SessionService):
    """Turns one session's frames into pushed ``behaviour`` results (the behaviour service's session).

    Args:
        config: The behaviour model's config (frame size, window, classes, sample rate).
        worker: The behaviour model's batching worker.
        smoothing: How this session's results are smoothed.
        context: The session, how to reach its client, metrics and limits.
        look: The model's frame look (None: no ``unknown`` test).
        recording: The session's recording, or why there is none (default: not asked for).
    """

    def __init__(
        self,
        config: BehaviourNetConfig,
        worker: BatchingWorker[WindowRequest, np.ndarray],
        smoothing: SmoothingConfig,
        context: SessionContext,
        look: FrameLook | None = None,
        recording: SessionRecording | None = None,
    ) -> None:
        height, width = config.frame_size
        session = context.session
        self.config = config
        self.worker = worker
        self.session = session
        self.ring = FrameRingBuffer(config.frames_per_window, height, width, config.channels)
        self.every = session.hello.behaviour_every
        self._encodings = FrameEncodingCache()
        self._frames_taken = 0
        self._queue: DropOldestQueue[_QueuedFrame] = DropOldestQueue(context.settings.frame_queue)
        self._ready = asyncio.Event()
        self._pending: asyncio.Queue[_Submitted] = asyncio.Queue(maxsize=context.settings.frames_in_flight)
        self._send = context.send
        self._send_error = context.send_frame_error
        self._queue_drops = context.metrics.frames_dropped_total.labels("queue")
        self._cpu = context.metrics.cpu_seconds_total.labels("frames")
        self._latency = context.metrics.request_latency_seconds.labels("behaviour")
        self._since_result = 0
        self._dropped = 0
        self.smoother = BehaviourSmoother(config.class_names, smoothing)
        self.look = look
        self.recording = recording if recording is not None else SessionRecording(None)
        self._distances: deque[float] = deque(maxlen=config.frames_per_window)
        self.results_sent = 0

    def welcome_fields(self) -> dict[str, Any]:
        """``welcome.recording`` when the session asked to be recorded."""
        return self.recording.welcome_fields()

    def handle(self, message: Message, received_at: float) -> RequestJob | None:
        """A ``label``: the label of the recorded frames received from now on.

        Raises:
            RequestRefusedError: ``not_recording`` or ``unknown_label`` (the session goes on).
        """
        if not isinstance(message, Label):
            return super().handle(message, received_at)
        self.recording.set_label(message)
        return None

    async def close(self) -> None:
        """The session ended: its recording writes its last frames and closes, off the loop."""
        self.recording.close()

    async def on_frame(self, frame: Frame, received_at: float) -> None:
        """Queue a parsed frame (:meth:`push`)."""
        self.push(frame, received_at)

    def push(self, frame: Frame, received_at: float) -> None:
        """Queue a parsed frame (drops the oldest queued one when full); never blocks."""
        if self._queue.push(_QueuedFrame(frame, received_at, self.recording.label)):
            self._queue_drops.inc()
        self._ready.set()

    async def run(self) -> None:
        """Process frames until cancelled (an exception in either task ends both and is raised)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._intake())
            group.create_task(self._deliver())

    async def _intake(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while (queued := self._queue.pop()) is not None:
                self._dropped += self._queue.take_dropped()
                await self._process(queued)

    async def _decode(self, frame: Frame) -> np.ndarray | None:
        try:
            if frame.encoding == FrameEncoding.RAW:
                return decode_frame_pixels(frame)
            return await asyncio.to_thread(decode_frame_pixels, frame)
        except ProtocolError as exc:
            await self._send_error(exc)
            return None

    async def _process(self, queued: _QueuedFrame) -> None:
        """Decode a frame into the window; submit the window when due (CPU counted up to the submit)."""
        cpu_started = time.thread_time()
        frame = queued.frame
        pixels = await self._decode(frame)
        if pixels is None:
            return
        self.recording.add_frame(pixels, queued.label)
        if frame.encoding != FrameEncoding.RAW:  # decoded on a thread: the loop's share starts here
            cpu_started = time.thread_time()
        self.ring.push(pixels)
        if self.look is not None:
            self._distances.append(self.look.frame_distance(pixels))
        self._frames_taken += 1
        self._since_result += 1
        if not self.ring.full or self._since_result < self.every:
            self._cpu.inc(time.thread_time() - cpu_started)
            return
        frames, self._since_result = self._since_result, 0
        look_score = sum(self._distances) / len(self._distances) if self.look is not None else None
        try:
            request = WindowRequest(self.ring.frames(), self._frames_taken - 1, self._encodings)
            future = self.worker.submit(request)
            self._cpu.inc(time.thread_time() - cpu_started)
        except OverloadedError as exc:
            await self._send_error(
                ProtocolError(ErrorCode.OVERLOADED, f"behaviour model busy: {exc}", seq=frame.seq)
            )
            return
        except WorkerStoppedError:
            return
        dropped, self._dropped = self._dropped + self._queue.take_dropped(), 0
        # Waits while in_flight windows are pending.
        await self._pending.put(_Submitted(future, queued, dropped, frames, look_score))

    async def _deliver(self) -> None:
        classes = self.config.class_names
        sample_fps = self.config.sample_fps
        while True:
            submitted = await self._pending.get()
            frame = submitted.queued.frame
            try:
                probabilities = await submitted.future
            except WorkerStoppedError:
                continue
            except Exception as exc:  # the model failed on this batch (logged by the worker)
                await self._send_error(
                    ProtocolError(
                        ErrorCode.INTERNAL_ERROR,
                        f"behaviour model failed on this frame: {exc}",
                        seq=frame.seq,
                    )
                )
                continue
            score = submitted.look_score
            if self.look is not None and score is not None and self.look.is_unknown(score):
                label, shown, confidence = UNKNOWN, probabilities, 0.0
            else:
                elapsed_s = (submitted.frames + submitted.dropped) / sample_fps
                smoothed = self.smoother.update(probabilities, elapsed_s)
                label, shown, confidence = smoothed.label, smoothed.probabilities, smoothed.confidence
            probs = {name: round(p, 6) for name, p in zip(classes, shown.tolist(), strict=True)}
            self.session.behaviour = RecognisedBehaviour(label=label, probabilities=probs, seq=frame.seq)
            latency = time.perf_counter() - submitted.queued.received_at
            await self._send(
                BehaviourResult(
                    seq=frame.seq,
                    timestamp=frame.timestamp,
                    label=label,
                    probabilities=probs,
                    confidence=round(confidence, 6),
                    latency_ms=round(latency * 1000.0, 3),
                    dropped_frames=submitted.dropped,
                    look_score=round(score, 6) if score is not None else None,
                )
            )
            self.results_sent += 1
            self._latency.observe(latency)
