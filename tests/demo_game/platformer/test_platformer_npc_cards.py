"""The platformer's NPC cards (assets/platformer/npcs.toml): its friendly NPCs, facts true of its rules."""

from __future__ import annotations

from demo_game.platformer.sim.level import FRIENDLY_NPCS
from demo_game.platformer.sim.rules import PlatformerRules
from gameai.dialogue.npc_card import load_npc_cards
from gameai.paths import PROJECT_ROOT

CARDS = PROJECT_ROOT / "assets" / "platformer" / "npcs.toml"


def test_every_friendly_npc_of_the_level_has_its_card() -> None:
    cards = load_npc_cards(CARDS)
    assert {card_id: (card.name, card.role) for card_id, card in cards.items()} == {
        card_id: (name, role) for card_id, name, role in FRIENDLY_NPCS
    }


def test_the_cards_numbers_are_the_games_rules() -> None:
    rules = PlatformerRules()
    facts = " ".join(fact for card in load_npc_cards(CARDS).values() for fact in card.facts)
    seconds = rules.level_ticks / rules.tick_rate
    assert "two and a half minutes" in facts and seconds == 150
    assert f"{['zero', 'one', 'two', 'three', 'four'][rules.player_hearts]} hits" in facts
    assert f"Every gem is worth {rules.score_gem} points" in facts
    assert f"worth {rules.score_win} points, and {rules.score_per_second_left} more" in facts
    assert f"for {rules.score_stomp} points" in facts
    assert rules.goblin_speed < rules.player_speed and "Goblins are slower than you" in facts
    assert rules.goblin_respawn_ticks / rules.tick_rate == 5 and "about five seconds later" in facts
    assert rules.invulnerable_ticks / rules.tick_rate == 1.5 and "a second and a half" in facts
