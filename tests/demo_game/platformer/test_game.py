"""Levels as a person plays them: input, goblin controllers, events, results, the next level."""

from __future__ import annotations

import numpy as np

from demo_game.platformer.game import PlatformerGame, PlayerInput
from demo_game.platformer.sim import Control, PlatformerConfig, PlatformerRules
from demo_game.platformer.sim.goblins import ScriptedGoblin


def test_player_input_round_trips_through_controls() -> None:
    player = PlayerInput(move_x=-1.0, jump=True, talk=True)
    controls = player.as_controls()
    assert controls[Control.MOVE_X] == -1.0 and controls[Control.JUMP] == 1.0
    assert PlayerInput.from_controls(controls) == player


def test_events_are_logged_and_levels_follow_each_other() -> None:
    game = PlatformerGame(PlatformerConfig(rules=PlatformerRules(level_ticks=90)), seed=0)
    rng = np.random.default_rng(0)
    game.goblin_controllers = {i: ScriptedGoblin(rng) for i in range(game.sim.level.n_goblins)}
    first_seed = game.sim.level.seed
    for tick in range(90):
        game.step(PlayerInput(move_x=1.0, jump=tick % 20 == 0))
    assert game.over and game.levels_played == 1 and game.results == ["timeout"]
    assert game.totals["jump"] >= 3 and game.totals["jump"] == sum(e.name == "jump" for e in game.events)
    assert game.player_position[0] > 300
    assert game.step(PlayerInput(move_x=1.0)) == [], "nothing moves once the level is over"
    score = game.total_score
    game.new_level()
    assert not game.over and game.tick == 0 and game.level_number == 2
    assert game.sim.level.seed != first_seed and game.total_score == score and game.hearts == 3


def test_goblins_without_a_controller_stand_still() -> None:
    game = PlatformerGame(seed=1)
    before = [(g.body.x, g.body.y) for g in game.sim.state.goblins]
    for _ in range(30):
        game.step(PlayerInput())
    assert [(g.body.x, g.body.y) for g in game.sim.state.goblins] == before


def test_talking_needs_a_friendly_in_reach() -> None:
    game = PlatformerGame(seed=2)
    assert game.nearest_friendly() is None
    npc = game.friendlies[0]
    game.sim.state.player.body.x = npc.x - 30
    assert game.nearest_friendly() == 0
    assert [e.name for e in game.step(PlayerInput(talk=True))] == ["talk"]
