"""The one place that parses, validates and serialises control messages.

Calling order: the server hands every text message to :func:`parse_client_message`
(the client hands server messages to :func:`parse_server_message`) and sends what
:func:`encode_message` returns. Both parsers raise :class:`ProtocolError` and nothing
else, whatever the input.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any, Final, cast

from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.fields import build_dataclass, to_json_value
from gameai.protocol.messages import (
    CLIENT_MESSAGES,
    SERVER_MESSAGES,
    ClientMessage,
    Message,
    ServerMessage,
)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text}")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


#: Strict JSON: finite floats only, no NaN/Infinity (built once: ``json.loads`` with options
#: builds a decoder per call).
_DECODER: Final = json.JSONDecoder(parse_float=_finite_float, parse_constant=_reject_constant)


#: Compact JSON, NaN/Infinity refused (built once: ``json.dumps`` with options builds an encoder per call).
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)

_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _contains_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, list):
        return any(_contains_lone_surrogate(v) for v in value)
    if isinstance(value, dict):
        return any(_contains_lone_surrogate(k) or _contains_lone_surrogate(v) for k, v in value.items())
    return False


def decode_json(text: str | bytes) -> Any:
    """Decode JSON strictly: no NaN/Infinity, no numbers that overflow to infinity, no lone
    UTF-16 surrogates (``"\\ud800"``), which are not text and cannot be sent back.

    Args:
        text: The message text (bytes must be UTF-8).

    Returns:
        The decoded value.

    Raises:
        ProtocolError: ``bad_json`` for anything that is not strict JSON (including
            nesting too deep to decode).
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = _DECODER.decode(text)
        if _ESCAPED_SURROGATE.search(text) and _contains_lone_surrogate(value):
            raise ValueError("lone UTF-16 surrogate in a string")
        return value
    except RecursionError:
        raise ProtocolError(ErrorCode.BAD_JSON, "JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
        raise ProtocolError(ErrorCode.BAD_JSON, f"invalid JSON: {exc}") from None


def request_id_of(data: Any) -> str | None:
    """The ``id`` of a decoded message, when it has a usable one (a string of 1 to 64 characters)."""
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def _parse(text: str | bytes, registry: Mapping[str, type[Message]], direction: str) -> Message:
    data = decode_json(text)
    if not isinstance(data, dict):
        raise ProtocolError(ErrorCode.BAD_MESSAGE, "a message must be a JSON object")
    message_type = data.get("type")
    if not isinstance(message_type, str):
        raise ProtocolError(
            ErrorCode.BAD_MESSAGE, "a message needs a string field 'type'", request_id_of(data)
        )
    cls = registry.get(message_type)
    if cls is None:
        known = ", ".join(sorted(registry))
        raise ProtocolError(
            ErrorCode.UNKNOWN_TYPE,
            f"{message_type[:40]!r} is not a message type {direction} (one of: {known})",
            request_id_of(data),
        )
    try:
        return cast(Message, build_dataclass(cls, data, message_type, skip=frozenset({"type"})))
    except ProtocolError as exc:
        exc.request_id = request_id_of(data)
        raise


def parse_client_message(
    text: str | bytes, message_types: Mapping[str, type[Message]] = CLIENT_MESSAGES
) -> ClientMessage:
    """Parse and validate one text message sent by a client.

    Args:
        text: The websocket text message.
        message_types: The message classes accepted, by ``type`` (default: the built-in
            services' and the core ones; a server with more services passes its own).

    Returns:
        The typed message.

    Raises:
        ProtocolError: ``bad_json``, ``bad_message``, ``unknown_type``, ``missing_field``,
            ``unknown_field``, ``wrong_type`` or ``out_of_range``; ``request_id`` is set
            when the message had a readable ``id``.
    """
    return cast(ClientMessage, _parse(text, message_types, "a client may send"))


def parse_server_message(text: str | bytes) -> ServerMessage:
    """Parse and validate one text message sent by the server (the client's side).

    Raises:
        ProtocolError: As :func:`parse_client_message`.
    """
    return cast(ServerMessage, _parse(text, SERVER_MESSAGES, "the server sends"))


def message_to_dict(message: Message) -> dict[str, Any]:
    """The JSON object of a message: ``type`` first, then its fields (None fields left out)."""
    body = to_json_value(message)
    assert isinstance(body, dict)
    return {"type": message.TYPE, **body}


def encode_message(message: Message) -> str:
    """Serialise a message to its compact JSON text.

    Raises:
        ValueError: If a float field is NaN or infinite (a bug in the caller).
    """
    return _ENCODER.encode(message_to_dict(message))
