"""The dialogue worker: streams replies from a backend on worker threads.

Replies wait in one bounded queue; ``concurrency`` threads take them. With a backend that
can batch (:class:`~gameai.dialogue.types.BatchingDialogueBackend`) and ``max_batch`` > 1,
each thread runs a :class:`~gameai.dialogue.types.DialogueBatch`: it takes every waiting
reply up to ``max_batch`` into the batch, advances all of them by one token per step, and
takes more at every step (continuous batching: a reply joins at the next token and leaves
when it ends). Otherwise each thread streams one reply at a time through
``backend.stream``. Either way generation runs off the event loop; the backend's
:class:`~gameai.dialogue.types.TextDelta` pieces hop back to it one by one, as they are,
and come out of the :class:`DialogueStream` returned by :meth:`DialogueWorker.submit`,
which says at its end why the reply ended (:attr:`DialogueStream.finish_reason`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from gameai.compute_threads import name_os_thread, share_torch_threads
from gameai.dialogue.types import (
    BatchingDialogueBackend,
    DialogueBackend,
    DialogueBatch,
    DialogueContext,
    FinishReason,
    GenerationParams,
    TextDelta,
)
from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.batching import OverloadedError, WorkerStoppedError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _End:
    error: BaseException | None
    finish_reason: FinishReason | None
    """Why the reply ended (None when the backend failed)."""


class DialogueStream:
    """The reply to one request, as it is generated.

    Iterate it (``async for piece in stream``) for the reply's text as the backend made it:
    :class:`~gameai.dialogue.types.TextDelta` pieces, each a non-empty ``str`` (also readable
    as ``.text``) with its ``.tokens``. After the loop, :attr:`finish_reason` says why the reply
    ended, :attr:`tokens` is the total and :attr:`cancelled` says whether it was cut short.

    Raises:
        Exception: From the iteration, whatever the backend raised.
    """

    def __init__(self, context: DialogueContext, params: GenerationParams) -> None:
        self.context = context
        self.params = params
        self.cancel_event = threading.Event()
        self.tokens = 0
        self.submitted = time.perf_counter()
        self.first_delta_at: float | None = None
        self.finished_at: float | None = None
        self.finish_reason: FinishReason | None = None
        """Why the reply ended, once the iteration reached its end: ``"stop"`` (the model's end
        token or a stop sequence), ``"length"`` (the token budget actually applied, which the
        prompt's room in the model's context can make lower than ``params.max_new_tokens``) or
        ``"cancelled"``. None while it runs, and when the backend failed."""
        self._queue: asyncio.Queue[TextDelta | _End] = asyncio.Queue()

    @property
    def cancelled(self) -> bool:
        """Whether the reply was cut short by :meth:`cancel` (once it ended: whether it ended so)."""
        if self.finished_at is not None:
            return self.finish_reason == "cancelled"
        return self.cancel_event.is_set()

    def cancel(self) -> None:
        """Ask the backend to stop; the stream then ends soon (at the next token)."""
        self.cancel_event.set()

    def _put(self, item: TextDelta | _End) -> None:
        self._queue.put_nowait(item)

    def __aiter__(self) -> DialogueStream:
        return self

    async def __anext__(self) -> TextDelta:
        while True:
            item = await self._queue.get()
            if isinstance(item, _End):
                self.finished_at = time.perf_counter()
                self.finish_reason = item.finish_reason
                self._queue.put_nowait(item)  # iterating again ends again
                if item.error is not None:
                    raise item.error
                raise StopAsyncIteration
            self.tokens += item.tokens
            if item:  # a piece with no text only adds its tokens
                if self.first_delta_at is None:
                    self.first_delta_at = time.perf_counter()
                return item


@dataclass
class _Job:
    stream: DialogueStream
    loop: asyncio.AbstractEventLoop
    session_id: str = field(default="-")
    tokens: int = 0
    """Tokens generated so far."""

    def deliver(self, delta: TextDelta) -> None:
        """Hand a delta to the stream on its event loop (a closed loop cancels the reply)."""
        if not delta.text and not delta.tokens:
            return  # nothing to read: an end that says only why (the stream's end says it)
        self.tokens += delta.tokens
        try:
            self.loop.call_soon_threadsafe(self.stream._put, delta)
        except RuntimeError:  # the loop is closed: nobody listens any more
            self.stream.cancel()


_STOP = object()


class DialogueWorker:
    """Runs a :class:`~gameai.dialogue.types.DialogueBackend` on worker threads (see the module docstring).

    Calling order: :meth:`start` (from the event loop), :meth:`submit`, :meth:`stop`.

    Args:
        name: The model's name in metrics and logs.
        backend: The backend.
        concurrency: Threads generating replies.
        max_queue: Replies waiting beyond those being generated; more raise :class:`OverloadedError`.
        metrics: Where to record tokens and latency (optional).
        max_batch: Most replies one thread generates together, when the backend can batch
            (1: one reply at a time through ``backend.stream``).
    """

    def __init__(
        self,
        name: str,
        backend: DialogueBackend,
        concurrency: int = 1,
        max_queue: int = 64,
        metrics: ServiceMetrics | None = None,
        max_batch: int = 1,
    ) -> None:
        if concurrency < 1 or max_batch < 1:
            raise ValueError(f"{name}: concurrency and max_batch must be >= 1")
        self.name = name
        self.backend = backend
        self.concurrency = concurrency
        self.max_queue = max_queue
        self.max_batch = max_batch
        self._metrics = metrics
        self._queue: queue.Queue[_Job | object] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._active: set[DialogueStream] = set()
        self._lock = threading.Lock()
        self._waiting = 0
        self._running = False

    def start(self) -> None:
        """Start the threads."""
        self._running = True
        for index in range(self.concurrency):
            thread = threading.Thread(target=self._run, name=f"gameai-{self.name}-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def submit(
        self, context: DialogueContext, params: GenerationParams, session_id: str = "-"
    ) -> DialogueStream:
        """Queue one reply; must be called from the event loop.

        Returns:
            The stream of the reply.

        Raises:
            OverloadedError: If ``max_queue`` replies are already waiting.
            WorkerStoppedError: If the worker is not running.
        """
        if not self._running:
            raise WorkerStoppedError(f"{self.name} is not running")
        with self._lock:
            if self._waiting >= self.max_queue:
                raise OverloadedError(f"{self.name}: {self._waiting} replies waiting")
            self._waiting += 1
        stream = DialogueStream(context, params)
        self._queue.put(_Job(stream, asyncio.get_running_loop(), session_id))
        if self._metrics is not None:
            self._metrics.model_queue_depth.labels(self.name).set(self._waiting)
        return stream

    async def stop(self) -> None:
        """Cancel every reply in flight or waiting, then end the threads."""
        if not self._running:
            return
        self._running = False
        with self._lock:
            for stream in self._active:
                stream.cancel()
        for _ in self._threads:
            self._queue.put(_STOP)
        for thread in self._threads:
            await asyncio.to_thread(thread.join)

    def _open_batch(self) -> DialogueBatch | None:
        """A batch when the backend can batch and ``max_batch`` > 1, else None."""
        if self.max_batch > 1 and isinstance(self.backend, BatchingDialogueBackend):
            return self.backend.open_batch()
        return None

    def _run(self) -> None:
        name_os_thread()
        share_torch_threads()
        batch = self._open_batch()
        if batch is not None:
            self._run_batches(batch)
        else:
            self._run_one_at_a_time()

    def _take(self, job: _Job) -> None:
        """A job leaves the queue for generation."""
        with self._lock:
            self._waiting -= 1
            if not self._running:
                job.stream.cancel()
            self._active.add(job.stream)

    def _run_one_at_a_time(self) -> None:
        while True:
            job = self._queue.get()
            if job is _STOP:
                return
            assert isinstance(job, _Job)
            self._take(job)
            self._generate(job)

    def _generate(self, job: _Job) -> None:
        stream = job.stream
        error: BaseException | None = None
        finish: FinishReason | None = None
        try:
            if stream.cancel_event.is_set():
                finish = "cancelled"
            else:
                pieces = self.backend.stream(stream.context, stream.params, stream.cancel_event)
                try:
                    for piece in pieces:
                        delta = piece if isinstance(piece, TextDelta) else TextDelta(piece, 1)
                        job.deliver(delta)
                        if delta.finish_reason is not None:
                            finish = delta.finish_reason
                            break
                        if stream.cancel_event.is_set():
                            break
                finally:
                    close = getattr(pieces, "close", None)
                    if close is not None:
                        close()  # ends the backend's generation thread now
                if finish is None:  # cut short here, or a backend that does not say why it ended
                    finish = _inferred_finish(stream, job.tokens)
        except Exception as exc:
            self._log_failure(job)
            error, finish = exc, None
        self._finish(job, error, finish)

    def _run_batches(self, batch: DialogueBatch) -> None:
        """Continuous batching: admit waiting replies at every step, up to ``max_batch``."""
        jobs: dict[int, _Job] = {}
        stopping = False
        while True:
            while not stopping and len(jobs) < self.max_batch:
                try:
                    item = self._queue.get(block=not jobs)
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                assert isinstance(item, _Job)
                self._take(item)
                stream = item.stream
                if stream.cancel_event.is_set():
                    self._finish(item, None, "cancelled")
                    continue
                try:
                    jobs[batch.add(stream.context, stream.params, stream.cancel_event)] = item
                except Exception as exc:  # a prompt the backend cannot take fails only its own reply
                    self._log_failure(item)
                    self._finish(item, exc, None)
            if not jobs:
                if stopping:
                    return
                continue
            try:
                progress = batch.step()
            except Exception as exc:  # the batch is lost: fail its replies, go on with a new one
                logger.error(
                    "dialogue model %s failed on a batch of %d replies (sessions %s)",
                    self.name,
                    len(jobs),
                    sorted({job.session_id for job in jobs.values()}),
                    exc_info=True,
                )
                for job in jobs.values():
                    self._finish(job, exc, None)
                jobs.clear()
                fresh = self._open_batch()
                if fresh is None:
                    if not stopping:
                        self._run_one_at_a_time()
                    return
                batch = fresh
                continue
            for item_progress in progress:
                job = jobs[item_progress.key]
                job.deliver(item_progress.delta)
                if item_progress.delta.finish_reason is not None:
                    del jobs[item_progress.key]
                    self._finish(job, None, item_progress.delta.finish_reason)

    def _log_failure(self, job: _Job) -> None:
        logger.error(
            "dialogue model %s failed", self.name, exc_info=True, extra={"session_id": job.session_id}
        )

    def _finish(self, job: _Job, error: BaseException | None, finish_reason: FinishReason | None) -> None:
        """End a reply's stream (with the backend's error, if any, or why it ended) and record its metrics."""
        stream, loop = job.stream, job.loop
        with self._lock:
            self._active.discard(stream)
        if self._metrics is not None:
            elapsed = time.perf_counter() - stream.submitted
            self._metrics.dialogue_tokens_total.inc(job.tokens)
            self._metrics.model_latency_seconds.labels(self.name).observe(elapsed)
            if job.tokens and elapsed > 0:
                self._metrics.dialogue_tokens_per_second.observe(job.tokens / elapsed)
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody listening any more
            loop.call_soon_threadsafe(stream._put, _End(error, finish_reason))


def _inferred_finish(stream: DialogueStream, tokens: int) -> FinishReason:
    """Why a reply ended when its backend did not say: the cancel, else its token count."""
    if stream.cancel_event.is_set():
        return "cancelled"
    return "length" if tokens >= stream.params.max_new_tokens else "stop"
