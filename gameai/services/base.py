"""The service seam: what one service of the server is, and what it gets for each session.

A service (behaviour, dialogue, agents, or one of your own) is one :class:`Service`. The
server knows nothing of what a service does; it only:

1. asks every service for its models' status (:meth:`Service.models`: ``/healthz``, metrics;
   :meth:`Service.session_models`: ``welcome.models``) and for what it adds to a session's
   ``welcome`` (:meth:`Service.welcome_fields`);
2. parses the client message types the services declare (:attr:`Service.message_types`);
3. lets a service refuse a ``hello`` it cannot serve (:meth:`Service.check_hello`);
4. opens one :class:`SessionService` per session that names the service in
   ``hello.services`` (:meth:`Service.open_session`), hands it that session's messages of the
   service's types and, for a service that takes frames, its frames;
5. starts and stops the service with the server (:meth:`Service.start`, :meth:`Service.stop`).

Calling order for one session::

    handler = service.open_session(context)       # after the hello is accepted
    fields = handler.welcome_fields()              # what it adds to this session's welcome
    await handler.run()                            # a task, until the session ends (optional)
    job = handler.handle(message, received_at)     # per message; a coroutine: a tracked request
    await handler.on_frame(frame, received_at)     # per frame (services with takes_frames)
    await handler.drain(grace_s)                   # server shutdown: finish or cancel work
    await handler.close()                          # the session ended

A request (a message of :attr:`Service.request_types`) that ``handle`` accepts returns a
coroutine; the session's :class:`~gameai.services.requests.RequestTracker` runs it as a task
under the request's ``id`` (in-flight limit, duplicate ids, shutdown), and whatever it raises
becomes one typed ``error`` for that id: :class:`RequestRefusedError` with its code, anything
else ``internal_error``. The session always goes on.

A service that serves each game its own models (:mod:`~gameai.services.game_models`) picks them
by ``hello.game_id`` in :meth:`Service.session_models`, :meth:`Service.welcome_fields`,
:meth:`Service.check_hello`, :meth:`Service.expected_frame_size` and :meth:`Service.open_session`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from gameai.observability.metrics import ServiceMetrics
from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.frames import Frame
from gameai.protocol.messages import Hello, Message, ModelInfo
from gameai.session.state import Session

SendMessage = Callable[[Message], Awaitable[None]]
"""Sends a message to the session's client (never raises once the connection is closed)."""
SendFrameError = Callable[[ProtocolError], Awaitable[None]]
"""Sends an error about a frame to the client (repeats of one code are throttled)."""
RequestJob = Coroutine[Any, Any, None]
"""The answer to an accepted request, still to run."""


def with_health(info: ModelInfo, problem: str | None) -> ModelInfo:
    """A model's status as served now: ``info``, or unavailable with ``problem`` while its worker has one."""
    return info if problem is None else dataclasses.replace(info, status="unavailable", reason=problem)


class RequestRefusedError(Exception):
    """A request cannot be served; becomes an ``error`` with this code for its id.

    Args:
        code: The error code the client gets.
        message: A sentence for the developer.
    """

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ServiceSettings:
    """The server's per-session limits that services apply (from the server's config)."""

    max_new_tokens: int = 128
    """Largest ``max_new_tokens`` a dialogue request may ask for."""
    default_max_new_tokens: int = 48
    """``max_new_tokens`` of a dialogue request that gives none."""
    frame_queue: int = 4
    """Frames queued per session before the oldest is dropped."""
    frames_in_flight: int = 2
    """Windows of one session in the behaviour model at once."""


@dataclass(frozen=True)
class SessionContext:
    """What a service gets for one session."""

    session: Session
    """The session's state (hello, events, NPC memory, difficulty, latest behaviour)."""
    send: SendMessage
    """Sends a message to the client."""
    send_frame_error: SendFrameError
    """Sends a throttled error about a frame to the client."""
    metrics: ServiceMetrics
    """Where the service counts what it does."""
    settings: ServiceSettings
    """The server's limits."""


class SessionService:
    """One service's part of one session (see the module docstring for the calling order).

    The default methods do nothing: a service overrides what it needs.
    """

    def welcome_fields(self) -> Mapping[str, Any]:
        """Fields of this session's ``welcome`` that depend on what :meth:`Service.open_session`
        found (e.g. ``recording``); they add to, and win over, :meth:`Service.welcome_fields`."""
        return {}

    def handle(self, message: Message, received_at: float) -> RequestJob | None:
        """Act on a message of one of the service's types.

        Args:
            message: The parsed message.
            received_at: When it arrived (the server's monotonic clock, seconds).

        Returns:
            For a request: the coroutine that answers it (run as a tracked task). For other
            messages: None once handled.

        Raises:
            RequestRefusedError: The message is refused; its id gets this error.
        """
        raise RequestRefusedError(ErrorCode.UNEXPECTED_MESSAGE, f"{message.TYPE} is not handled here")

    async def on_frame(self, frame: Frame, received_at: float) -> None:
        """Take one parsed frame (only for a service with ``takes_frames``); must not block."""

    async def run(self) -> None:
        """Background work of the session, run as a task until cancelled (default: none).

        An exception here is logged and closes the session's connection with 1011.
        """

    async def drain(self, grace_s: float) -> None:
        """For a server shutdown: cancel or finish work in flight within ``grace_s``."""

    async def close(self) -> None:
        """The session ended: release what the session holds."""


class Service:
    """One service of the server (see the module docstring).

    Subclasses set :attr:`name` and the message types, and override what they need.
    """

    name: ClassVar[str] = ""
    """What a client puts in ``hello.services`` to use this service."""
    message_types: ClassVar[tuple[type[Message], ...]] = ()
    """Client message classes this service handles (each ``TYPE`` owned by one service)."""
    request_types: ClassVar[tuple[type[Message], ...]] = ()
    """Those of :attr:`message_types` that are requests answered later, each with an ``id``."""
    takes_frames: ClassVar[bool] = False
    """Whether the session's binary frames go to this service (at most one service does)."""

    def models(self) -> Mapping[str, ModelInfo]:
        """The status of every model of this service, every game's, by key (``/healthz``, metrics)."""
        return {}

    def session_models(self, hello: Hello) -> Mapping[str, ModelInfo]:
        """The status of the models a session of this hello gets, by key (``welcome.models``;
        default: :meth:`models`)."""
        return self.models()

    def welcome_fields(self, hello: Hello) -> Mapping[str, Any]:
        """Fields of a session's ``welcome`` this service fills (e.g. ``behaviour``, ``agents``)."""
        return {}

    def check_hello(self, hello: Hello) -> tuple[ErrorCode, str] | None:
        """Refuse a hello that asks for this service and cannot be served, else None."""
        return None

    def expected_frame_size(self, hello: Hello) -> tuple[int, int] | None:
        """(width, height) every frame of a session of this hello must have (services that take
        frames), or None."""
        return None

    def open_session(self, context: SessionContext) -> SessionService:
        """This service's part of a new session that asked for it."""
        return SessionService()

    def start(self) -> None:
        """Start the service's workers (called on the event loop, before serving)."""

    async def stop(self) -> None:
        """Stop the service's workers (at shutdown, after every session closed)."""
