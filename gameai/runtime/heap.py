"""The garbage collector of a serving process: what was loaded at start-up is left out of its passes.

A server that has loaded torch, transformers and its models holds about 370,000 Python objects
that live as long as it does. CPython's collector still walks all of them in every full
(generation 2) collection, which the churn of serving (a few dicts and tuples per message)
sets off every so often: measured in ``gameai serve`` under 70 demo-like sessions, one such
pass held the event loop for 245 ms, long enough to break the ``act`` p99 objective of a whole
capacity step on its own. :func:`freeze_startup_objects` collects once and moves every object
alive after start-up into the permanent generation (:func:`gc.freeze`), so later full
collections walk only what serving created; the loaded models are never collected anyway.
:func:`time_collections` records each pass's pause in a histogram, so an operator can see them.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import Any, Protocol


class PauseHistogram(Protocol):
    """What :func:`time_collections` records into (a labelled Prometheus histogram)."""

    def labels(self, *values: str) -> Any:
        """The child histogram of one generation."""


def freeze_startup_objects() -> int:
    """Collect once, then leave every object alive now out of later collections.

    Call it once models and services are loaded, before serving.

    Returns:
        How many objects were frozen.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def time_collections(histogram: PauseHistogram) -> Callable[[str, dict[str, int]], None]:
    """Observe each garbage collection's pause, in seconds, labelled by its generation.

    Returns:
        The callback added to :data:`gc.callbacks` (remove it to stop).
    """
    started = [0.0]
    children = [histogram.labels(str(generation)) for generation in range(3)]

    def on_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            children[info["generation"]].observe(time.perf_counter() - started[0])

    gc.callbacks.append(on_collection)
    return on_collection
