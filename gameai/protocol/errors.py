"""Typed error codes, close codes and the one exception the protocol raises.

Every problem the protocol core finds is a :class:`ProtocolError` carrying an
:class:`ErrorCode`. A non-fatal error becomes an ``error`` message to that client
and the connection stays open; a fatal one also closes the connection with the
:class:`CloseCode` that :data:`CLOSE_CODE_OF` gives for its code.
"""

from __future__ import annotations

import enum
from typing import Final


class ErrorCode(enum.StrEnum):
    """The ``code`` of an ``error`` message (documented one by one in docs/protocol.md)."""

    # Malformed control messages.
    BAD_JSON = "bad_json"
    """The text message is not valid UTF-8 JSON (or holds NaN/Infinity, or nests too deep)."""
    BAD_MESSAGE = "bad_message"
    """The JSON is not an object with a string ``type``."""
    UNKNOWN_TYPE = "unknown_type"
    """``type`` names no message a client may send."""
    MISSING_FIELD = "missing_field"
    """A required field is absent."""
    UNKNOWN_FIELD = "unknown_field"
    """A field the message does not define is present."""
    WRONG_TYPE = "wrong_type"
    """A field has the wrong JSON type."""
    OUT_OF_RANGE = "out_of_range"
    """A field has the right type but a value outside its allowed range or length."""
    MESSAGE_TOO_LARGE = "message_too_large"
    """A text message is longer than ``limits.max_message_bytes``."""
    # Malformed binary frames.
    FRAME_TRUNCATED = "frame_truncated"
    """A binary message is shorter than the 28-byte frame header."""
    BAD_FRAME_HEADER = "bad_frame_header"
    """Wrong magic, version, channels, flags, a zero or too large size, or a non-finite timestamp."""
    FRAME_SIZE_MISMATCH = "frame_size_mismatch"
    """The header's ``payload_length`` disagrees with the payload received or with width x height x 3."""
    FRAME_TOO_LARGE = "frame_too_large"
    """The payload is larger than ``limits.max_frame_bytes``."""
    UNSUPPORTED_ENCODING = "unsupported_encoding"
    """The header's encoding byte is not raw (0), PNG (1) or JPEG (2)."""
    BAD_FRAME_PAYLOAD = "bad_frame_payload"
    """A PNG/JPEG payload does not decode, or decodes to another size or format than declared."""
    WRONG_FRAME_SIZE = "wrong_frame_size"
    """The frame is not the size the behaviour model takes (``welcome.behaviour``)."""
    # Well-formed but not allowed now.
    UNEXPECTED_MESSAGE = "unexpected_message"
    """The message is valid but not allowed in this state (a second ``hello``)."""
    DUPLICATE_ID = "duplicate_id"
    """A request reuses the ``id`` of a request still in flight."""
    UNKNOWN_REQUEST = "unknown_request"
    """``dialogue.cancel`` names no dialogue in flight."""
    SERVICE_NOT_REQUESTED = "service_not_requested"
    """The request is for a service the client did not ask for in ``hello``."""
    RATE_LIMITED = "rate_limited"
    """Messages or frames arrive faster than the session's limits; the excess is dropped."""
    OVERLOADED = "overloaded"
    """Too many requests in flight (per session or in the model's queue); try again later."""
    MODEL_UNAVAILABLE = "model_unavailable"
    """The model behind this service failed to load (see ``welcome.models``)."""
    UNKNOWN_AGENT = "unknown_agent"
    """``act`` names an agent the server does not have."""
    BAD_OBSERVATION = "bad_observation"
    """``act``'s observation length does not match the agent's ``obs_dim``."""
    UNKNOWN_LABEL = "unknown_label"
    """``label`` names no class of the session's behaviour model (``welcome.behaviour.classes``)."""
    NOT_RECORDING = "not_recording"
    """``label`` in a session that is not recorded (not asked for, off on this server, or stopped)."""
    RECORDING_STOPPED = "recording_stopped"
    """The server stopped recording this session (a write failed, or the player's recordings were
    deleted); sent once, the session goes on unrecorded."""
    INTERNAL_ERROR = "internal_error"
    """The server failed while handling this request or frame (``seq``); it is logged, the session goes on."""
    # Fatal: sent just before the connection closes.
    BAD_VERSION = "bad_version"
    """``hello.protocol`` is a version this server does not speak."""
    BAD_TOKEN = "bad_token"
    """The token is missing or wrong where the server requires one."""
    BAD_HELLO = "bad_hello"
    """The first message is not a valid ``hello``."""
    HELLO_TIMEOUT = "hello_timeout"
    """No ``hello`` arrived within ``hello_timeout_s`` of connecting."""
    FLOODING = "flooding"
    """The client kept exceeding its rate limits; the connection is closed."""
    TOO_MANY_ERRORS = "too_many_errors"
    """The client kept sending malformed messages; the connection is closed."""
    IDLE_TIMEOUT = "idle_timeout"
    """No message arrived within ``limits.idle_timeout_s``."""
    SERVER_FULL = "server_full"
    """The server already has ``max_sessions`` sessions."""
    UNSUPPORTED_FRAME_FORMAT = "unsupported_frame_format"
    """``hello.frames`` declares a frame size the behaviour model does not take."""
    SHUTTING_DOWN = "shutting_down"
    """The server is shutting down (close code 1001)."""


