"""Fixtures shared by the tests of several gameai packages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from gameai.testing.servers import write_test_assets
from gameai.testing.tiny_models import tiny_keypoints_config, write_random_behaviour_model


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread: the suite runs two workers on two cores, and oversubscribed OpenMP
    threads slow every torch call many times over."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random-initialised models in the serving formats (small behaviour CNN, tiny GPT-2, two agents)."""
    return write_test_assets(tmp_path_factory.mktemp("assets"))


@pytest.fixture(scope="module")
def tiny_keypoints_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random keypoints behaviour model (K = ``TINY_FRAMES_PER_WINDOW``) in the serving format."""
    directory = tmp_path_factory.mktemp("keypoints") / "behaviour"
    write_random_behaviour_model(directory, tiny_keypoints_config())
    return directory
