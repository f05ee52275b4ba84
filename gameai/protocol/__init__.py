"""gameai protocol v1, sans-I/O: messages, frames, errors and the session state machine.

Nothing here opens a socket or reads a clock; the server and the clients are thin
loops around it (the pattern of python-websockets' ``protocol.py``).

Modules:

* :mod:`~gameai.protocol.messages`: one dataclass per JSON control message.
* :mod:`~gameai.protocol.codec`: the one place that parses, validates and serialises them.
* :mod:`~gameai.protocol.frames`: the binary frame header, parsing and encoding.
* :mod:`~gameai.protocol.connection`: :class:`ServerProtocol`, the per-connection state machine.
* :mod:`~gameai.protocol.errors`: :class:`ErrorCode`, :class:`CloseCode`, :class:`ProtocolError`.
* :mod:`~gameai.protocol.schema`: the JSON Schema generated from the messages.

Exceptions::

    Exception
     └── ProtocolError      every malformed message or frame (carries an ErrorCode;
                            fatal codes map to a CloseCode); the only exception the
                            parsers raise, whatever bytes they are given
"""

from gameai.protocol.codec import encode_message, parse_client_message, parse_server_message
from gameai.protocol.connection import Close, ServerProtocol, SessionLimits, SessionState
from gameai.protocol.errors import CLOSE_CODE_OF, CloseCode, ErrorCode, ProtocolError, is_fatal
from gameai.protocol.frames import (
    HEADER_SIZE,
    Frame,
    FrameEncoding,
    FrameLimits,
    decode_frame_pixels,
    encode_frame,
    parse_frame,
)
from gameai.protocol.messages import (
    PROTOCOL_VERSION,
    Act,
    ActBatch,
    Action,
    ActionBatch,
    AgentSpec,
    BehaviourResult,
    BehaviourSpec,
    BotLikeMinimum,
    ClientMessage,
    DialogueCancel,
    DialogueDelta,
    DialogueDone,
    DialogueRequest,
    Error,
    Events,
    FrameFormat,
    Hello,
    Limits,
    MatchResult,
    ModelInfo,
    Ping,
    Pong,
    ServerMessage,
    Welcome,
)

__all__ = [
    "CLOSE_CODE_OF",
    "HEADER_SIZE",
    "PROTOCOL_VERSION",
    "Act",
    "ActBatch",
    "Action",
    "ActionBatch",
    "AgentSpec",
    "BehaviourResult",
    "BehaviourSpec",
    "BotLikeMinimum",
    "ClientMessage",
    "Close",
    "CloseCode",
    "DialogueCancel",
    "DialogueDelta",
    "DialogueDone",
    "DialogueRequest",
    "Error",
    "ErrorCode",
    "Events",
    "Frame",
    "FrameEncoding",
    "FrameFormat",
    "FrameLimits",
    "Hello",
    "Limits",
    "MatchResult",
    "ModelInfo",
    "Ping",
    "Pong",
    "ProtocolError",
    "ServerMessage",
    "ServerProtocol",
    "SessionLimits",
    "SessionState",
    "Welcome",
    "decode_frame_pixels",
    "encode_frame",
    "encode_message",
    "is_fatal",
    "parse_client_message",
    "parse_frame",
    "parse_server_message",
]
