"""The demo's link to the service: what its dialogue requests carry (no service needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from demo_game.app import FRIENDLY_NPCS
from demo_game.game import ArenaGame
from demo_game.service_link import ServiceLink
from demo_game.sim import ActorField, ArenaField
from gameai.client.pygame_plugin import DialogueLine
from gameai.dialogue.npc_card import relevant_knowledge, state_sentences
from gameai.paths import PROJECT_ROOT


def test_the_game_state_has_the_players_numbers_an_npc_can_answer_from() -> None:
    game = ArenaGame(seed=0)
    game.sim.state.arena[0, ArenaField.PICKUPS_COIN] = 3
    game.sim.state.arena[0, ArenaField.SCORE] = 30
    game.sim.state.actors[0, 0, ActorField.HEALTH] = 65
    state = ServiceLink.game_state(game)
    assert state == {"score": 30, "health": 65, "max_health": 100, "coins": 3, "health_packs": 0,
                     "enemies_left": 2, "seconds_left": 60}  # fmt: skip
    sentences = state_sentences(state)
    assert relevant_knowledge("What's my score?", sentences, k=1) == ["your score is 30."]
    assert relevant_knowledge("How many coins have I got?", sentences, k=1) == ["your coins is 3."]
    assert "your health is 65 of 100." in sentences


@dataclass
class _Welcome:
    npcs: tuple[str, ...]
    services: tuple[str, ...] = ("dialogue",)
    models: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Client:
    welcome: _Welcome


@dataclass
class _Plugin:
    """Records what the link asks the pygame plugin to say."""

    welcome: _Welcome
    connected: bool = True
    said: list[tuple[Any, ...]] = field(default_factory=list)
    frames_captured: int = 0
    errors: list[Any] = field(default_factory=list)

    @property
    def client(self) -> _Client:
        return _Client(self.welcome)

    def say(self, npc_id: str, persona: str | None, player_line: str, **options: Any) -> DialogueLine:
        self.said.append((npc_id, persona, player_line, options))
        return DialogueLine(id=f"d-{len(self.said)}", npc_id=npc_id, text="Well met.", done=True)


def test_friendly_npcs_are_named_by_their_card_ids() -> None:
    shipped = (PROJECT_ROOT / "assets" / "dialogue" / "npcs.toml").read_text()
    assert all(f"[npcs.{npc}]" in shipped for npc in FRIENDLY_NPCS)
    game = ArenaGame(seed=0)
    link = ServiceLink(None, game_fps=30)
    plugin = _Plugin(_Welcome(npcs=("blacksmith", "scout", "healer", "rival")))
    link.plugin = plugin  # type: ignore[assignment]
    link.ask_friendly(game, "blacksmith", "Hello!")
    npc_id, persona, line, options = plugin.said[-1]
    assert (npc_id, persona, line) == ("blacksmith", None, "Hello!")  # the card id alone
    assert options["game_state"] == ServiceLink.game_state(game)
    assert options["events"] == ServiceLink.dialogue_events(game)
    plugin.welcome = _Welcome(npcs=())  # a service without the demo's cards
    link.ask_friendly(game, "healer", "Hi")
    assert plugin.said[-1][:2] == ("healer", "healer")  # then as a persona too
    assert link.summary()["dialogue_lines"] == [
        {"npc": "blacksmith", "player": "Hello!", "text": "Well met.", "error": None},
        {"npc": "healer", "player": "Hi", "text": "Well met.", "error": None},
    ]


def test_offline_the_friendly_npcs_stay_silent() -> None:
    game = ArenaGame(seed=0)
    link = ServiceLink(None, game_fps=30)
    assert link.ask_friendly(game, "blacksmith", "Hello!") is None
    link.plugin = _Plugin(_Welcome(npcs=("blacksmith",)), connected=False)  # type: ignore[assignment]
    assert link.ask_friendly(game, "blacksmith", "Hello!") is None
    assert link.summary()["dialogue_lines"] == []
