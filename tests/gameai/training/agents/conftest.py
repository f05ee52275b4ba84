"""Agent tests: one torch thread per test worker (two workers share two cores), async tests on a loop."""

from collections.abc import Iterator

import pytest
import torch

from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Train and serve on one torch thread, as on the shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
