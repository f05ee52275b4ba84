"""Server tests: real servers on free loopback ports, real (random-initialised) models."""

from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401
