"""Dialogue tests run torch on one thread: the suite runs two workers on a two-core machine,
and oversubscribed OpenMP threads slow every torch call many times over."""

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
