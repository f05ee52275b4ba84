"""Keep freed memory in the process, so torch's per-batch buffers do not page-fault anew.

Every batch the behaviour model allocates and frees the same few megabytes of activations
(full-resolution keypoint maps: 8 frames x 12 maps x 84 x 84 floats are 2.7 MB). glibc's
malloc serves blocks that large with ``mmap`` and gives them back to the kernel when they are
freed, or trims the top of its heap once enough is free there; the next batch then faults
the same pages in again, zeroed.

:func:`keep_freed_memory` raises glibc's mmap and trim thresholds (what PyTorch's CPU
performance guide gets by swapping in jemalloc or TCMalloc): freed blocks stay in the process
for the next batch, and the process keeps up to ``TRIM_THRESHOLD_BYTES`` it no longer uses.
Elsewhere than on glibc it does nothing. It pays for batches of many frames (for one to
eight frames it makes no difference); how often pages fault without it depends on what the
process allocated before (the measurements: docs/log/behaviour.md).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from typing import Final

logger = logging.getLogger(__name__)

#: glibc's ``mallopt`` parameters (``malloc.h``).
M_TRIM_THRESHOLD: Final = -1
M_TOP_PAD: Final = -2
M_MMAP_THRESHOLD: Final = -3
#: Blocks up to this are served from the heap, not ``mmap`` (glibc's ceiling for the
#: threshold on 64-bit is 32 MiB: ``HEAP_MAX_SIZE / 2``).
MMAP_THRESHOLD_BYTES: Final = 32 * 1024 * 1024
#: Free memory at the top of the heap kept before any is given back.
TRIM_THRESHOLD_BYTES: Final = 256 * 1024 * 1024
#: Extra memory asked of the kernel whenever the heap grows.
TOP_PAD_BYTES: Final = 64 * 1024 * 1024

_applied = False


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed blocks for reuse (once per process; later calls do nothing).

    Returns:
        Whether the settings are in force (False where the C library is not glibc).
    """
    global _applied
    if _applied:
        return True
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        logger.debug("no mallopt in %s: freed memory goes back as the allocator decides", name)
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    settings = (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        (M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
        (M_TOP_PAD, TOP_PAD_BYTES),
    )
    if not all(mallopt(parameter, value) == 1 for parameter, value in settings):
        logger.warning("mallopt refused a setting: freed memory may go back to the kernel after each batch")
        return False
    _applied = True
    return True
