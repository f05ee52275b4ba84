"""NPC cards: card files, validation, and choosing what a card knows that a line asks about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameai.dialogue.npc_card import (
    MAX_STATE_SENTENCES,
    CardFileError,
    card_from_persona,
    keywords,
    knowledge,
    load_npc_cards,
    parse_card,
    relevant_knowledge,
    state_sentences,
)
from gameai.paths import PROJECT_ROOT
from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.messages import NpcCard

FACTS = [
    "The old mine is east of the village.",
    "My sword costs 90 gold.",
    "The dragon's lair is in the northern mountains.",
    "A new shield costs 40 gold.",
    "The healer lives by the river.",
    "I repair shields for 10 gold.",
]


def test_relevant_knowledge_picks_the_fact_a_question_is_about() -> None:
    assert relevant_knowledge("How much for a new shield?", FACTS)[0] == "A new shield costs 40 gold."
    assert relevant_knowledge("Where can I find the dragon's lair?", FACTS)[0] == (
        "The dragon's lair is in the northern mountains."
    )


def test_relevant_knowledge_shows_nothing_when_nothing_matches() -> None:
    assert relevant_knowledge("Hello there!", FACTS) == []  # nothing shared: no facts, the NPC does not know
    assert relevant_knowledge("shield", FACTS, k=1) == ["A new shield costs 40 gold."]
    assert relevant_knowledge("anything", []) == []


def test_keywords_drop_stop_words_fold_synonyms_and_plurals() -> None:
    assert keywords("How much for a new shield?") == ["cost", "new", "shield"]
    assert keywords("Where can I find the dragon's lair?") == ["find", "dragon", "lair"]
    assert keywords("Any quests? What are the prices?") == ["work", "cost"]
    assert keywords("the boss") == ["boss"]  # a double s is no plural


def test_state_sentences_say_the_game_state_to_the_player() -> None:
    state = {"score": 12, "health": 30, "max_health": 100, "alive": True, "speed": 1.5,
             "inventory": ["sword"], "note": "  ", "time_left_s": 41}  # fmt: skip
    assert state_sentences(state) == [
        "your score is 12.",
        "your health is 30 of 100.",
        "your alive is yes.",
        "your speed is 1.5.",
        "your time left s is 41.",
    ]
    many = {f"k{i}": i for i in range(40)}
    assert len(state_sentences(many)) == MAX_STATE_SENTENCES


def test_knowledge_is_facts_description_goals_then_state_without_duplicates() -> None:
    card = NpcCard(
        name="Brann",
        description="Brann runs the forge. A new shield costs 40 gold.",
        facts=("A new shield costs 40 gold", "The mine is east."),
        goals=("Find a new apprentice",),
    )
    assert knowledge(card, {"coins": 7}) == [
        "A new shield costs 40 gold.",
        "The mine is east.",
        "Brann runs the forge.",
        "I want to find a new apprentice.",
        "your coins is 7.",
    ]


def test_parse_card_validates_like_the_protocol() -> None:
    card = parse_card({"name": "Ada", "traits": ["calm"], "facts": ["The ferry leaves at dawn."]})
    assert card == NpcCard(name="Ada", traits=("calm",), facts=("The ferry leaves at dawn.",))
    with pytest.raises(ProtocolError) as too_long:
        parse_card({"name": "Ada", "facts": ["x" * 201]})
    assert too_long.value.code == ErrorCode.OUT_OF_RANGE and "npc.facts[0]" in too_long.value.message
    with pytest.raises(ProtocolError) as nameless:
        parse_card({"role": "ferry keeper"})
    assert nameless.value.code == ErrorCode.MISSING_FIELD
    with pytest.raises(ProtocolError) as unknown:
        parse_card({"name": "Ada", "lore": "old"})
    assert unknown.value.code == ErrorCode.UNKNOWN_FIELD


def test_card_from_persona_is_a_nameless_card_described_by_the_text() -> None:
    card = card_from_persona("  a tired\n ferryman ")
    assert card.name == "" and card.description == "a tired ferryman"


def test_card_files_load_from_toml_and_json_in_file_order(tmp_path: Path) -> None:
    toml = tmp_path / "npcs.toml"
    toml.write_text(
        '[npcs.zed]\nname = "Zed"\n\n[npcs.ada]\nname = "Ada"\nfacts = ["The ferry leaves at dawn."]\n'
    )
    cards = load_npc_cards(toml)
    assert list(cards) == ["zed", "ada"] and cards["ada"].facts == ("The ferry leaves at dawn.",)
    as_json = tmp_path / "npcs.json"
    as_json.write_text(json.dumps({"npcs": {"ada": {"name": "Ada", "traits": ["calm"]}}}))
    assert load_npc_cards(as_json) == {"ada": NpcCard(name="Ada", traits=("calm",))}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("missing.toml", None, "cannot read NPC cards"),
        ("broken.toml", "[npcs.ada\nname = 1", "is not valid toml"),
        ("broken.json", "{", "is not valid json"),
        ("flat.toml", 'name = "Ada"\n', "expected a table 'npcs'"),
        ("bad.toml", '[npcs.ada]\nname = "Ada"\nfacts = ["' + "x" * 201 + '"]\n', "npcs.ada.facts[0]"),
        ("long-id.toml", f'[npcs.{"a" * 65}]\nname = "A"\n', "must be 1-64 characters"),
    ],
)
def test_a_bad_card_file_is_one_error_saying_what_and_where(
    tmp_path: Path, name: str, text: str | None, message: str
) -> None:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(CardFileError) as failed:
        load_npc_cards(path)
    assert message in str(failed.value) and str(path) in str(failed.value)
    assert "\n" not in str(failed.value)


def test_the_shipped_cards_are_the_demo_npcs_in_the_voices_the_model_learned() -> None:
    cards = load_npc_cards(PROJECT_ROOT / "assets" / "dialogue" / "npcs.toml")
    voices = {card_id: (card.name, card.speech, card.mood) for card_id, card in cards.items()}
    assert voices == {
        "blacksmith": ("Brann", "short, gruff sentences", "grumpy"),
        "scout": ("Kestrel", "calm and measured", "calm"),
        "healer": ("Mira", "warm and cheerful", "cheerful"),
        "rival": ("Vex", "smug and boastful", "smug"),
    }
    for card in cards.values():
        assert card.role and card.description and 2 <= len(card.traits) <= 4 and 1 <= len(card.goals) <= 2
        assert 4 <= len(card.facts) <= 8
        assert all(fact.endswith(".") and len(fact) <= 100 for fact in card.facts)
