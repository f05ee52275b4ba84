"""Every control message round-trips through the codec, for hand-written and random instances."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from gameai.protocol import (
    Act,
    Action,
    AgentSpec,
    BehaviourResult,
    BehaviourSpec,
    DialogueCancel,
    DialogueDelta,
    DialogueDone,
    DialogueRequest,
    Error,
    ErrorCode,
    Events,
    FrameFormat,
    Hello,
    Limits,
    MatchResult,
    ModelInfo,
    Ping,
    Pong,
    ProtocolError,
    Welcome,
    encode_message,
    parse_client_message,
    parse_server_message,
)
from gameai.protocol.messages import (
    CLIENT_MESSAGES,
    MAX_BATCH_ACTS,
    SERVER_MESSAGES,
    ActBatch,
    ActionBatch,
    ActionItem,
    ActItem,
    Label,
    Message,
    RecordingInfo,
    RecordRequest,
)
from gameai.testing.protocol_strategies import message_strategy

LIMITS = Limits(
    max_message_bytes=65536,
    max_frame_bytes=262144,
    max_fps=30.0,
    max_messages_per_s=100.0,
    max_inflight_requests=16,
    max_new_tokens=128,
    frame_queue=4,
    idle_timeout_s=60.0,
)

CLIENT_EXAMPLES: list[Message] = [
    Hello(protocol=1, game_id="arena"),
    Hello(
        protocol=1,
        game_id="arena",
        token="s3cret",
        services=("behaviour", "agents"),
        frames=FrameFormat(width=84, height=84, encoding="png"),
        behaviour_every=2,
        client="test/1",
        record=RecordRequest(player_id="p-1", consent=True),
    ),
    Events(events=("kill", "pickup_coin")),
    DialogueRequest(id="d1", npc_id="smith", persona="blacksmith"),
    DialogueRequest(
        id="d2",
        npc_id="smith",
        persona="a grumpy dwarf",
        player_line="Can you fix my sword?",
        mood="grumpy",
        behaviour="aggressive",
        events=("hurt",),
        game_state={"health": 3, "max_health": 10, "inventory": ["sword", {"gold": 2}], "boss": None},
        max_new_tokens=32,
        temperature=0.0,
        top_p=0.9,
        seed=7,
        stop=("\n", "Player:"),
        n=4,
    ),
    DialogueCancel(id="d2"),
    Act(id="a1", npc_id="rival", observation=(0.0, 1.5, -2.0)),
    Act(id="a2", npc_id="rival", observation=(1.0,), difficulty=0.25, agent="arena"),
    ActBatch(
        id="b1",
        acts=(
            ActItem(npc_id="rival", observation=(0.0, 1.5)),
            ActItem(npc_id="guard", observation=(1.0,), difficulty=0.25, agent="arena"),
        ),
    ),
    MatchResult(outcome="win"),
    MatchResult(outcome="loss", id="m1", npc_id="rival", player_score=3, npc_score=5.5, duration_s=61.2),
    Label(label="explorer"),
    Label(id="l1"),
    Ping(),
    Ping(id="p1", t=12.5),
]

SERVER_EXAMPLES: list[Message] = [
    Welcome(
        protocol=1,
        session_id="abc",
        server="gameai/0.1.0",
        services=("behaviour", "dialogue", "agents"),
        models={
            "behaviour": ModelInfo(service="behaviour", status="ready", name="behaviour", version="1234"),
            "dialogue": ModelInfo(service="dialogue", status="unavailable", reason="file not found"),
        },
        behaviour=BehaviourSpec(
            width=84, height=84, channels=3, frames_per_window=4, sample_fps=5.0, classes=("a", "b")
        ),
        agents={"arena": AgentSpec(obs_dim=3, action_nvec=(9, 4, 2), difficulty_input=True)},
        default_agent="arena",
        difficulty=0.5,
        limits=LIMITS,
        recording=RecordingInfo(recorded=False, reason="recording is off on this server"),
    ),
    BehaviourResult(
        seq=9,
        timestamp=1.5,
        label="a",
        probabilities={"a": 0.75, "b": 0.25},
        confidence=0.75,
        latency_ms=3.2,
        dropped_frames=1,
    ),
    DialogueDelta(id="d1", index=0, text="Hm."),
    DialogueDelta(id="d1", index=3, text="Hm.", alternative=1),
    DialogueDone(
        id="d1",
        text="Hm.",
        tokens=2,
        finish_reason="stop",
        first_token_ms=5.0,
        duration_ms=9.0,
        tokens_per_s=200.0,
    ),
    DialogueDone(
        id="d1",
        text="",
        tokens=0,
        finish_reason="cancelled",
        duration_ms=1.0,
        tokens_per_s=0.0,
        alternative=3,
    ),
    Action(id="a1", npc_id="rival", agent="arena", action=(3, 0, 1), difficulty=0.5, latency_ms=1.2),
    ActionBatch(
        id="b1",
        actions=(
            ActionItem(npc_id="rival", agent="arena", action=(3, 0, 1), difficulty=0.5),
            ActionItem(npc_id="guard", agent="car", action=(0.25, -1.0), difficulty=1.0),
        ),
        latency_ms=0.8,
    ),
    Error(code=ErrorCode.BAD_JSON, message="invalid JSON"),
    Error(code=ErrorCode.BAD_TOKEN, message="missing", id="x", seq=3, fatal=True),
    Pong(id="p1", t=12.5, server_time=1700000000.0),
]


def test_examples_cover_every_message_type() -> None:
    assert {m.TYPE for m in CLIENT_EXAMPLES} == set(CLIENT_MESSAGES)
    assert {m.TYPE for m in SERVER_EXAMPLES} == set(SERVER_MESSAGES)


@pytest.mark.parametrize("message", CLIENT_EXAMPLES, ids=lambda m: m.TYPE)
def test_client_message_round_trips(message: Message) -> None:
    text = encode_message(message)
    assert json.loads(text)["type"] == message.TYPE
    assert parse_client_message(text) == message
    assert parse_client_message(text.encode()) == message


@pytest.mark.parametrize("message", SERVER_EXAMPLES, ids=lambda m: m.TYPE)
def test_server_message_round_trips(message: Message) -> None:
    assert parse_server_message(encode_message(message)) == message


def test_encoding_leaves_out_absent_optional_fields() -> None:
    assert json.loads(encode_message(Ping())) == {"type": "ping"}
    assert json.loads(encode_message(MatchResult(outcome="draw"))) == {
        "type": "match.result",
        "outcome": "draw",
    }


def test_defaults_apply_when_fields_are_absent() -> None:
    hello = parse_client_message('{"type": "hello", "protocol": 1, "game_id": "g"}')
    assert isinstance(hello, Hello)
    assert hello.services == ("behaviour", "dialogue", "agents")
    assert hello.behaviour_every == 1
    assert hello.frames is None


def test_one_reply_by_default_and_no_alternative_field_for_it() -> None:
    request = parse_client_message('{"type": "dialogue.request", "id": "d", "npc_id": "n", "persona": "p"}')
    assert isinstance(request, DialogueRequest) and request.n == 1
    assert "alternative" not in json.loads(encode_message(DialogueDelta(id="d", index=0, text="x")))
    assert (
        json.loads(encode_message(DialogueDelta(id="d", index=0, text="x", alternative=2)))["alternative"]
        == 2
    )


def test_integral_floats_are_accepted_for_integer_fields() -> None:
    hello = parse_client_message('{"type": "hello", "protocol": 1.0, "game_id": "g"}')
    assert isinstance(hello, Hello) and hello.protocol == 1 and isinstance(hello.protocol, int)


def test_integers_are_accepted_for_float_fields() -> None:
    act = parse_client_message(
        '{"type": "act", "id": "a", "npc_id": "n", "observation": [1, 2], "difficulty": 1}'
    )
    assert isinstance(act, Act)
    assert act.observation == (1.0, 2.0) and all(isinstance(x, float) for x in act.observation)


@settings(max_examples=150, deadline=None)
@given(message_strategy(CLIENT_MESSAGES.values()))
def test_random_client_messages_round_trip(message: Message) -> None:
    assert parse_client_message(encode_message(message)) == message


@settings(max_examples=150, deadline=None)
@given(message_strategy(SERVER_MESSAGES.values()))
def test_random_server_messages_round_trip(message: Message) -> None:
    assert parse_server_message(encode_message(message)) == message


def test_an_act_batch_holds_one_to_max_batch_acts_each_checked_like_an_act() -> None:
    def batch(acts: list[dict[str, object]]) -> str:
        return json.dumps({"type": "act.batch", "id": "b", "acts": acts})

    item = {"npc_id": "n", "observation": [0.5, 1]}
    parsed = parse_client_message(batch([item] * MAX_BATCH_ACTS))
    assert isinstance(parsed, ActBatch) and len(parsed.acts) == MAX_BATCH_ACTS
    assert parsed.acts[0] == ActItem(npc_id="n", observation=(0.5, 1.0))
    for acts, code, where in (
        ([], ErrorCode.OUT_OF_RANGE, "act.batch.acts"),
        ([item] * (MAX_BATCH_ACTS + 1), ErrorCode.OUT_OF_RANGE, "act.batch.acts"),
        (
            [item, {"npc_id": "n", "observation": [1, "x"]}],
            ErrorCode.WRONG_TYPE,
            "act.batch.acts[1].observation[1]",
        ),
        (
            [item, {"npc_id": "n", "observation": [1], "difficulty": 2}],
            ErrorCode.OUT_OF_RANGE,
            "acts[1].difficulty",
        ),
        ([{"observation": [1]}], ErrorCode.MISSING_FIELD, "acts[0]"),
    ):
        with pytest.raises(ProtocolError) as refused:
            parse_client_message(batch(acts))
        assert refused.value.code == code and where in refused.value.message
