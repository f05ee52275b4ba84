"""Client tests: against real servers on free loopback ports."""

from pathlib import Path

import pytest

from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401
from gameai.testing.servers import write_test_assets


@pytest.fixture(scope="session")
def client_assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Random-initialised models in the serving formats."""
    return write_test_assets(tmp_path_factory.mktemp("client-assets"))