class CloseCode(enum.IntEnum):
    """Application close codes (4000-4999) the server closes a connection with.

    Besides these the server uses the standard codes 1000 (normal), 1001 (going away:
    shutdown), 1009 (message larger than the websocket size limit) and 1011
    (internal error in that connection's handler).
    """

    BAD_VERSION = 4000
    BAD_TOKEN = 4001
    BAD_HELLO = 4002
    HELLO_TIMEOUT = 4003
    FLOODING = 4004
    TOO_MANY_ERRORS = 4005
    IDLE_TIMEOUT = 4006
    SERVER_FULL = 4007
    UNSUPPORTED_FRAME_FORMAT = 4008


#: Standard close code for a server shutting down.
GOING_AWAY: Final = 1001
#: Standard close code for a crash in the connection's handler.
INTERNAL_ERROR_CLOSE: Final = 1011

#: The close code of each fatal error code; an error code not listed here is not fatal.
CLOSE_CODE_OF: Final[dict[ErrorCode, int]] = {
    ErrorCode.BAD_VERSION: CloseCode.BAD_VERSION,
    ErrorCode.BAD_TOKEN: CloseCode.BAD_TOKEN,
    ErrorCode.BAD_HELLO: CloseCode.BAD_HELLO,
    ErrorCode.HELLO_TIMEOUT: CloseCode.HELLO_TIMEOUT,
    ErrorCode.FLOODING: CloseCode.FLOODING,
    ErrorCode.TOO_MANY_ERRORS: CloseCode.TOO_MANY_ERRORS,
    ErrorCode.IDLE_TIMEOUT: CloseCode.IDLE_TIMEOUT,
    ErrorCode.SERVER_FULL: CloseCode.SERVER_FULL,
    ErrorCode.UNSUPPORTED_FRAME_FORMAT: CloseCode.UNSUPPORTED_FRAME_FORMAT,
    ErrorCode.SHUTTING_DOWN: GOING_AWAY,
}


def is_fatal(code: ErrorCode) -> bool:
    """Whether an error with this code closes the connection."""
    return code in CLOSE_CODE_OF


class ProtocolError(Exception):
    """A message or frame broke the protocol; the only exception the protocol core raises.

    Args:
        code: What went wrong.
        message: A sentence for the developer of the client (sent to them verbatim).
        request_id: The ``id`` of the offending request when it could be read.
        seq: The frame sequence number when the error is about a frame.
    """

    def __init__(
        self, code: ErrorCode, message: str, request_id: str | None = None, seq: int | None = None
    ) -> None:
        super().__init__(f"{code.value}: {message}")
        self.code = code
        self.message = message
        self.request_id = request_id
        self.seq = seq

    @property
    def fatal(self) -> bool:
        """Whether the connection must close (see :data:`CLOSE_CODE_OF`)."""
        return is_fatal(self.code)
