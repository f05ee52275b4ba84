"""Service tests: torch on one thread (two test workers share two cores), random-initialised models."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401
from gameai.testing.servers import write_test_assets


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random-initialised models in the serving formats (small behaviour CNN, tiny GPT-2, two agents)."""
    return write_test_assets(tmp_path_factory.mktemp("assets"))
