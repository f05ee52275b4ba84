"""Which asyncio event loop the server and the clients run on: uvloop when installed, else asyncio's.

uvloop runs asyncio's API on libuv, so the loop's scheduling and its socket reads and writes
are C rather than Python, which costs the server's loop less CPU per frame (``gameai bench
serve --event-loop uvloop`` / ``asyncio`` compares them; measurements in
docs/log/behaviour.md). It is a dependency on Linux and macOS (not on Windows, where uvloop
does not exist); ``auto`` falls back to asyncio's loop wherever it cannot be imported.

Callers pick a loop by name (:data:`EventLoopName`): ``gameai serve --event-loop``, the
``event_loop`` of :class:`~gameai.server.config.ServerConfig`, the thread-backed client's
``event_loop`` argument.
"""

from __future__ import annotations

import asyncio
import typing
from collections.abc import Callable, Coroutine
from typing import Any, Literal, TypeVar

EventLoopName = Literal["auto", "uvloop", "asyncio"]
"""auto: uvloop when it can be imported, else asyncio; uvloop: uvloop or an error; asyncio: the
standard loop."""

EVENT_LOOP_NAMES: tuple[EventLoopName, ...] = typing.get_args(EventLoopName)

T = TypeVar("T")


class EventLoopUnavailableError(ValueError):
    """The event loop asked for cannot be used here."""


def uvloop_available() -> bool:
    """Whether uvloop can be imported (tried, not just found: a broken install counts as absent)."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return False
    return True


def check_event_loop_name(name: str) -> None:
    """Raise if ``name`` is not a loop this machine can run.

    Raises:
        EventLoopUnavailableError: An unknown name, or ``uvloop`` where it is not installed.
    """
    if name not in EVENT_LOOP_NAMES:
        raise EventLoopUnavailableError(f"event loop {name!r} is not one of {', '.join(EVENT_LOOP_NAMES)}")
    if name == "uvloop" and not uvloop_available():
        raise EventLoopUnavailableError(
            "event loop 'uvloop' asked for but uvloop is not installed (pip install uvloop; "
            "it does not exist on Windows): use 'auto' or 'asyncio'"
        )


def resolve_event_loop_name(name: EventLoopName) -> Literal["uvloop", "asyncio"]:
    """The loop ``name`` means on this machine (``auto`` resolved).

    Raises:
        EventLoopUnavailableError: As :func:`check_event_loop_name`.
    """
    check_event_loop_name(name)
    if name == "auto":
        return "uvloop" if uvloop_available() else "asyncio"
    return name


def event_loop_factory(name: EventLoopName = "auto") -> Callable[[], asyncio.AbstractEventLoop]:
    """A function that makes a new event loop of the kind ``name`` says.

    Raises:
        EventLoopUnavailableError: As :func:`check_event_loop_name`.
    """
    if resolve_event_loop_name(name) == "asyncio":
        return asyncio.new_event_loop
    import uvloop

    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def new_event_loop(name: EventLoopName = "auto") -> asyncio.AbstractEventLoop:
    """A new event loop of the kind ``name`` says (not set as the thread's current loop)."""
    return event_loop_factory(name)()


def run(main: Coroutine[Any, Any, T], name: EventLoopName = "auto") -> T:
    """Like :func:`asyncio.run`, on the event loop ``name`` says.

    Raises:
        EventLoopUnavailableError: As :func:`check_event_loop_name` (``main`` is closed unrun).
    """
    try:
        factory = event_loop_factory(name)
    except EventLoopUnavailableError:
        main.close()
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def running_event_loop_name() -> Literal["uvloop", "asyncio"]:
    """Which kind of loop the caller runs on (raises RuntimeError outside a running loop)."""
    loop = asyncio.get_running_loop()
    return "uvloop" if type(loop).__module__.startswith("uvloop") else "asyncio"
