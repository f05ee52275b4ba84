"""The serving process's collector: start-up objects frozen out of it, each pause recorded."""

from __future__ import annotations

import gc

from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.heap import freeze_startup_objects, time_collections


def test_the_objects_alive_at_start_up_are_left_out_of_collections() -> None:
    kept = [[i] for i in range(1000)]  # tracked containers alive "at start-up"
    try:
        frozen = freeze_startup_objects()
        assert frozen >= len(kept) and gc.get_freeze_count() == frozen
        collected = {id(o) for o in gc.get_objects()}  # what later collections walk
        assert not any(id(x) in collected for x in kept)
    finally:
        gc.unfreeze()
    assert gc.get_freeze_count() == 0


def test_every_collection_is_timed_by_generation() -> None:
    metrics = ServiceMetrics()
    callback = time_collections(metrics.gc_pause_seconds)
    try:
        gc.collect(0)
        gc.collect(2)
    finally:
        gc.callbacks.remove(callback)
    counts = {
        sample.labels["generation"]: sample.value
        for sample in metrics.gc_pause_seconds.collect()[0].samples
        if sample.name.endswith("_count")
    }
    assert counts["0"] >= 1 and counts["2"] >= 1
    sums = [s.value for s in metrics.gc_pause_seconds.collect()[0].samples if s.name.endswith("_sum")]
    assert all(value >= 0.0 for value in sums) and sum(sums) > 0.0
