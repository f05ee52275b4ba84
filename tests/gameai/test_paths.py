"""Resolving model paths from any directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameai.paths import PROJECT_ROOT, resolve_path


def test_shipped_paths_resolve_from_another_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_path("gameai/vocabulary.py") == PROJECT_ROOT / "gameai" / "vocabulary.py"
    assert resolve_path("gameai/vocabulary.py").exists()


def test_a_users_own_relative_directory_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "gameai").mkdir()
    (tmp_path / "gameai" / "vocabulary.py").write_text("mine")
    assert resolve_path("gameai/vocabulary.py") == Path("gameai/vocabulary.py")


def test_absent_and_absolute_paths_stay_as_given(tmp_path: Path) -> None:
    assert resolve_path("no/such/model") == Path("no/such/model")
    assert resolve_path(tmp_path / "x") == tmp_path / "x"
