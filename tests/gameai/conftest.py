"""Fixtures shared by the tests of several gameai packages."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameai.testing.tiny_models import tiny_keypoints_config, write_random_behaviour_model


@pytest.fixture(scope="module")
def tiny_keypoints_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random keypoints behaviour model (K = ``TINY_FRAMES_PER_WINDOW``) in the serving format."""
    directory = tmp_path_factory.mktemp("keypoints") / "behaviour"
    write_random_behaviour_model(directory, tiny_keypoints_config())
    return directory
