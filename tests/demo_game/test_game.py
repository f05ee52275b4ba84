"""One match as a person plays it: input, enemy controllers, events, results."""

from __future__ import annotations

import numpy as np

from demo_game.game import ArenaGame, PlayerInput
from demo_game.sim import ActorField, ArenaConfig, ArenaRules, ControlField
from demo_game.sim.scripted import ScriptedController
from demo_game.sim.styles import ENEMY_STYLE, style_params


def test_player_input_round_trips_through_controls() -> None:
    player = PlayerInput(move_x=1.0, move_y=-0.5, aim=0.3, fire=True, dash=False, talk=True)
    controls = player.as_controls()
    assert controls[ControlField.FIRE] == 1.0 and controls[ControlField.TALK] == 1.0
    assert PlayerInput.from_controls(controls) == player


def test_events_are_logged_and_matches_are_counted() -> None:
    game = ArenaGame(ArenaConfig(n_enemies=1, rules=ArenaRules(match_ticks=90)), seed=0)
    rng = np.random.default_rng(0)
    game.enemy_controllers[1] = ScriptedController(style_params(ENEMY_STYLE, rng))
    x0, _ = game.player_position
    for _ in range(90):
        game.step(PlayerInput(move_x=1.0, fire=True))
    assert game.over and game.matches_played == 1 and game.results == [game.outcome.name.lower()]
    assert game.player_position[0] > x0 + 50
    assert game.totals["fire"] > 5 and game.totals["fire"] == sum(e.name == "fire" for e in game.events)
    assert game.win_rate() == (1.0 if game.results[0] == "win" else 0.0)
    assert game.step(PlayerInput()) == []  # nothing moves once the match is over
    game.new_match()
    assert not game.over and game.tick == 0


def test_enemies_without_a_controller_stand_still() -> None:
    game = ArenaGame(seed=1)
    before = game.sim.state.actors[0, 1:, :2].copy()
    for _ in range(30):
        game.step(PlayerInput())
    np.testing.assert_array_equal(game.sim.state.actors[0, 1:, :2], before)
    assert (game.sim.state.actors[0, 1:, ActorField.SHOTS] == 0).all()


def test_talking_needs_a_friendly_in_reach() -> None:
    game = ArenaGame(seed=2)
    assert game.nearest_friendly() is None
    friendly = game.sim.state.friendlies[0, 0]
    game.sim.state.actors[0, 0, :2] = friendly[:2] + np.array([0.0, 30.0])
    assert game.nearest_friendly() == 0
    events = game.step(PlayerInput(talk=True))
    assert [e.name for e in events] == ["talk"]
