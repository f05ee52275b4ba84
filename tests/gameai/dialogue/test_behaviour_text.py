"""What an NPC may say about the player's behaviour: the game's sentences, else a generic one."""

import json
from pathlib import Path

import pytest

from gameai.dialogue.behaviour_text import (
    BehaviourTextError,
    behaviour_text,
    generic_behaviour_text,
    load_behaviour_texts,
)
from gameai.dialogue.npc_card import CardFileError, load_npc_cards

ASSETS = Path(__file__).resolve().parents[3] / "assets"


def test_a_described_label_gets_its_sentence_any_other_the_generic_one() -> None:
    texts = {"stomper": "You jump on every goblin you meet."}
    assert behaviour_text("stomper", texts) == "You jump on every goblin you meet."
    assert behaviour_text("bot_like", texts) == generic_behaviour_text("bot_like")
    assert generic_behaviour_text("bot_like") == "I'd call your play style bot-like."
    assert behaviour_text(None, texts) is None and behaviour_text("", texts) is None


def test_behaviours_load_beside_the_cards_from_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "npcs.toml"
    toml.write_text('[npcs.a]\nname = "A"\n\n[behaviours]\nsniper = "You   pick them off\\nfrom afar."\n')
    assert load_behaviour_texts(toml) == {"sniper": "You pick them off from afar."}
    assert list(load_npc_cards(toml)) == ["a"]  # the cards' loader ignores the table
    plain = tmp_path / "npcs.json"
    plain.write_text(json.dumps({"npcs": {"a": {"name": "A"}}}))
    assert load_behaviour_texts(plain) == {}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('behaviours = "x"', "expected a table of behaviour label -> sentence"),
        ('[behaviours]\n"two words" = "x"', "must be 1-64 letters"),
        ("[behaviours]\nsniper = 3", "sniper: expected a non-empty sentence"),
        ('[behaviours]\nsniper = "   "', "sniper: expected a non-empty sentence"),
        (f'[behaviours]\nsniper = "{"a" * 161}"', "161 characters, at most 160"),
        ('[behaviours]\nsniper = "You <|end|> win."', "reserved for prompt markers"),
    ],
)
def test_a_bad_behaviours_table_is_one_card_file_error_naming_the_entry(
    tmp_path: Path, table: str, message: str
) -> None:
    path = tmp_path / "npcs.toml"
    path.write_text(table + "\n")
    with pytest.raises(BehaviourTextError, match=message) as raised:
        load_behaviour_texts(path)
    assert isinstance(raised.value, CardFileError) and str(path) in str(raised.value)


def test_the_shipped_games_describe_every_class_of_their_behaviour_models() -> None:
    games = (("dialogue/npcs.toml", "behaviour"), ("platformer/npcs.toml", "platformer/behaviour"))
    for npcs, model in games:
        classes = json.loads((ASSETS / model / "config.json").read_text())["config"]["class_names"]
        assert sorted(load_behaviour_texts(ASSETS / npcs)) == sorted(classes), npcs
