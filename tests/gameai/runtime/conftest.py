"""Runtime tests run torch on one thread (two test workers share two cores)."""

from collections.abc import Iterator

import pytest
import torch

from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
