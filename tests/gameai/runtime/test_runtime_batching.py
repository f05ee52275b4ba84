"""Dynamic batching: requests from many callers share batches, off the event loop, bounded."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import pytest

from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.batching import (
    FAILURES_UNTIL_UNHEALTHY,
    BatchingConfig,
    BatchingWorker,
    ModelOutputError,
    ModelTimeoutError,
    OverloadedError,
    WorkerStoppedError,
)


class Recorder:
    """A batch function that doubles its inputs and records how it was called."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[str] = set()
        self.gate = gate

    def __call__(self, items: Sequence[int]) -> list[int]:
        if self.gate is not None:
            self.gate.wait(10)
        self.batches.append(list(items))
        self.threads.add(threading.current_thread().name)
        return [2 * x for x in items]


async def test_every_request_gets_its_own_answer() -> None:
    recorder = Recorder()
    worker = BatchingWorker("double", recorder, BatchingConfig(max_batch=8, max_wait_ms=5))
    worker.start()
    results = await asyncio.gather(*(worker.submit(i) for i in range(50)))
    await worker.stop()
    assert results == [2 * i for i in range(50)]
    assert sorted(x for batch in recorder.batches for x in batch) == list(range(50))
    assert max(len(b) for b in recorder.batches) <= 8


async def test_requests_waiting_together_share_a_batch() -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    worker = BatchingWorker("double", recorder, BatchingConfig(max_batch=16, max_wait_ms=1))
    worker.start()
    first = worker.submit(0)  # taken alone, then blocks on the gate
    await asyncio.sleep(0.05)
    rest = [worker.submit(i) for i in range(1, 11)]  # queue up while the model is busy
    gate.set()
    await asyncio.gather(first, *rest)
    await worker.stop()
    assert recorder.batches[0] == [0]
    assert recorder.batches[1] == list(range(1, 11))  # all ten in one batch


async def test_a_lone_request_is_not_held_for_a_full_batch() -> None:
    recorder = Recorder()
    worker = BatchingWorker("double", recorder, BatchingConfig(max_batch=64, max_wait_ms=2))
    worker.start()
    assert await asyncio.wait_for(worker.submit(21), timeout=5) == 42
    await worker.stop()
    assert recorder.batches == [[21]]


async def test_the_model_runs_off_the_event_loop_thread() -> None:
    recorder = Recorder()
    worker = BatchingWorker("double", recorder)
    worker.start()
    await worker.submit(1)
    await worker.stop()
    assert recorder.threads == {"gameai-double"}
    assert threading.current_thread().name not in recorder.threads


async def test_a_full_queue_refuses_at_once() -> None:
    gate = threading.Event()
    worker = BatchingWorker("double", Recorder(gate), BatchingConfig(max_batch=1, max_wait_ms=0, max_queue=3))
    worker.start()
    first = worker.submit(0)
    await asyncio.sleep(0.05)  # the first is being processed (blocked), the queue is empty
    queued = [worker.submit(i) for i in range(1, 4)]
    with pytest.raises(OverloadedError):
        worker.submit(99)
    assert worker.queue_depth == 3
    gate.set()
    assert await asyncio.gather(first, *queued) == [0, 2, 4, 6]
    await worker.stop()


