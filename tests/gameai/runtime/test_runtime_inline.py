"""Small models on the event loop: one batch per turn of the loop, the worker's interface and failures."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.batching import FAILURES_UNTIL_UNHEALTHY, OverloadedError, WorkerStoppedError
from gameai.runtime.inline import InlineBatcher


class Doubler:
    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.threads: set[int] = set()

    def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.threads.add(threading.get_ident())
        return [2 * item for item in items]


async def test_requests_of_one_turn_are_one_batch_run_on_the_loop_thread() -> None:
    model = Doubler()
    batcher = InlineBatcher("double", model, max_batch=4, metrics=ServiceMetrics())
    batcher.start()
    futures = [batcher.submit(i) for i in range(6)]  # one turn: 6 requests -> batches of 4 and 2
    assert batcher.queue_depth == 6
    assert await asyncio.gather(*futures) == [0, 2, 4, 6, 8, 10]
    assert model.batches == [[0, 1, 2, 3], [4, 5]]
    assert model.threads == {threading.get_ident()}
    later = await batcher.submit(7)  # a later turn is a batch of its own
    assert later == 14 and model.batches[-1] == [7]
    await batcher.stop()


async def test_a_full_queue_and_a_stopped_batcher_refuse_at_once() -> None:
    batcher = InlineBatcher("double", Doubler(), max_queue=2)
    with pytest.raises(WorkerStoppedError):
        batcher.submit(1)  # not started
    batcher.start()
    first, second = batcher.submit(1), batcher.submit(2)
    with pytest.raises(OverloadedError):
        batcher.submit(3)
    await batcher.stop()  # answers what waits
    assert (first.result(), second.result()) == (2, 4)
    with pytest.raises(WorkerStoppedError):
        batcher.submit(4)


async def test_a_failing_model_fails_its_batch_and_turns_unhealthy_until_it_answers() -> None:
    failing = True

    def model(items: Sequence[int]) -> list[int]:
        if failing:
            raise RuntimeError("broken weights")
        return list(items)

    metrics = ServiceMetrics()
    batcher = InlineBatcher("flaky", model, metrics=metrics)
    batcher.start()
    for _ in range(FAILURES_UNTIL_UNHEALTHY):
        with pytest.raises(RuntimeError, match="broken weights"):
            await batcher.submit(1)
    assert batcher.health_problem is not None and "broken weights" in batcher.health_problem
    failing = False
    assert await batcher.submit(5) == 5
    assert batcher.health_problem is None
    assert metrics.model_errors_total.labels("flaky")._value.get() == FAILURES_UNTIL_UNHEALTHY
    assert metrics.cpu_seconds_total.labels("model:flaky")._value.get() > 0
