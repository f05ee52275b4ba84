"""Small pieces the benchmarks share: latency percentiles and reading a server's /metrics."""

from __future__ import annotations

import urllib.request
from collections.abc import Sequence

import numpy as np


def percentiles_ms(seconds: Sequence[float], quantiles: Sequence[int]) -> dict[str, float | None]:
    """``p{q}_ms`` of each quantile of latencies given in seconds: ms to 0.01, None when there are none."""
    if not seconds:
        return {f"p{q}_ms": None for q in quantiles}
    values = np.percentile(np.asarray(seconds) * 1000.0, list(quantiles))
    return {f"p{q}_ms": round(float(value), 2) for q, value in zip(quantiles, values, strict=True)}


def read_metrics(url: str, timeout_s: float = 10.0) -> dict[str, float]:
    """The samples of a server's ``/metrics``, by name with labels (``gameai_closes_total{code="1011"}``).

    Args:
        url: The server's websocket URL (``ws://host:port/``); no token is needed on loopback.
        timeout_s: How long the request may take.
    """
    with urllib.request.urlopen(url.replace("ws://", "http://") + "metrics", timeout=timeout_s) as response:
        text = response.read().decode()
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            samples[name] = float(value)
    return samples
