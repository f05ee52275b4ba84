"""Thread counts and names of the compute libraries on the server's threads."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from gameai.compute_threads import limit_numpy_blas_threads, name_os_thread, share_torch_threads


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="thread names in /proc are Linux's")
def test_a_named_thread_shows_its_name_to_the_operating_system() -> None:
    names: list[str] = []

    def run() -> None:
        name_os_thread()
        share_torch_threads()
        names.append(Path(f"/proc/{os.getpid()}/task/{threading.get_native_id()}/comm").read_text().strip())

    thread = threading.Thread(target=run, name="gameai-dialogue-7")
    thread.start()
    thread.join()
    assert names == ["gameai-dialogue"]  # the first 15 bytes


def test_numpy_blas_is_limited_once_for_the_process() -> None:
    from threadpoolctl import threadpool_info

    limited = limit_numpy_blas_threads(1)
    openblas = [info for info in threadpool_info() if info["internal_api"] == "openblas"]
    assert limited == bool(openblas)
    assert all(info["num_threads"] == 1 for info in openblas)
    hits = limit_numpy_blas_threads.cache_info().hits
    assert limit_numpy_blas_threads(1) == limited  # once: the second call does not search again
    assert limit_numpy_blas_threads.cache_info().hits == hits + 1
