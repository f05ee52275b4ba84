"""The server side of one connection as a sans-I/O state machine.

:class:`ServerProtocol` never touches a socket or a clock. The server feeds it each
websocket message with the time it arrived and gets back the parsed message or frame
to act on; errors for the client and a close decision wait in the object::

    protocol = ServerProtocol(limits, now=clock())
    message = protocol.receive_text(text, now=clock())      # or receive_binary(data, now)
    for reply in protocol.messages_to_send():                # errors (and welcome)
        send(encode_message(reply))
    if protocol.close is not None:                           # a fatal error happened
        close(protocol.close.code, protocol.close.reason)

States::

    AWAITING_HELLO --hello--> HELLO_RECEIVED --accept(welcome)--> OPEN
          |                          |                              |
          +------- fatal error ------+-------- fail(...) ----------+--> CLOSED

Before ``welcome`` only a ``hello`` text message is allowed (anything else is fatal,
``bad_hello``). After a ``hello`` the caller must call :meth:`~ServerProtocol.accept` or
:meth:`~ServerProtocol.fail` before feeding more input. In ``OPEN``, malformed input
gets a non-fatal ``error``; a client that keeps sending malformed input is closed with
``too_many_errors``, one that keeps exceeding its rate limits with ``flooding``.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from gameai.protocol.codec import decode_json, parse_client_message, request_id_of
from gameai.protocol.errors import CLOSE_CODE_OF, ErrorCode, ProtocolError, is_fatal
from gameai.protocol.frames import Frame, FrameLimits, parse_frame
from gameai.protocol.messages import (
    ALL_SERVICES,
    CLIENT_MESSAGES,
    PROTOCOL_VERSION,
    Error,
    Hello,
    Message,
    Welcome,
)
from gameai.protocol.rate import LeakyCounter, Throttle, TokenBucket


class SessionState(enum.Enum):
    """Where a connection is in the protocol."""

    AWAITING_HELLO = "awaiting_hello"
    HELLO_RECEIVED = "hello_received"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class SessionLimits:
    """Per-connection limits enforced by :class:`ServerProtocol`."""

    max_message_bytes: int = 64 * 1024
    """Largest text message, in UTF-8 bytes."""
    max_frame_bytes: int = 256 * 1024
    """Largest frame payload, in bytes."""
    max_frame_dimension: int = 4096
    """Largest frame width or height, in pixels."""
    max_fps: float = 30.0
    """Frames per second accepted (bursts of one second's worth)."""
    max_messages_per_s: float = 100.0
    """Control messages per second accepted (bursts of one second's worth)."""
    flood_tolerance_s: float = 2.0
    """A client is cut off once its dropped excess reaches this many seconds' worth of its limit."""
    max_errors: int = 20
    """A client is cut off once this many malformed messages pile up (they drain at 1 per second)."""
    repeat_error_interval_s: float = 1.0
    """Repeated errors about frames (same code) are sent at most once per this interval."""


@dataclass(frozen=True)
class Close:
    """The server must close the connection with this code and reason."""

    code: int
    reason: str


@dataclass
class ProtocolStats:
    """Counters of one connection (for metrics)."""

    frames_rate_limited: int = 0
    messages_rate_limited: int = 0
    errors: dict[ErrorCode, int] = field(default_factory=dict)


def _close_reason(text: str) -> str:
    """A close reason fits in 123 bytes of UTF-8."""
    encoded = text.encode("utf-8")[:123]
    return encoded.decode("utf-8", errors="ignore")


class ServerProtocol:
    """The protocol state of one client connection (see the module docstring for the calling order).

    Args:
        limits: The connection's limits.
        now: The current time in seconds (the caller's monotonic clock).
        message_types: The client message classes accepted, by ``type`` (default: the
            built-in services' and the core ones).
        services: The service names a ``hello`` may ask for (default: the built-in ones).
    """

    def __init__(
        self,
        limits: SessionLimits,
        now: float,
        message_types: Mapping[str, type[Message]] = CLIENT_MESSAGES,
        services: Collection[str] = ALL_SERVICES,
    ) -> None:
        self.limits = limits
        self.message_types = message_types
        self.services = services
        self.state = SessionState.AWAITING_HELLO
        self.close: Close | None = None
        """Set once the connection must close."""
        self.expected_frame_size: tuple[int, int] | None = None
        """(width, height) frames must have, set by :meth:`accept`; None accepts any size."""
        self.stats = ProtocolStats()
        self._frame_limits = FrameLimits(limits.max_frame_bytes, limits.max_frame_dimension)
        self._outbox: list[Welcome | Error] = []
        self._frame_bucket = TokenBucket(limits.max_fps, max(1.0, limits.max_fps), now)
        self._message_bucket = TokenBucket(
            limits.max_messages_per_s, max(1.0, limits.max_messages_per_s), now
        )
        self._frame_flood = LeakyCounter(limits.max_fps * limits.flood_tolerance_s, limits.max_fps, now)
        self._message_flood = LeakyCounter(
            limits.max_messages_per_s * limits.flood_tolerance_s, limits.max_messages_per_s, now
        )
        self._errors = LeakyCounter(limits.max_errors, 1.0, now)
        self._throttle = Throttle(limits.repeat_error_interval_s)

    # ------------------------------------------------------------------ input

    def receive_text(self, text: str, now: float) -> Message | None:
        """Take one text message.

        Args:
            text: The message.
            now: When it arrived, in seconds.

        Returns:
            The parsed message to act on, or None if it was refused (an error is then
            waiting in :meth:`messages_to_send`) or the connection is closed.
        """
        if self.state is SessionState.CLOSED:
            return None
        if self.state is SessionState.HELLO_RECEIVED:
            raise RuntimeError("call accept() or fail() after a hello before feeding more input")
        size = len(text) if text.isascii() else len(text.encode("utf-8", errors="replace"))
        if size > self.limits.max_message_bytes:
            self._refuse(
                ProtocolError(
                    ErrorCode.MESSAGE_TOO_LARGE,
                    f"message of {size} bytes exceeds max_message_bytes={self.limits.max_message_bytes}",
                ),
                now,
            )
            return None
        if self.state is SessionState.OPEN and not self._message_bucket.take(now):
            self.stats.messages_rate_limited += 1
            self._rate_limited(
                "messages", self.limits.max_messages_per_s, self._message_flood, now, _request_id_in(text)
            )
            return None
        try:
            message = parse_client_message(text, self.message_types)
        except ProtocolError as exc:
            self._refuse(exc, now)
            return None
        if self.state is SessionState.AWAITING_HELLO:
            return self._receive_hello(message)
        if isinstance(message, Hello):
            self._refuse(ProtocolError(ErrorCode.UNEXPECTED_MESSAGE, "hello was already received"), now)
            return None
        return message

    def _receive_hello(self, message: Message) -> Hello | None:
        if not isinstance(message, Hello):
            self.fail(ErrorCode.BAD_HELLO, f"the first message must be hello, got {message.TYPE}")
            return None
        if message.protocol != PROTOCOL_VERSION:
            self.fail(
                ErrorCode.BAD_VERSION,
                f"protocol version {message.protocol} unsupported; this server speaks {PROTOCOL_VERSION}",
            )
            return None
        unknown = [name for name in message.services if name not in self.services]
        if unknown:
            self.fail(
                ErrorCode.BAD_HELLO,
                f"bad hello: unknown service {unknown[0][:32]!r} (this server offers: "
                f"{', '.join(self.services)})",
            )
            return None
        self.state = SessionState.HELLO_RECEIVED
        return message

    def receive_binary(self, data: bytes | bytearray | memoryview, now: float) -> Frame | None:
        """Take one binary message (a frame).

        Args:
            data: The message.
            now: When it arrived, in seconds.

        Returns:
            The parsed, size-checked frame to act on, or None if it was refused or dropped.
        """
        if self.state is SessionState.CLOSED:
            return None
        if self.state is SessionState.HELLO_RECEIVED:
            raise RuntimeError("call accept() or fail() after a hello before feeding more input")
        if self.state is SessionState.AWAITING_HELLO:
            self.fail(ErrorCode.BAD_HELLO, "the first message must be a hello text message, got binary")
            return None
        if not self._frame_bucket.take(now):
            self.stats.frames_rate_limited += 1
            self._rate_limited("frames", self.limits.max_fps, self._frame_flood, now)
            return None
        try:
            frame = parse_frame(data, self._frame_limits)
            if (
                self.expected_frame_size is not None
                and (frame.width, frame.height) != self.expected_frame_size
            ):
                width, height = self.expected_frame_size
                raise ProtocolError(
                    ErrorCode.WRONG_FRAME_SIZE,
                    f"frame is {frame.width}x{frame.height}, the behaviour model takes {width}x{height}",
                    seq=frame.seq,
                )
        except ProtocolError as exc:
            self._refuse(exc, now, throttle=True)
            return None
        return frame

    # ------------------------------------------------------------------ decisions

    def accept(self, welcome: Welcome, expected_frame_size: tuple[int, int] | None = None) -> None:
        """Accept the hello: queue ``welcome`` and open the session.

        Args:
            welcome: The welcome message to send.
            expected_frame_size: (width, height) every frame must have, or None for any.

        Raises:
            RuntimeError: If no hello is waiting for a decision.
        """
        if self.state is not SessionState.HELLO_RECEIVED:
            raise RuntimeError(f"accept() in state {self.state.name}")
        self.expected_frame_size = expected_frame_size
        self._outbox.append(welcome)
        self.state = SessionState.OPEN

    def fail(self, code: ErrorCode, message: str, request_id: str | None = None) -> None:
        """Queue a fatal error and mark the connection for closing with its close code.

        Args:
            code: A fatal error code (one of :data:`~gameai.protocol.errors.CLOSE_CODE_OF`).
            message: The reason, for the client.
            request_id: The request concerned, if any.

        Raises:
            ValueError: If ``code`` is not fatal.
        """
        if not is_fatal(code):
            raise ValueError(f"{code} is not a fatal error code")
        if self.state is SessionState.CLOSED:
            return
        self._count(code)
        self._outbox.append(Error(code=code, message=message, id=request_id, fatal=True))
        self.close = Close(CLOSE_CODE_OF[code], _close_reason(message))
        self.state = SessionState.CLOSED

    def messages_to_send(self) -> list[Welcome | Error]:
        """Return and forget the messages waiting to be sent, oldest first."""
        outbox, self._outbox = self._outbox, []
        return outbox

    # ------------------------------------------------------------------ helpers

    def _count(self, code: ErrorCode) -> None:
        self.stats.errors[code] = self.stats.errors.get(code, 0) + 1

    def _refuse(self, error: ProtocolError, now: float, throttle: bool = False) -> None:
        """Answer malformed input: fatal before the hello, else an error (and cut-off if it keeps up)."""
        if self.state is SessionState.AWAITING_HELLO:
            self.fail(ErrorCode.BAD_HELLO, f"bad hello: {error.message}", error.request_id)
            return
        if self._errors.add(now):
            self.fail(
                ErrorCode.TOO_MANY_ERRORS,
                f"too many malformed messages (last: {error.code.value}: {error.message})"[:300],
            )
            return
        self._count(error.code)
        if throttle and not self._throttle.allow(error.code, now):
            return
        self._outbox.append(Error(code=error.code, message=error.message, id=error.request_id, seq=error.seq))

    def _rate_limited(
        self, what: str, limit: float, flood: LeakyCounter, now: float, request_id: str | None = None
    ) -> None:
        """Drop input over a rate: a message with an ``id`` always gets its own ``rate_limited``
        error (no request goes unanswered); notices about the rest are throttled."""
        if flood.add(now):
            self.fail(ErrorCode.FLOODING, f"kept sending {what} faster than {limit:g}/s")
            return
        self._count(ErrorCode.RATE_LIMITED)
        if request_id is not None or self._throttle.allow((ErrorCode.RATE_LIMITED, what), now):
            message = f"more than {limit:g} {what}/s; " + (
                "this one was dropped" if request_id else "excess dropped"
            )
            self._outbox.append(Error(code=ErrorCode.RATE_LIMITED, message=message, id=request_id))


def _request_id_in(text: str) -> str | None:
    """The ``id`` of a message refused before it was parsed, so its error can carry it (None: none)."""
    try:
        return request_id_of(decode_json(text))
    except ProtocolError:
        return None
