"""The dialogue service's NPC cards: which file ``--npcs`` names, and what a bad one does."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gameai.dialogue.npc_card import CardFileError
from gameai.protocol.messages import Hello, NpcCard
from gameai.runtime.config import RuntimeConfig
from gameai.services import game_models
from gameai.services.builtin import load_services
from gameai.services.dialogue import DialogueService


def test_the_default_card_file_is_the_demos_and_is_skipped_when_absent(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shipped = DialogueService.load_cards(RuntimeConfig())
    assert tuple(shipped) == ("blacksmith", "scout", "healer", "rival")
    assert DialogueService.load_cards(RuntimeConfig(npcs="")) == {}
    monkeypatch.setattr(game_models, "resolve_path", lambda path: tmp_path / "absent")
    assert DialogueService.load_cards(RuntimeConfig()) == {}  # a stripped install: no cards, no error
    with pytest.raises(CardFileError, match="cannot read NPC cards"):  # any other path must exist
        DialogueService.load_cards(RuntimeConfig(npcs=str(tmp_path / "mine.toml")))


def test_welcome_npcs_are_the_services_card_ids() -> None:
    service = DialogueService.load(
        RuntimeConfig(dialogue_model=""),
        device=torch.device("cpu"),
        metrics=None,
        cards={"ada": NpcCard(name="Ada")},
    )
    assert service.welcome_fields(Hello(protocol=1, game_id="g")) == {"npcs": ("ada",)}
    assert service.info.status == "unavailable"  # the cards do not need the model


def test_a_bad_card_file_stops_loading_the_services(tmp_path: Path) -> None:
    path = tmp_path / "npcs.toml"
    path.write_text("[npcs.ada\n")
    config = RuntimeConfig(behaviour_model="", dialogue_model="", agents_dir="", device="cpu", npcs=str(path))
    with pytest.raises(CardFileError, match="is not valid toml"):
        load_services(config)


def test_each_games_behaviour_sentences_come_from_its_card_file(tmp_path: Path) -> None:
    arena = DialogueService.load_behaviour_texts(game_models.served_games(RuntimeConfig()))
    assert arena[None]["aggressive"] == "You charge at every enemy you see."
    assert arena["platformer"]["stomper"] == "You jump on every goblin you meet."
    service = DialogueService(
        DialogueService.load(RuntimeConfig(dialogue_model=""), torch.device("cpu"), None).info,
        cards={"a": NpcCard(name="A")},
        game_cards={"platformer": {"b": NpcCard(name="B")}},
        behaviour_texts=arena,
    )
    assert service.behaviour_texts_of("platformer")["stomper"].startswith("You jump")
    assert "stomper" not in service.behaviour_texts_of("another-game")  # the default set's
    loaded = DialogueService.load(RuntimeConfig(dialogue_model=""), torch.device("cpu"), None)
    assert loaded.behaviour_texts_of("any")["bot_like"] == "You move with a machine's perfect regularity."
    bad = tmp_path / "npcs.toml"
    bad.write_text('[npcs.ada]\nname = "Ada"\n[behaviours]\nsniper = ""\n')
    config = RuntimeConfig(behaviour_model="", dialogue_model="", agents_dir="", device="cpu", npcs=str(bad))
    with pytest.raises(CardFileError, match="sniper: expected a non-empty sentence"):
        load_services(config)
