"""Run ``async def`` tests with ``asyncio.run`` (no pytest-asyncio needed).

A test directory's ``conftest.py`` opts in with::

    from gameai.testing.asyncio_tests import pytest_pyfunc_call  # noqa: F401

A test runs on asyncio's own event loop unless it takes an argument ``event_loop_kind``
(a :data:`~gameai.event_loops.EventLoopName`), which names its loop::

    @pytest.mark.parametrize("event_loop_kind", ["asyncio", "uvloop"])
    async def test_on_both_loops(event_loop_kind: str) -> None: ...
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from gameai.event_loops import run

EVENT_LOOP_ARGUMENT = "event_loop_kind"


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run a coroutine test function in a fresh event loop."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments: dict[str, Any] = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    run(pyfuncitem.obj(**arguments), arguments.get(EVENT_LOOP_ARGUMENT, "asyncio"))
    return True
