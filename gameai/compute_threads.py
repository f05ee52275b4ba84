"""Thread counts of the compute libraries on the threads that call them.

Two traps of serving small models from worker threads, both measured (docs/operations.md):

* OpenMP keeps its thread count per thread. ``torch.set_num_threads`` on the main thread does
  not reach a thread started later: there every torch op runs with a team of every core, whose
  workers spin between ops. A batch-1 call of the arena actor cost 1.4 ms of CPU on a new
  thread against 0.28 ms after :func:`share_torch_threads` (2-core machine).
* numpy's OpenBLAS starts a thread per core for a matrix product of a few thousand elements,
  and they spin too: a 64-row actor batch cost 0.65 ms with them, 0.16 ms with one thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import sys
import threading


def share_torch_threads() -> None:
    """Give the calling thread the process's torch thread count (first thing on a thread running torch)."""
    import torch

    torch.set_num_threads(torch.get_num_threads())


@functools.cache
def limit_numpy_blas_threads(threads: int = 1) -> bool:
    """Limit numpy's OpenBLAS to ``threads`` threads for the whole process (torch's BLAS is left alone).

    Returns:
        Whether a limit was set (False when threadpoolctl finds no OpenBLAS to limit).
    """
    import numpy  # noqa: F401 - loads the OpenBLAS to limit
    from threadpoolctl import ThreadpoolController

    selected = ThreadpoolController().select(internal_api="openblas")
    if not selected.lib_controllers:
        return False
    selected.limit(limits=threads)
    return True


def name_os_thread(name: str | None = None) -> None:
    """Give the calling thread its Python name in the operating system too (Linux; first 15 bytes).

    Python before 3.14 names threads only for itself: ``/proc/<pid>/task/*/comm`` and ``top -H``
    show every thread as ``python``. ``gameai bench capacity`` splits the server's CPU by these
    names (``gameai-dialogu...``, ``gameai-agent/...``). Threads the caller starts afterwards
    (torch's OpenMP workers) inherit the name. Does nothing where ``prctl`` is missing.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = _libc()
    if libc is None:
        return
    encoded = (name or threading.current_thread().name).encode("utf-8", "replace")[:15]
    libc.prctl(15, ctypes.c_char_p(encoded), 0, 0, 0)  # PR_SET_NAME


@functools.cache
def _libc() -> ctypes.CDLL | None:
    path = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(path, use_errno=True) if path else None
    except OSError:
        return None
