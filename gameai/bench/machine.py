"""What a benchmark ran on, recorded beside its figures."""

from __future__ import annotations

import contextlib
import os
import platform
import sys
from typing import Any


def machine_info() -> dict[str, Any]:
    """Describe the machine and the library versions that matter for speed."""
    import numpy as np

    info: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "numpy": np.__version__,
    }
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
    for module in ("numba", "torch", "pygame", "gymnasium", "stable_baselines3"):
        loaded = sys.modules.get(module)
        if loaded is not None:
            info[module] = getattr(loaded, "__version__", None) or str(getattr(loaded, "version", ""))
    with contextlib.suppress(OSError):
        info["load_average_1min"] = os.getloadavg()[0]
    return info


def pin_to_one_core() -> int | None:
    """Restrict this process to one CPU (the first it may use); return it, or None if unsupported."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return cpu
