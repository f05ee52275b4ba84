"""Client tests: against real servers on free loopback ports."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401
from gameai.testing.servers import write_test_assets


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Two test workers share two cores: one torch thread each."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def client_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random-initialised models in the serving formats."""
    return write_test_assets(tmp_path_factory.mktemp("client-assets"))
