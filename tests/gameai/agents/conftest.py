"""Async tests run on an event loop of their own (one torch thread: tests/gameai/conftest.py)."""

from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401
