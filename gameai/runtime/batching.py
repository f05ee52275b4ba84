"""Dynamic batching of requests from many sessions onto one model, off the event loop.

A :class:`BatchingWorker` owns one thread (or a few, for a model process that takes a
second batch while it runs one: :mod:`gameai.runtime.model_process`). Coroutines on the event loop call
:meth:`~BatchingWorker.submit` and await the future it returns; the thread takes the
oldest request, waits up to ``max_wait_ms`` (counted from when that request was
submitted) for more, up to ``max_batch``, runs the whole batch through ``process`` in
one call and resolves every future with one hop back to the loop. Torch releases the
GIL during inference, so the loop keeps moving bytes meanwhile.

The queue is bounded: when ``max_queue`` requests are waiting, :meth:`submit` raises
:class:`OverloadedError` at once rather than letting latency grow without bound.

Liveness: a batch still running ``deadline_s`` after it started fails its requests with
:class:`ModelTimeoutError` at once (the event loop watches), and the worker's ``on_hang`` hook
runs (a model process is killed there, so the next batch starts a fresh one). While a batch
overruns, or after ``FAILURES_UNTIL_UNHEALTHY`` batches failed in a row,
:attr:`BatchingWorker.health_problem` says why, and the service reports the model unavailable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from gameai.compute_threads import name_os_thread
from gameai.observability.metrics import ServiceMetrics

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")

logger = logging.getLogger(__name__)


class OverloadedError(Exception):
    """The model's queue is full; the request was not queued."""


class WorkerStoppedError(Exception):
    """The worker is stopped (the server is shutting down); the request was not run."""


class ModelOutputError(Exception):
    """The model's output for this request failed the worker's check (e.g. non-finite numbers)."""


class ModelTimeoutError(Exception):
    """The model gave no answer within the worker's ``deadline_s``; the request was failed."""


#: Batches failing in a row after which a worker reports itself unhealthy (until one succeeds).
FAILURES_UNTIL_UNHEALTHY = 5


class FailureStreak:
    """Batches of a model failing in a row, and the health problem they make (shared by every runner)."""

    def __init__(self) -> None:
        self.count = 0
        """Batches failed since the last one that succeeded."""
        self.last = ""
        """The last failure, one line."""

    def failed(self, exc: BaseException) -> None:
        """A batch raised ``exc``."""
        self.count += 1
        self.last = f"{type(exc).__name__}: {exc}"[:200]

    def succeeded(self) -> None:
        """A batch answered: the streak is over."""
        self.count = 0

    @property
    def problem(self) -> str | None:
        """Why the model cannot be counted on, after ``FAILURES_UNTIL_UNHEALTHY`` failures in a row."""
        if self.count >= FAILURES_UNTIL_UNHEALTHY:
            return f"the last {self.count} batches failed ({self.last})"
        return None


@dataclass(frozen=True)
class BatchingConfig:
    """How a worker forms batches."""

    max_batch: int = 32
    """Most requests in one inference call."""
    max_wait_ms: float = 5.0
    """How long the oldest request may wait for others to join its batch, in milliseconds."""
    max_queue: int = 1024
    """Most requests waiting; beyond it :meth:`BatchingWorker.submit` raises :class:`OverloadedError`."""


@dataclass
class _Pending(Generic[InputT, OutputT]):
    item: InputT
    future: asyncio.Future[OutputT]
    submitted: float


_STOP = object()


