"""Small models run on the event loop itself, batched by the turn of the loop.

A :class:`~gameai.runtime.batching.BatchingWorker` pays for every batch a hand-off to its
thread, a wait for more requests, and a hop back to the loop; for a model that computes in
tens of microseconds (an agent's MLP in numpy) that costs several times the model. An
:class:`InlineBatcher` instead collects the requests submitted during one turn of the event
loop (every message the loop read from every socket in that turn) and runs them as one batch
in a callback right after, on the loop's thread: no thread, no queue wait, no cross-thread
future. It offers the worker's interface (:class:`ModelRunner`), so a service can use either.

It is for models whose batch takes well under a millisecond: while it runs, the loop does
nothing else. The agents service picks it for actors small enough
(:attr:`~gameai.runtime.config.RuntimeConfig.agent_inline_max_params`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Generic, Protocol, TypeVar

from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.batching import FailureStreak, OverloadedError, WorkerStoppedError

InputT = TypeVar("InputT")
OutputT = TypeVar("OutputT")
InputT_contra = TypeVar("InputT_contra", contravariant=True)

logger = logging.getLogger(__name__)


class ModelRunner(Protocol[InputT_contra, OutputT]):
    """What a service needs of whatever runs its model (a worker thread, or the loop itself)."""

    name: str

    def start(self) -> None:
        """Start (from the event loop)."""

    def submit(self, item: InputT_contra) -> asyncio.Future[OutputT]:
        """Queue one request; raises OverloadedError or WorkerStoppedError."""

    async def stop(self) -> None:
        """Answer what is queued, then stop."""

    @property
    def health_problem(self) -> str | None:
        """Why the model cannot be counted on now (None: it is answering)."""


class InlineBatcher(Generic[InputT, OutputT]):
    """Runs ``process`` on the event loop, once per loop turn, on what was submitted in that turn.

    Args:
        name: The model's name in metrics and logs.
        process: Runs one batch: inputs -> outputs, same order (on the loop's thread).
        max_batch: Most requests per ``process`` call (a turn's requests beyond it make more calls).
        max_queue: Most requests waiting for the turn's end; beyond it :meth:`submit` raises
            :class:`~gameai.runtime.batching.OverloadedError`.
        metrics: Where to record batch sizes and latency (optional).
    """

    def __init__(
        self,
        name: str,
        process: Callable[[Sequence[InputT]], Sequence[OutputT]],
        max_batch: int = 64,
        max_queue: int = 1024,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        if max_batch < 1 or max_queue < 1:
            raise ValueError("max_batch and max_queue must be at least 1")
        self.name = name
        self._process = process
        self.max_batch = max_batch
        self.max_queue = max_queue
        self.metrics = metrics
        # The labelled series, looked up once: every batch records into them.
        self._series = (
            (
                metrics.cpu_seconds_total.labels(f"model:{name}"),
                metrics.model_batch_size.labels(name),
                metrics.model_latency_seconds.labels(name),
            )
            if metrics is not None
            else None
        )
        self._pending: list[tuple[InputT, asyncio.Future[OutputT], float]] = []
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._failures = FailureStreak()

    def start(self) -> None:
        """Bind to the running loop."""
        self._loop = asyncio.get_running_loop()

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the end of the loop's turn."""
        return len(self._pending)

    @property
    def health_problem(self) -> str | None:
        """Why the model cannot be counted on now (None: it is answering)."""
        return self._failures.problem

    def submit(self, item: InputT) -> asyncio.Future[OutputT]:
        """Queue one request for the end of this turn of the loop.

        Raises:
            OverloadedError: If ``max_queue`` requests are already waiting.
            WorkerStoppedError: If not started or stopping.
        """
        loop = self._loop
        if loop is None or self._stopping:
            raise WorkerStoppedError(f"{self.name} is not running")
        if len(self._pending) >= self.max_queue:
            raise OverloadedError(f"{self.name}: {len(self._pending)} requests waiting")
        future: asyncio.Future[OutputT] = loop.create_future()
        self._pending.append((item, future, time.perf_counter()))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    async def stop(self) -> None:
        """Answer what is waiting; refuse what comes after."""
        self._stopping = True
        self._flush()

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), self.max_batch):
            self._run(pending[start : start + self.max_batch])

    def _run(self, batch: list[tuple[InputT, asyncio.Future[OutputT], float]]) -> None:
        cpu_started = time.thread_time()
        try:
            outputs = self._process([item for item, _, _ in batch])
            if len(outputs) != len(batch):
                raise RuntimeError(
                    f"{self.name}: process returned {len(outputs)} outputs for {len(batch)} inputs"
                )
        except Exception as exc:
            logger.error("model %s failed on a batch of %d", self.name, len(batch), exc_info=True)
            self._failures.failed(exc)
            if self.metrics is not None:
                self.metrics.model_errors_total.labels(self.name).inc(len(batch))
            for _, future, _ in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self._failures.succeeded()
        finished = time.perf_counter()
        if self._series is not None:
            cpu, batch_size, latency = self._series
            cpu.inc(time.thread_time() - cpu_started)
            batch_size.observe(len(batch))
            for _, _, submitted in batch:
                latency.observe(finished - submitted)
        for (_, future, _), output in zip(batch, outputs, strict=True):
            if not future.done():  # the requester went away
                future.set_result(output)
