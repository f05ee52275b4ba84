"""``dialogue.request.npc`` (an NPC card) and ``welcome.npcs``: parsing, limits, schema."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gameai.protocol import (
    DialogueRequest,
    ErrorCode,
    Limits,
    ProtocolError,
    Welcome,
    encode_message,
    parse_client_message,
    parse_server_message,
)
from gameai.protocol.messages import MAX_NPC_DESCRIPTION, MAX_NPC_FACTS, NpcCard
from gameai.protocol.schema import build_schema

CARD: dict[str, Any] = {
    "name": "Ada",
    "role": "ferry keeper",
    "description": "Ada has kept the river ferry for thirty years.",
    "traits": ["patient", "dry"],
    "speech": "calm and measured",
    "facts": ["The ferry leaves at dawn.", "A crossing costs 2 coins."],
    "goals": ["find a new rope for the ferry"],
    "mood": "calm",
}


def _request(**fields: Any) -> str:
    return json.dumps({"type": "dialogue.request", "id": "d-1", "npc_id": "ferry-1", **fields})


def test_a_request_may_name_only_its_npc_id_or_carry_a_card() -> None:
    bare = parse_client_message(_request())
    assert isinstance(bare, DialogueRequest) and bare.persona is None and bare.npc is None
    with_card = parse_client_message(_request(npc=CARD))
    assert isinstance(with_card, DialogueRequest)
    assert with_card.npc == NpcCard(
        name="Ada", role="ferry keeper", description=CARD["description"], traits=("patient", "dry"),
        speech="calm and measured", facts=tuple(CARD["facts"]), goals=tuple(CARD["goals"]), mood="calm",
    )  # fmt: skip
    assert parse_client_message(encode_message(with_card)) == with_card  # round trip


@pytest.mark.parametrize(
    ("card", "code", "where"),
    [
        ({**CARD, "description": "x" * (MAX_NPC_DESCRIPTION + 1)}, ErrorCode.OUT_OF_RANGE, "npc.description"),
        ({**CARD, "facts": ["A fact."] * (MAX_NPC_FACTS + 1)}, ErrorCode.OUT_OF_RANGE, "npc.facts"),
        ({**CARD, "facts": ["x" * 201]}, ErrorCode.OUT_OF_RANGE, "npc.facts[0]"),
        ({**CARD, "facts": [""]}, ErrorCode.OUT_OF_RANGE, "npc.facts[0]"),
        ({**CARD, "traits": ["kind"] * 13}, ErrorCode.OUT_OF_RANGE, "npc.traits"),
        ({**CARD, "name": ""}, ErrorCode.OUT_OF_RANGE, "npc.name"),
        ({**CARD, "facts": "The ferry leaves at dawn."}, ErrorCode.WRONG_TYPE, "npc.facts"),
        ({**CARD, "lore": "old"}, ErrorCode.UNKNOWN_FIELD, "npc"),
        ({"role": "ferry keeper"}, ErrorCode.MISSING_FIELD, "npc"),
        ("Ada", ErrorCode.WRONG_TYPE, "npc"),
    ],
    ids=[
        "long-description",
        "65-facts",
        "long-fact",
        "empty-fact",
        "13-traits",
        "empty-name",
        "facts-not-array",
        "unknown-field",
        "no-name",
        "not-an-object",
    ],
)
def test_a_card_outside_its_limits_is_a_typed_error_for_that_request(
    card: Any, code: ErrorCode, where: str
) -> None:
    with pytest.raises(ProtocolError) as refused:
        parse_client_message(_request(npc=card))
    assert refused.value.code == code and not refused.value.fatal
    assert refused.value.request_id == "d-1"
    assert f"dialogue.request.{where}" in refused.value.message


def test_welcome_lists_the_servers_card_ids() -> None:
    limits = Limits(
        max_message_bytes=65536, max_frame_bytes=262144, max_fps=30.0, max_messages_per_s=100.0,
        max_inflight_requests=16, max_new_tokens=128, frame_queue=4, idle_timeout_s=60.0,
    )  # fmt: skip
    fields: dict[str, Any] = dict(
        protocol=1, session_id="s", server="gameai/test", services=("dialogue",), models={}, agents={},
        difficulty=0.5, limits=limits,
    )  # fmt: skip
    welcome = Welcome(**fields, npcs=("blacksmith", "healer"))
    assert json.loads(encode_message(welcome))["npcs"] == ["blacksmith", "healer"]
    assert parse_server_message(encode_message(welcome)) == welcome
    assert Welcome(**fields).npcs == ()


def test_the_schema_states_the_card_limits() -> None:
    defs = build_schema()["$defs"]
    card = defs["NpcCard"]
    assert card["required"] == ["name"]
    assert card["properties"]["description"]["maxLength"] == MAX_NPC_DESCRIPTION == 1000
    assert card["properties"]["facts"]["maxItems"] == MAX_NPC_FACTS == 64
    assert card["properties"]["facts"]["items"]["maxLength"] == 200
    request = defs["DialogueRequest"]
    assert "persona" not in request["required"] and "npc" in request["properties"]
    assert defs["Welcome"]["properties"]["npcs"]["items"] == {"type": "string"}
