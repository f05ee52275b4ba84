"""Random bytes and random JSON never make the parsers raise anything but ProtocolError."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gameai.protocol import (
    ErrorCode,
    ProtocolError,
    ServerProtocol,
    SessionLimits,
    decode_frame_pixels,
    encode_message,
    parse_client_message,
    parse_frame,
)
from gameai.protocol.frames import HEADER, MAGIC
from gameai.protocol.messages import CLIENT_MESSAGES
from gameai.testing.protocol_strategies import JSON_VALUES, message_strategy

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TYPES = st.sampled_from([*CLIENT_MESSAGES, "welcome", "", "x" * 100])
KEYS = st.sampled_from(
    ["id", "npc_id", "observation", "difficulty", "persona", "protocol", "game_id", "events", "frames",
     "services", "outcome", "t", "seed", "stop", "game_state", "max_new_tokens", "agent", "token", "zzz"]
)  # fmt: skip


def _parses_or_typed_error(text: str | bytes) -> None:
    try:
        parse_client_message(text)
    except ProtocolError as exc:
        assert isinstance(exc.code, ErrorCode)


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_as_text(data: bytes) -> None:
    _parses_or_typed_error(data)


@FUZZ
@given(st.text(max_size=256))
def test_random_text(text: str) -> None:
    _parses_or_typed_error(text)


@FUZZ
@given(JSON_VALUES)
def test_random_json(value: object) -> None:
    _parses_or_typed_error(json.dumps(value))


@FUZZ
@given(TYPES, st.dictionaries(KEYS, JSON_VALUES, max_size=8))
def test_random_objects_with_a_known_type(message_type: str, fields: dict[str, object]) -> None:
    _parses_or_typed_error(json.dumps({"type": message_type, **fields}))


@FUZZ
@given(message_strategy(CLIENT_MESSAGES.values()), KEYS, JSON_VALUES)
def test_valid_messages_with_one_field_replaced(message: object, key: str, value: object) -> None:
    data = json.loads(encode_message(message))  # type: ignore[arg-type]
    data[key] = value
    _parses_or_typed_error(json.dumps(data))


@FUZZ
@given(message_strategy(CLIENT_MESSAGES.values()), st.integers(0, 400), st.binary(min_size=1, max_size=4))
def test_valid_messages_with_bytes_spliced_in(message: object, position: int, junk: bytes) -> None:
    data = encode_message(message).encode()  # type: ignore[arg-type]
    position %= len(data) + 1
    _parses_or_typed_error(data[:position] + junk + data[position:])


def _frame_parses_or_typed_error(data: bytes) -> None:
    try:
        frame = parse_frame(data)
        decode_frame_pixels(frame)
    except ProtocolError as exc:
        assert isinstance(exc.code, ErrorCode)


@FUZZ
@given(st.binary(max_size=256))
def test_random_bytes_as_frame(data: bytes) -> None:
    _frame_parses_or_typed_error(data)


@FUZZ
@given(
    st.integers(0, 3),
    st.integers(0, 4),
    st.integers(0, 2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(0, 12),
    st.integers(0, 12),
    st.integers(0, 600),
    st.binary(max_size=600),
)
def test_random_headers_with_random_payloads(
    version: int,
    encoding: int,
    flags: int,
    timestamp: float,
    width: int,
    height: int,
    length: int,
    payload: bytes,
) -> None:
    header = HEADER.pack(MAGIC, version, encoding, 3, flags, 1, timestamp, width, height, length)
    _frame_parses_or_typed_error(header + payload)


@FUZZ
@given(
    st.lists(
        st.one_of(st.binary(max_size=64), st.text(max_size=64), JSON_VALUES.map(json.dumps)), max_size=30
    )
)
def test_server_protocol_survives_any_sequence_of_messages(items: list[object]) -> None:
    protocol = ServerProtocol(SessionLimits(max_errors=5), now=0.0)
    for step, item in enumerate(items):
        now = step * 0.01
        if isinstance(item, bytes):
            protocol.receive_binary(item, now)
        else:
            result = protocol.receive_text(item, now)  # type: ignore[arg-type]
            if result is not None and protocol.state.name == "HELLO_RECEIVED":
                protocol.fail(ErrorCode.BAD_TOKEN, "fuzzing")
        for message in protocol.messages_to_send():
            encode_message(message)  # every queued message is serialisable
