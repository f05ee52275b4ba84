"""Where compiled kernels are cached, and that an edit to any kernel source moves it."""

from __future__ import annotations

import os
from pathlib import Path

import numba
import numpy as np
import pytest

from demo_game.sim import ArenaConfig, ArenaSimulation, jit


def test_kernels_are_cached_under_a_digest_of_their_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    folder = jit.kernel_cache_dir()
    assert folder.parent == Path("/somewhere/gameai/numba")
    assert len(folder.name) == 16
    assert jit.kernel_cache_dir() == folder


def test_the_cache_folder_changes_when_a_kernel_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "some_kernels"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "step.py").write_text("def step(x):\n    return x + 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(jit, "_KERNEL_PACKAGES", ("some_kernels",))
    before = jit.kernel_cache_dir()
    (package / "step.py").write_text("def step(x):\n    return x + 2\n")
    assert jit.kernel_cache_dir() != before


@pytest.mark.skipif(bool(os.environ.get("NUMBA_CACHE_DIR")), reason="NUMBA_CACHE_DIR chooses the folder")
def test_kernels_compile_into_that_folder_and_others_keep_numbas() -> None:
    simulation = ArenaSimulation(1, ArenaConfig())
    simulation.reset(np.array([7], dtype=np.uint64))
    simulation.step()
    assert any(jit.kernel_cache_dir().rglob("*.nbi"))
    assert str(jit.kernel_cache_dir()) != numba.config.CACHE_DIR