async def test_a_failing_batch_fails_its_requests_and_the_worker_goes_on() -> None:
    def fragile(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise ValueError("unlucky")
        return list(items)

    worker = BatchingWorker("fragile", fragile, BatchingConfig(max_batch=1, max_wait_ms=0))
    worker.start()
    with pytest.raises(ValueError, match="unlucky"):
        await worker.submit(13)
    assert await worker.submit(7) == 7
    await worker.stop()


async def test_an_output_that_fails_the_check_fails_only_its_request_and_is_counted() -> None:
    metrics = ServiceMetrics()
    worker = BatchingWorker(
        "checked",
        Recorder(),
        BatchingConfig(max_batch=8, max_wait_ms=5),
        metrics,
        check=lambda output: "too big" if output > 10 else None,
    )
    worker.start()
    results = await asyncio.gather(*(worker.submit(i) for i in (1, 7, 2)), return_exceptions=True)
    await worker.stop()
    assert results[0] == 2 and results[2] == 4
    assert isinstance(results[1], ModelOutputError) and "checked model: too big" in str(results[1])
    assert metrics.registry.get_sample_value("gameai_model_errors_total", {"model": "checked"}) == 1


async def test_stop_finishes_queued_work_then_refuses() -> None:
    worker = BatchingWorker("double", Recorder(), BatchingConfig(max_batch=2, max_wait_ms=0))
    worker.start()
    futures = [worker.submit(i) for i in range(6)]
    await worker.stop()
    assert [await f for f in futures] == [0, 2, 4, 6, 8, 10]
    with pytest.raises(WorkerStoppedError):
        worker.submit(1)


async def test_batch_sizes_and_latency_are_recorded() -> None:
    metrics = ServiceMetrics()
    worker = BatchingWorker("double", Recorder(), BatchingConfig(max_batch=4, max_wait_ms=1), metrics)
    worker.start()
    await asyncio.gather(*(worker.submit(i) for i in range(8)))
    await worker.stop()
    assert metrics.registry.get_sample_value("gameai_model_latency_seconds_count", {"model": "double"}) == 8
    batches = metrics.registry.get_sample_value("gameai_model_batch_size_sum", {"model": "double"})
    assert batches == 8


async def test_two_threads_keep_two_batches_in_flight_and_both_stop() -> None:
    gate = threading.Event()
    recorder = Recorder(gate)
    worker = BatchingWorker("double", recorder, BatchingConfig(max_batch=4, max_wait_ms=1), threads=2)
    worker.start()
    futures = [worker.submit(i) for i in range(16)]
    await asyncio.sleep(0.1)
    assert worker.queue_depth == 16 - 2 * 4  # two batches taken while the first is still running
    gate.set()
    assert await asyncio.gather(*futures) == [2 * i for i in range(16)]
    assert len(recorder.threads) == 2
    await asyncio.wait_for(worker.stop(), 10)  # one stop marker per thread: neither hangs
    with pytest.raises(WorkerStoppedError):
        worker.submit(1)


async def test_a_batch_past_its_deadline_fails_at_once_and_the_worker_recovers() -> None:
    release = threading.Event()
    hangs: list[float] = []

    def sometimes_stuck(items: Sequence[int]) -> list[int]:
        if 13 in items:
            release.wait(10)  # a model that stopped answering
        return list(items)

    metrics = ServiceMetrics()
    worker = BatchingWorker(
        "stuck",
        sometimes_stuck,
        BatchingConfig(max_batch=1, max_wait_ms=0),
        metrics,
        deadline_s=0.3,
        on_hang=lambda: (hangs.append(time.perf_counter()), release.set()),  # the restart frees it
    )
    worker.start()
    started = time.perf_counter()
    with pytest.raises(ModelTimeoutError, match=r"no answer within 0\.3 s"):
        await worker.submit(13)
    assert time.perf_counter() - started < 2.0 and len(hangs) == 1
    assert metrics.registry.get_sample_value("gameai_model_errors_total", {"model": "stuck"}) == 1
    assert await worker.submit(7) == 7  # after the restart it answers again
    async with asyncio.timeout(5):
        while worker.health_problem is not None:
            await asyncio.sleep(0.05)
    assert metrics.registry.get_sample_value("gameai_model_up", {"model": "stuck"}) == 1
    await worker.stop()


async def test_a_hung_batch_is_reported_until_it_returns() -> None:
    release = threading.Event()

    def stuck(items: Sequence[int]) -> list[int]:
        release.wait(10)
        return list(items)

    metrics = ServiceMetrics()
    worker = BatchingWorker(
        "hung", stuck, BatchingConfig(max_batch=1, max_wait_ms=0), metrics, deadline_s=0.2
    )
    worker.start()
    with pytest.raises(ModelTimeoutError):
        await worker.submit(1)
    assert "no answer within 0.2 s" in (worker.health_problem or "")
    assert metrics.registry.get_sample_value("gameai_model_up", {"model": "hung"}) == 0
    release.set()
    async with asyncio.timeout(5):
        while worker.health_problem is not None:
            await asyncio.sleep(0.05)
    await worker.stop()


async def test_batches_failing_in_a_row_make_the_worker_unhealthy_until_one_succeeds() -> None:
    def fragile(items: Sequence[int]) -> list[int]:
        if items[0] < 0:
            raise ValueError("bad batch")
        return list(items)

    worker = BatchingWorker("fragile", fragile, BatchingConfig(max_batch=1, max_wait_ms=0))
    worker.start()
    for _ in range(FAILURES_UNTIL_UNHEALTHY - 1):
        with pytest.raises(ValueError):
            await worker.submit(-1)
    assert worker.health_problem is None
    with pytest.raises(ValueError):
        await worker.submit(-1)
    assert (
        f"the last {FAILURES_UNTIL_UNHEALTHY} batches failed (ValueError: bad batch)" == worker.health_problem
    )
    assert await worker.submit(1) == 1
    assert worker.health_problem is None
    await worker.stop()


async def test_thread_setup_runs_first_on_each_worker_thread() -> None:
    seen: list[tuple[str, int]] = []

    def setup() -> None:
        seen.append(("setup", threading.get_ident()))

    def model(items: Sequence[int]) -> list[int]:
        seen.append(("batch", threading.get_ident()))
        return list(items)

    worker = BatchingWorker("setup", model, thread_setup=setup)
    worker.start()
    assert await worker.submit(3) == 3
    await worker.stop()
    assert [kind for kind, _ in seen] == ["setup", "batch"]
    assert seen[0][1] == seen[1][1] != threading.get_ident()