class BatchingWorker(Generic[InputT, OutputT]):
    """One model, its thread(s), batches across sessions (see the module docstring).

    Calling order: :meth:`start` (from the event loop), :meth:`submit` many times,
    :meth:`stop`.

    Args:
        name: The model's name in metrics and logs.
        process: Runs one batch: a list of inputs -> the list of outputs, same order.
            Called only from the worker thread.
        config: Batching limits.
        metrics: Where to record batch sizes, queue depth and latency (optional).
        check: Checks one output before it leaves the worker: returns why it is unfit (that
            request then fails with :class:`ModelOutputError`, counted in
            ``gameai_model_errors_total``), or None. Called on the worker thread.
        deadline_s: A batch still running after this long fails its requests with
            :class:`ModelTimeoutError` and ``on_hang`` runs (0: no deadline).
        on_hang: Called on the event loop once per overrunning batch (e.g. kill a model process).
        starting: Whether the model is (re)starting: its batches' deadline counts from when it is
            ready (a model process loads for seconds; that is not a hang).
        threads: Threads taking batches. More than one only for a ``process`` that can have
            several batches in flight (a model process); each session's requests may then
            be processed out of order, though their futures resolve as usual.
        thread_setup: Called first on each worker thread (torch models:
            :func:`gameai.compute_threads.share_torch_threads`).
    """

    def __init__(
        self,
        name: str,
        process: Callable[[Sequence[InputT]], Sequence[OutputT]],
        config: BatchingConfig = BatchingConfig(),
        metrics: ServiceMetrics | None = None,
        threads: int = 1,
        check: Callable[[OutputT], str | None] | None = None,
        deadline_s: float = 0.0,
        on_hang: Callable[[], None] | None = None,
        starting: Callable[[], bool] | None = None,
        thread_setup: Callable[[], None] | None = None,
    ) -> None:
        if threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self.name = name
        self.threads = threads
        self.config = config
        self._process = process
        self._check = check
        self.deadline_s = deadline_s
        self._on_hang = on_hang
        self._starting = starting
        self._thread_setup = thread_setup
        self._running: dict[int, tuple[float, list[_Pending[InputT, OutputT]]]] = {}
        """Batches being processed, by worker thread id: when each started, and its requests."""
        self._overrun: set[int] = set()
        """Thread ids whose current batch overran (failed already, on_hang called)."""
        self._failures = FailureStreak()
        self._watchdog: asyncio.TimerHandle | None = None
        self.metrics = metrics
        self._queue: queue.Queue[_Pending[InputT, OutputT] | object] = queue.Queue()
        self._waiting = 0
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def start(self) -> None:
        """Start the thread; must be called from the event loop that will submit."""
        if self._threads:
            raise RuntimeError(f"worker {self.name} already started")
        self._loop = asyncio.get_running_loop()
        self._threads = [
            threading.Thread(
                target=self._run,
                name=f"gameai-{self.name}" + (f"-{i}" if self.threads > 1 else ""),
                daemon=True,
            )
            for i in range(self.threads)
        ]
        for thread in self._threads:
            thread.start()
        if self.deadline_s > 0:
            self._watch()

    @property
    def health_problem(self) -> str | None:
        """Why the model cannot be counted on now (None: it is answering)."""
        if self._overrun:
            return (
                f"no answer within {self.deadline_s:g} s; its requests were failed and it is being restarted"
            )
        if self._failures.problem is not None:
            return self._failures.problem
        if self._starting is not None and self._starting():
            return "the model is starting again (after it exited or stopped answering)"
        return None

    def _watch(self) -> None:
        """On the event loop: fail the requests of batches running past ``deadline_s``."""
        assert self._loop is not None
        now = time.perf_counter()
        with self._lock:
            if self._starting is not None and self._starting():
                self._running = {thread_id: (now, batch) for thread_id, (_, batch) in self._running.items()}
            overdue = [
                (thread_id, batch)
                for thread_id, (started, batch) in self._running.items()
                if now - started > self.deadline_s and thread_id not in self._overrun
            ]
            self._overrun.update(thread_id for thread_id, _ in overdue)
        for _, batch in overdue:
            logger.error(
                "model %s gave no answer to a batch of %d within %g s; failing it%s",
                self.name,
                len(batch),
                self.deadline_s,
                " and restarting the model" if self._on_hang is not None else "",
            )
            error = ModelTimeoutError(f"{self.name} model gave no answer within {self.deadline_s:g} s")
            for pending in batch:
                if not pending.future.done():
                    pending.future.set_exception(error)
            if self.metrics is not None:
                self.metrics.model_errors_total.labels(self.name).inc(len(batch))
            if self._on_hang is not None:
                try:
                    self._on_hang()
                except Exception:
                    logger.error("model %s: restarting it failed", self.name, exc_info=True)
        self._report_health()
        if not self._stopping:
            interval = min(1.0, self.deadline_s / 4)
            self._watchdog = self._loop.call_later(interval, self._watch)

    def _report_health(self) -> None:
        if self.metrics is not None:
            self.metrics.model_up.labels(self.name).set(0 if self.health_problem else 1)

    @property
    def queue_depth(self) -> int:
        """Requests submitted and not yet taken into a batch."""
        return self._waiting

    def submit(self, item: InputT) -> asyncio.Future[OutputT]:
        """Queue one request.

        Args:
            item: The model input.

        Returns:
            A future resolved with the output (or with the exception ``process`` raised).

        Raises:
            OverloadedError: If ``max_queue`` requests are already waiting.
            WorkerStoppedError: If the worker is stopping or was never started.
        """
        if self._loop is None or self._stopping:
            raise WorkerStoppedError(f"{self.name} is not running")
        with self._lock:
            if self._waiting >= self.config.max_queue:
                raise OverloadedError(f"{self.name}: {self._waiting} requests waiting")
            self._waiting += 1
        future: asyncio.Future[OutputT] = self._loop.create_future()
        self._queue.put(_Pending(item, future, time.perf_counter()))
        return future

    async def stop(self) -> None:
        """Finish the requests already queued, then end the thread."""
        if not self._threads or self._stopping:
            return
        self._stopping = True
        if self._watchdog is not None:
            self._watchdog.cancel()
        for _ in self._threads:
            self._queue.put(_STOP)  # one per thread: each ends at the first it takes
        for thread in self._threads:
            await asyncio.to_thread(thread.join)

    # ------------------------------------------------------------------ worker thread

    def _take(self, timeout: float | None) -> _Pending[InputT, OutputT] | object:
        item = (
            self._queue.get(timeout=timeout) if timeout is None or timeout > 0 else self._queue.get_nowait()
        )
        if item is not _STOP:
            with self._lock:
                self._waiting -= 1
        return item

    def _collect(self, first: _Pending[InputT, OutputT]) -> tuple[list[_Pending[InputT, OutputT]], bool]:
        """Gather a batch after ``first``; returns it and whether a stop request was seen."""
        batch = [first]
        deadline = first.submitted + self.config.max_wait_ms / 1000.0
        while len(batch) < self.config.max_batch:
            try:
                item = self._take(deadline - time.perf_counter())
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Pending)
            batch.append(item)
        return batch, False

    def _run(self) -> None:
        name_os_thread()
        if self._thread_setup is not None:
            self._thread_setup()
        stop = False
        while not stop:
            first = self._take(None)
            if first is _STOP:
                break
            assert isinstance(first, _Pending)
            batch, stop = self._collect(first)
            self._run_batch(batch)
        # Anything queued after the stop marker is refused.
        while True:
            try:
                leftover = self._take(0)
            except queue.Empty:
                break
            if leftover is _STOP:  # another thread's marker
                self._queue.put(leftover)
                break
            if isinstance(leftover, _Pending):
                self._resolve([leftover], None, WorkerStoppedError(f"{self.name} stopped"))

    def _run_batch(self, batch: list[_Pending[InputT, OutputT]]) -> None:
        started = time.perf_counter()
        thread_id = threading.get_ident()
        with self._lock:
            self._running[thread_id] = (started, batch)
        try:
            self._run_batch_now(batch, started)
        finally:
            with self._lock:
                del self._running[thread_id]
                self._overrun.discard(thread_id)
            self._report_health()

    def _run_batch_now(self, batch: list[_Pending[InputT, OutputT]], started: float) -> None:
        outputs: list[OutputT | ModelOutputError]
        try:
            outputs = list(self._process([p.item for p in batch]))
            if len(outputs) != len(batch):
                raise RuntimeError(
                    f"{self.name}: process returned {len(outputs)} outputs for {len(batch)} inputs"
                )
            error: BaseException | None = None
        except Exception as exc:
            logger.error("model %s failed on a batch of %d", self.name, len(batch), exc_info=True)
            outputs, error = [], exc
            if self.metrics is not None:
                self.metrics.model_errors_total.labels(self.name).inc(len(batch))
            self._failures.failed(exc)
        else:
            self._failures.succeeded()
        if error is None and self._check is not None:
            outputs = [self._checked(output) for output in outputs]
        if self.metrics is not None:
            self.metrics.model_batch_size.labels(self.name).observe(len(batch))
            self.metrics.model_queue_depth.labels(self.name).set(self._waiting)
        logger.debug(
            "%s: batch of %d in %.2f ms", self.name, len(batch), (time.perf_counter() - started) * 1e3
        )
        self._resolve(batch, outputs, error)

    def _checked(self, output: OutputT | ModelOutputError) -> OutputT | ModelOutputError:
        if isinstance(output, ModelOutputError):
            return output
        reason = self._check(output) if self._check is not None else None
        if reason is None:
            return output
        logger.error("model %s: %s", self.name, reason)
        if self.metrics is not None:
            self.metrics.model_errors_total.labels(self.name).inc()
        return ModelOutputError(f"{self.name} model: {reason}")

    def _resolve(
        self,
        batch: list[_Pending[InputT, OutputT]],
        outputs: Sequence[OutputT | ModelOutputError] | None,
        error: BaseException | None,
    ) -> None:
        finished = time.perf_counter()
        if self.metrics is not None:
            histogram = self.metrics.model_latency_seconds.labels(self.name)
            for pending in batch:
                histogram.observe(finished - pending.submitted)

        def deliver() -> None:
            for index, pending in enumerate(batch):
                if pending.future.done():  # the requester went away
                    continue
                if error is not None or outputs is None:
                    pending.future.set_exception(error or WorkerStoppedError(self.name))
                elif isinstance(outputs[index], ModelOutputError):
                    pending.future.set_exception(outputs[index])  # type: ignore[arg-type]
                else:
                    pending.future.set_result(outputs[index])  # type: ignore[arg-type]

        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # a closed loop has nobody waiting any more
            self._loop.call_soon_threadsafe(deliver)
