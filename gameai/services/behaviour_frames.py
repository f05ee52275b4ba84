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

At most ``in_flight`` windows of a session are in the model at once (so one session can
fill a batch slot while its previous window is still computing, and results stay in
order). When the model falls behind, intake waits, the frame queue fills and drops its
oldest frames (counted in ``dropped_frames``) instead of growing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

import numpy as np

from gameai.behaviour.model import BehaviourNetConfig
from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.frames import Frame, FrameEncoding, decode_frame_pixels
from gameai.protocol.messages import BehaviourResult
from gameai.runtime.batching import BatchingWorker, OverloadedError, WorkerStoppedError
from gameai.runtime.models import FrameEncodingCache, WindowRequest
from gameai.services.base import SessionContext, SessionService
from gameai.session.frame_queue import DropOldestQueue
from gameai.session.frames import FrameRingBuffer
from gameai.session.smoothing import BehaviourSmoother, SmoothingConfig
from gameai.session.state import RecognisedBehaviour

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _QueuedFrame:
    frame: Frame
    received_at: float


@dataclass(frozen=True)
class _Submitted:
    future: asyncio.Future[np.ndarray]
    queued: _QueuedFrame
    dropped: int
    frames: int
    """Frames taken into the ring buffer since the previous submitted window."""


class FramePipeline(SessionService):
    """Turns one session's frames into pushed ``behaviour`` results (the behaviour service's session).

    Args:
        config: The behaviour model's config (frame size, window, classes, sample rate).
        worker: The behaviour model's batching worker.
        smoothing: How this session's results are smoothed.
        context: The session, how to reach its client, metrics and limits.
    """

    def __init__(
        self,
        config: BehaviourNetConfig,
        worker: BatchingWorker[WindowRequest, np.ndarray],
        smoothing: SmoothingConfig,
        context: SessionContext,
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
        self.results_sent = 0

    async def on_frame(self, frame: Frame, received_at: float) -> None:
        """Queue a parsed frame (:meth:`push`)."""
        self.push(frame, received_at)

    def push(self, frame: Frame, received_at: float) -> None:
        """Queue a parsed frame (drops the oldest queued one when full); never blocks."""
        if self._queue.push(_QueuedFrame(frame, received_at)):
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
        if frame.encoding != FrameEncoding.RAW:  # decoded on a thread: the loop's share starts here
            cpu_started = time.thread_time()
        self.ring.push(pixels)
        self._frames_taken += 1
        self._since_result += 1
        if not self.ring.full or self._since_result < self.every:
            self._cpu.inc(time.thread_time() - cpu_started)
            return
        frames, self._since_result = self._since_result, 0
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
        await self._pending.put(_Submitted(future, queued, dropped, frames))

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
            elapsed_s = (submitted.frames + submitted.dropped) / sample_fps
            smoothed = self.smoother.update(probabilities, elapsed_s)
            probs = {
                name: round(p, 6) for name, p in zip(classes, smoothed.probabilities.tolist(), strict=True)
            }
            self.session.behaviour = RecognisedBehaviour(
                label=smoothed.label, probabilities=probs, seq=frame.seq
            )
            latency = time.perf_counter() - submitted.queued.received_at
            await self._send(
                BehaviourResult(
                    seq=frame.seq,
                    timestamp=frame.timestamp,
                    label=smoothed.label,
                    probabilities=probs,
                    confidence=round(smoothed.confidence, 6),
                    latency_ms=round(latency * 1000.0, 3),
                    dropped_frames=submitted.dropped,
                )
            )
            self.results_sent += 1
            self._latency.observe(latency)
