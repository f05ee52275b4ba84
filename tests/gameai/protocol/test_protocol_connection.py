"""The server-side state machine, driven with no sockets and an explicit clock."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gameai.protocol import (
    CloseCode,
    Error,
    ErrorCode,
    Frame,
    Hello,
    Limits,
    ServerProtocol,
    SessionLimits,
    SessionState,
    Welcome,
    encode_frame,
)

HELLO = json.dumps({"type": "hello", "protocol": 1, "game_id": "g"})
PING = json.dumps({"type": "ping", "id": "p"})
WELCOME = Welcome(
    protocol=1,
    session_id="s",
    server="test",
    services=("behaviour",),
    models={},
    agents={},
    difficulty=0.5,
    limits=Limits(
        max_message_bytes=1000,
        max_frame_bytes=1000,
        max_fps=10,
        max_messages_per_s=10,
        max_inflight_requests=4,
        max_new_tokens=10,
        frame_queue=4,
        idle_timeout_s=10,
    ),
)


def _frame(seq: int = 0, size: int = 4) -> bytes:
    return encode_frame(np.zeros((size, size, 3), dtype=np.uint8), seq=seq, timestamp=0.0)


DEFAULT_LIMITS = SessionLimits()


def _open(limits: SessionLimits = DEFAULT_LIMITS, expected: tuple[int, int] | None = None) -> ServerProtocol:
    protocol = ServerProtocol(limits, now=0.0)
    assert isinstance(protocol.receive_text(HELLO, 0.0), Hello)
    assert protocol.state is SessionState.HELLO_RECEIVED
    protocol.accept(WELCOME, expected)
    assert protocol.messages_to_send() == [WELCOME]
    assert protocol.state is SessionState.OPEN
    return protocol


def _errors(protocol: ServerProtocol) -> list[Error]:
    return [m for m in protocol.messages_to_send() if isinstance(m, Error)]


def test_hello_then_welcome_opens_the_session() -> None:
    protocol = _open()
    assert protocol.close is None
    assert protocol.receive_text(PING, 0.1) is not None


@pytest.mark.parametrize(
    "first",
    [PING, '{"type": "act"}', "not json", '{"type":"hello","protocol":1}'],
    ids=["ping", "malformed act", "garbage", "hello missing game_id"],
)
def test_nothing_but_a_valid_hello_before_welcome(first: str) -> None:
    protocol = ServerProtocol(SessionLimits(), now=0.0)
    assert protocol.receive_text(first, 0.0) is None
    [error] = _errors(protocol)
    assert error.code == ErrorCode.BAD_HELLO and error.fatal
    assert protocol.close is not None and protocol.close.code == CloseCode.BAD_HELLO
    assert protocol.state is SessionState.CLOSED


def test_binary_before_hello_is_fatal() -> None:
    protocol = ServerProtocol(SessionLimits(), now=0.0)
    assert protocol.receive_binary(_frame(), 0.0) is None
    assert protocol.close is not None and protocol.close.code == CloseCode.BAD_HELLO


def test_unsupported_version_closes_with_bad_version() -> None:
    protocol = ServerProtocol(SessionLimits(), now=0.0)
    assert protocol.receive_text(json.dumps({"type": "hello", "protocol": 2, "game_id": "g"}), 0.0) is None
    [error] = _errors(protocol)
    assert error.code == ErrorCode.BAD_VERSION
    assert protocol.close is not None and protocol.close.code == CloseCode.BAD_VERSION == 4000


def test_a_service_the_server_does_not_offer_is_a_bad_hello() -> None:
    hello = json.dumps({"type": "hello", "protocol": 1, "game_id": "g", "services": ["dialogue", "x"]})
    protocol = ServerProtocol(SessionLimits(), now=0.0)
    assert protocol.receive_text(hello, 0.0) is None
    [error] = _errors(protocol)
    assert error.code == ErrorCode.BAD_HELLO and "unknown service 'x'" in error.message
    assert "behaviour, dialogue, agents" in error.message  # what it offers
    offering_x = ServerProtocol(SessionLimits(), now=0.0, services=("dialogue", "x"))
    accepted = offering_x.receive_text(hello, 0.0)
    assert isinstance(accepted, Hello) and accepted.services == ("dialogue", "x")


def test_server_can_refuse_the_hello() -> None:
    protocol = ServerProtocol(SessionLimits(), now=0.0)
    protocol.receive_text(HELLO, 0.0)
    protocol.fail(ErrorCode.BAD_TOKEN, "missing or wrong token")
    [error] = _errors(protocol)
    assert error.fatal and error.code == ErrorCode.BAD_TOKEN
    assert protocol.close is not None and protocol.close.code == CloseCode.BAD_TOKEN
    assert protocol.receive_text(PING, 0.0) is None  # closed: input ignored


def test_feeding_input_before_deciding_on_the_hello_is_a_bug() -> None:
    protocol = ServerProtocol(SessionLimits(), now=0.0)
    protocol.receive_text(HELLO, 0.0)
    with pytest.raises(RuntimeError):
        protocol.receive_text(PING, 0.0)


def test_fail_refuses_non_fatal_codes() -> None:
    with pytest.raises(ValueError):
        ServerProtocol(SessionLimits(), now=0.0).fail(ErrorCode.BAD_JSON, "x")


def test_second_hello_is_an_unexpected_message() -> None:
    protocol = _open()
    assert protocol.receive_text(HELLO, 0.0) is None
    [error] = _errors(protocol)
    assert error.code == ErrorCode.UNEXPECTED_MESSAGE and not error.fatal
    assert protocol.close is None


def test_malformed_messages_get_errors_then_a_cut_off() -> None:
    protocol = _open(SessionLimits(max_errors=5))
    for _ in range(4):
        assert protocol.receive_text("garbage", 0.0) is None
        [error] = _errors(protocol)
        assert error.code == ErrorCode.BAD_JSON and not error.fatal
    protocol.receive_text("garbage", 0.0)
    [error] = _errors(protocol)
    assert error.code == ErrorCode.TOO_MANY_ERRORS and error.fatal
    assert protocol.close is not None and protocol.close.code == CloseCode.TOO_MANY_ERRORS


def test_occasional_errors_drain_and_never_cut_off() -> None:
    protocol = _open(SessionLimits(max_errors=5))
    for i in range(50):
        protocol.receive_text("garbage", i * 2.0)  # one every two seconds; drains at 1/s
    assert protocol.close is None


def test_oversize_text_message() -> None:
    protocol = _open(SessionLimits(max_message_bytes=100))
    assert protocol.receive_text(json.dumps({"type": "ping", "id": "x" * 200}), 0.0) is None
    [error] = _errors(protocol)
    assert error.code == ErrorCode.MESSAGE_TOO_LARGE
    assert protocol.close is None


def test_oversize_counts_utf8_bytes_not_characters() -> None:
    protocol = _open(SessionLimits(max_message_bytes=100))
    assert (
        protocol.receive_text(json.dumps({"type": "ping", "id": "é" * 40}, ensure_ascii=False), 0.0) is None
    )
    assert _errors(protocol)[0].code == ErrorCode.MESSAGE_TOO_LARGE


def test_frames_parse_and_check_the_expected_size() -> None:
    protocol = _open(expected=(4, 4))
    frame = protocol.receive_binary(_frame(seq=3), 0.0)
    assert isinstance(frame, Frame) and frame.seq == 3
    assert protocol.receive_binary(_frame(seq=4, size=8), 0.0) is None
    [error] = _errors(protocol)
    assert error.code == ErrorCode.WRONG_FRAME_SIZE and error.seq == 4


def test_repeated_frame_errors_are_throttled() -> None:
    protocol = _open(SessionLimits(max_errors=1000))
    for i in range(10):
        protocol.receive_binary(b"junk", i * 0.01)
    assert len(_errors(protocol)) == 1
    protocol.receive_binary(b"junk", 2.0)
    assert len(_errors(protocol)) == 1
    assert protocol.stats.errors[ErrorCode.FRAME_TRUNCATED] == 11


def test_frames_over_the_rate_are_dropped_with_one_error() -> None:
    protocol = _open(SessionLimits(max_fps=10))
    accepted = sum(protocol.receive_binary(_frame(seq=i), 0.0) is not None for i in range(15))
    assert accepted == 10  # one second's burst
    errors = _errors(protocol)
    assert [e.code for e in errors] == [ErrorCode.RATE_LIMITED]
    assert protocol.stats.frames_rate_limited == 5
    assert protocol.close is None


def test_steady_frames_at_the_limit_are_all_accepted() -> None:
    protocol = _open(SessionLimits(max_fps=10))
    accepted = sum(protocol.receive_binary(_frame(seq=i), i * 0.1) is not None for i in range(200))
    assert accepted == 200
    assert protocol.close is None


def test_sustained_flood_is_cut_off() -> None:
    protocol = _open(SessionLimits(max_fps=10, flood_tolerance_s=2.0))
    step = 0
    while protocol.close is None and step < 10_000:
        protocol.receive_binary(_frame(seq=step), step * 0.02)  # 50 fps against a limit of 10
        step += 1
    assert protocol.close is not None and protocol.close.code == CloseCode.FLOODING
    assert 30 < step < 200  # after about (2 s x 10 fps) / (40 excess/s) ~ half a second of flood
    assert _errors(protocol)[-1].code == ErrorCode.FLOODING


def test_twice_the_rate_is_throttled_but_not_cut_off() -> None:
    protocol = _open(SessionLimits(max_fps=10, flood_tolerance_s=2.0))
    for step in range(400):
        protocol.receive_binary(_frame(seq=step), step * 0.05)  # 20 fps for 20 s
    assert protocol.close is None


def test_control_message_rate_limit() -> None:
    protocol = _open(SessionLimits(max_messages_per_s=5))
    accepted = sum(protocol.receive_text(PING, 0.0) is not None for _ in range(8))
    assert accepted == 5
    assert _errors(protocol)[0].code == ErrorCode.RATE_LIMITED


def test_every_request_over_the_rate_gets_an_error_with_its_id() -> None:
    protocol = _open(SessionLimits(max_messages_per_s=5, flood_tolerance_s=10.0))
    acts = [
        json.dumps({"type": "act", "id": f"a{i}", "npc_id": "n", "observation": [0.0]}) for i in range(12)
    ]
    accepted = [protocol.receive_text(act, 0.0) is not None for act in acts]
    assert accepted == [True] * 5 + [False] * 7
    errors = _errors(protocol)
    assert [(e.code, e.id) for e in errors] == [(ErrorCode.RATE_LIMITED, f"a{i}") for i in range(5, 12)]
    for _ in range(3):  # messages without an id: one throttled notice
        protocol.receive_text('{"type": "events", "events": ["x"]}', 0.0)
    assert [(e.code, e.id) for e in _errors(protocol)] == [(ErrorCode.RATE_LIMITED, None)]


def test_close_reason_fits_a_close_frame() -> None:
    protocol = ServerProtocol(SessionLimits(), now=0.0)
    protocol.receive_text(HELLO, 0.0)
    protocol.fail(ErrorCode.BAD_TOKEN, "é" * 200)
    assert protocol.close is not None
    assert len(protocol.close.reason.encode()) <= 123
