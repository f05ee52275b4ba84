"""Event loop choice: auto takes uvloop where it is installed, asyncio's own otherwise; a loop that
cannot run here is refused with a clear error by everything that takes a loop name."""

from __future__ import annotations

import asyncio
import sys

import pytest

from gameai.client.async_client import ClientConfig
from gameai.client.threaded import ThreadedGameAIClient
from gameai.event_loops import (
    EventLoopUnavailableError,
    new_event_loop,
    resolve_event_loop_name,
    run,
    running_event_loop_name,
    uvloop_available,
)
from gameai.server.config import ServerConfig


async def _which() -> str:
    await asyncio.sleep(0)
    return running_event_loop_name()


@pytest.fixture
def no_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``import uvloop`` fail, as on a machine without it."""
    monkeypatch.setitem(sys.modules, "uvloop", None)


@pytest.mark.skipif(sys.platform == "win32", reason="uvloop does not exist on Windows")
def test_uvloop_is_installed_with_the_package_and_auto_takes_it() -> None:
    assert uvloop_available()
    assert resolve_event_loop_name("auto") == "uvloop"
    assert run(_which()) == "uvloop" and run(_which(), "uvloop") == "uvloop"


def test_asyncio_is_taken_when_asked_for() -> None:
    assert run(_which(), "asyncio") == "asyncio"
    loop = new_event_loop("asyncio")
    try:
        assert type(loop).__module__.startswith("asyncio")
    finally:
        loop.close()


@pytest.mark.usefixtures("no_uvloop")
def test_without_uvloop_auto_falls_back_and_uvloop_is_refused() -> None:
    assert not uvloop_available()
    assert resolve_event_loop_name("auto") == "asyncio" and run(_which()) == "asyncio"
    with pytest.raises(EventLoopUnavailableError, match="uvloop is not installed"):
        run(_which(), "uvloop")
    with pytest.raises(ValueError, match="uvloop is not installed"):
        ServerConfig(event_loop="uvloop")
    with pytest.raises(EventLoopUnavailableError, match="uvloop is not installed"):
        ThreadedGameAIClient(ClientConfig(), event_loop="uvloop")


def test_unknown_loop_names_are_refused() -> None:
    with pytest.raises(EventLoopUnavailableError, match="not one of auto, uvloop, asyncio"):
        resolve_event_loop_name("trio")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not one of"):
        ServerConfig(event_loop="trio")  # type: ignore[arg-type]
