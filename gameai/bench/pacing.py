"""Paced client actions of the load benchmarks (``bench capacity``, ``bench chaos``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def every(
    hz: float, offset: float, over: Callable[[], bool], action: Callable[[], Awaitable[Any]]
) -> None:
    """Run ``action`` ``hz`` times a second from ``offset`` of a period on (skipping ticks it
    overran) until ``over()``; a lost connection ends it; ``hz <= 0`` runs nothing."""
    from gameai.client.async_client import ConnectionLostError

    if hz <= 0:
        return
    start = time.perf_counter() + offset / hz
    n = 0
    while not over():
        await asyncio.sleep(max(0.0, start + n / hz - time.perf_counter()))
        if over():
            return
        try:
            await action()
        except ConnectionLostError:
            return
        n = max(n + 1, int((time.perf_counter() - start) * hz))
