"""Every malformed control message gives its own typed error, with the request id when readable."""

from __future__ import annotations

import json

import pytest

from gameai.protocol import ErrorCode, ProtocolError, parse_client_message, parse_server_message

ACT = {"type": "act", "id": "a1", "npc_id": "rival", "observation": [0.5, 1.0]}


def _with(**changes: object) -> str:
    return json.dumps({**ACT, **changes})


def _without(key: str) -> str:
    return json.dumps({k: v for k, v in ACT.items() if k != key})


MALFORMED: list[tuple[str, str | bytes, ErrorCode]] = [
    ("not json", "{type: act}", ErrorCode.BAD_JSON),
    ("truncated json", '{"type": "act", "id": "a1"', ErrorCode.BAD_JSON),
    ("empty", "", ErrorCode.BAD_JSON),
    ("invalid utf-8 bytes", b'{"type": "ping", "id": "\xff"}', ErrorCode.BAD_JSON),
    ("NaN literal", '{"type": "ping", "t": NaN}', ErrorCode.BAD_JSON),
    ("Infinity literal", '{"type": "ping", "t": Infinity}', ErrorCode.BAD_JSON),
    ("overflowing number", '{"type": "ping", "t": 1e999}', ErrorCode.BAD_JSON),
    ("lone surrogate", '{"type": "ping", "id": "\\ud800"}', ErrorCode.BAD_JSON),
    ("deep nesting", "[" * 100_000 + "]" * 100_000, ErrorCode.BAD_JSON),
    ("array", "[1, 2]", ErrorCode.BAD_MESSAGE),
    ("string", '"hello"', ErrorCode.BAD_MESSAGE),
    ("no type", '{"id": "a1"}', ErrorCode.BAD_MESSAGE),
    ("numeric type", '{"type": 7}', ErrorCode.BAD_MESSAGE),
    ("unknown type", '{"type": "teleport"}', ErrorCode.UNKNOWN_TYPE),
    ("server message from client", '{"type": "welcome"}', ErrorCode.UNKNOWN_TYPE),
    ("missing observation", _without("observation"), ErrorCode.MISSING_FIELD),
    ("missing npc_id", _without("npc_id"), ErrorCode.MISSING_FIELD),
    ("unknown field", _with(speed=3), ErrorCode.UNKNOWN_FIELD),
    ("observation not an array", _with(observation="fast"), ErrorCode.WRONG_TYPE),
    ("observation item not a number", _with(observation=[1, "x"]), ErrorCode.WRONG_TYPE),
    ("bool as number", _with(observation=[True]), ErrorCode.WRONG_TYPE),
    ("npc_id a number", _with(npc_id=5), ErrorCode.WRONG_TYPE),
    ("difficulty null is fine but object is not", _with(difficulty={}), ErrorCode.WRONG_TYPE),
    ("difficulty above 1", _with(difficulty=1.5), ErrorCode.OUT_OF_RANGE),
    ("difficulty below 0", _with(difficulty=-0.1), ErrorCode.OUT_OF_RANGE),
    ("empty observation", _with(observation=[]), ErrorCode.OUT_OF_RANGE),
    ("observation too long", _with(observation=[0.0] * 5000), ErrorCode.OUT_OF_RANGE),
    ("empty id", _with(id=""), ErrorCode.OUT_OF_RANGE),
    ("id too long", _with(id="x" * 65), ErrorCode.OUT_OF_RANGE),
    ("huge integer for a float", _with(difficulty=10**400), ErrorCode.OUT_OF_RANGE),
    ("integer beyond the digit limit", '{"type":"ping","t":' + "9" * 5000 + "}", ErrorCode.BAD_JSON),
    (
        "hello with bad encoding",
        '{"type":"hello","protocol":1,"game_id":"g","frames":{"width":8,"height":8,"encoding":"gif"}}',
        ErrorCode.OUT_OF_RANGE,
    ),
    (
        "hello with an empty service name",
        '{"type":"hello","protocol":1,"game_id":"g","services":[""]}',
        ErrorCode.OUT_OF_RANGE,
    ),
    (
        "hello with no services",
        '{"type":"hello","protocol":1,"game_id":"g","services":[]}',
        ErrorCode.OUT_OF_RANGE,
    ),
    ("match result outcome", '{"type":"match.result","outcome":"maybe"}', ErrorCode.OUT_OF_RANGE),
    (
        "dialogue temperature",
        '{"type":"dialogue.request","id":"d","npc_id":"n","persona":"p","temperature":3}',
        ErrorCode.OUT_OF_RANGE,
    ),
    (
        "dialogue top_p zero",
        '{"type":"dialogue.request","id":"d","npc_id":"n","persona":"p","top_p":0}',
        ErrorCode.OUT_OF_RANGE,
    ),
    (
        "dialogue negative seed",
        '{"type":"dialogue.request","id":"d","npc_id":"n","persona":"p","seed":-1}',
        ErrorCode.OUT_OF_RANGE,
    ),
    (
        "dialogue no alternatives",
        '{"type":"dialogue.request","id":"d","npc_id":"n","persona":"p","n":0}',
        ErrorCode.OUT_OF_RANGE,
    ),
    (
        "dialogue too many alternatives",
        '{"type":"dialogue.request","id":"d","npc_id":"n","persona":"p","n":5}',
        ErrorCode.OUT_OF_RANGE,
    ),
    (
        "dialogue alternatives not an integer",
        '{"type":"dialogue.request","id":"d","npc_id":"n","persona":"p","n":1.5}',
        ErrorCode.WRONG_TYPE,
    ),
    ("events with an empty name", '{"type":"events","events":[""]}', ErrorCode.OUT_OF_RANGE),
    (
        "game_state not an object",
        '{"type":"dialogue.request","id":"d","npc_id":"n","persona":"p","game_state":[]}',
        ErrorCode.WRONG_TYPE,
    ),
]


@pytest.mark.parametrize(
    ("text", "code"), [(t, c) for _, t, c in MALFORMED], ids=[n for n, _, _ in MALFORMED]
)
def test_malformed_message_gives_its_typed_error(text: str | bytes, code: ErrorCode) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(text)
    assert info.value.code == code
    assert info.value.message  # a sentence for the developer
    assert not info.value.fatal


def test_error_carries_the_request_id_when_readable() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(_with(difficulty=7))
    assert info.value.request_id == "a1"
    assert "act.difficulty" in info.value.message


def test_error_names_the_offending_path() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(_with(observation=[1, 2, "x"]))
    assert "act.observation[2]" in info.value.message


def test_error_about_an_unknown_field_is_bounded_in_size() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(json.dumps({**ACT, "k" * 50_000: 1}))
    assert len(info.value.message) < 200


def test_client_messages_are_refused_by_the_client_side_parser() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_server_message(json.dumps(ACT))
    assert info.value.code == ErrorCode.UNKNOWN_TYPE


def test_error_codes_are_unique_strings() -> None:
    values = [code.value for code in ErrorCode]
    assert len(values) == len(set(values))
    assert all(value == value.lower() and " " not in value for value in values)


def test_errors_about_huge_values_stay_small() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_client_message(json.dumps({"type": "match.result", "outcome": "x" * 60_000}))
    assert info.value.code == ErrorCode.OUT_OF_RANGE
    assert len(info.value.message) < 200
