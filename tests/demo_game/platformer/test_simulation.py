"""The platformer's simulation: levels from seeds, determinism, physics, contacts, outcomes."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import numpy as np
import pytest

from demo_game.platformer.sim import (
    LEVEL_HEIGHT,
    TILE,
    Body,
    Control,
    Event,
    LevelConfig,
    Outcome,
    PlatformerConfig,
    PlatformerRules,
    PlatformerSimulation,
    generate_level,
)
from demo_game.platformer.sim.goblins import ScriptedGoblin
from demo_game.platformer.sim.styles import ScriptedPlayer, style_params


def _play(seed: int, ticks: int, style: str = "collector") -> list[dict[str, Any]]:
    """Snapshots of a level played by a scripted player and scripted goblins, every 25 ticks."""
    sim = PlatformerSimulation()
    sim.reset(seed)
    rng = np.random.default_rng(seed)
    player = ScriptedPlayer(style_params(style, rng), rng)
    goblins = [ScriptedGoblin(np.random.default_rng([seed, i])) for i in range(sim.level.n_goblins)]
    snapshots = []
    for tick in range(ticks):
        player(sim)
        for i, goblin in enumerate(goblins):
            sim.controls[1 + i] = goblin(sim, i)
        sim.step()
        if tick % 25 == 0:
            snapshots.append(sim.state.snapshot())
    return snapshots


def _assert_same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(np.asarray(a[key]), np.asarray(b[key]), err_msg=key)


def test_same_seed_same_level_and_states_another_seed_differs() -> None:
    first, second = generate_level(11), generate_level(11)
    for field in dataclasses.fields(first):
        value = getattr(first, field.name)
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(value, getattr(second, field.name))
        else:
            assert value == getattr(second, field.name)
    assert not np.array_equal(generate_level(12).solids, first.solids)

    run_a, run_b, other = _play(5, 600), _play(5, 600), _play(6, 600)
    for a, b in zip(run_a, run_b, strict=True):
        _assert_same(a, b)
    assert any(not np.array_equal(a["player"], c["player"]) for a, c in zip(run_a, other, strict=True))


@pytest.mark.parametrize("seed", range(8))
def test_levels_are_playable_strips(seed: int) -> None:
    level = generate_level(seed)
    solids = level.solids
    assert level.width == 4 * 1280 and len(level.friendlies) == 2
    assert [npc.card_id for npc in level.friendlies] == ["shopkeeper", "guide"]
    assert (
        level.ground_top(level.start[0]) == level.start[1]
        and level.ground_top(level.flag[0]) == level.flag[1]
    )
    for npc in level.friendlies:
        assert level.ground_top(npc.x) == npc.y, "friendly NPCs stand on the ground"
    pits = solids[1:, 0] - solids[:-1, 2]
    assert (pits >= 0).all() and (pits <= 4 * TILE).all(), "pits are at most four tiles: within a jump"
    assert (pits > 0).any() and level.ledges.shape[0] > 0 and level.n_gems >= 8
    rises = (solids[:-1, 1] - solids[1:, 1])[pits == 0]  # > 0: the next block stands higher
    assert (rises <= 2 * TILE).all(), "a step up is at most two tiles high"
    assert (np.abs(rises) <= 3 * TILE).all(), "any step is within a jump (about four tiles)"
    assert 1 <= level.n_goblins <= 5
    for x, y, low, high in level.goblin_homes:
        assert level.ground_top(x) == y and low < x < high


def _sim_on_flat_ground(**rules: Any) -> PlatformerSimulation:
    sim = PlatformerSimulation(PlatformerConfig(rules=PlatformerRules(**rules)))
    sim.reset(3)
    return sim


def test_a_standing_body_never_falls_through_and_a_drop_lands_on_top() -> None:
    sim = _sim_on_flat_ground()
    body = sim.state.player.body
    ground = sim.level.ground_top(body.x)
    for _ in range(120):
        sim.step()
        assert body.y == ground and body.on_ground and body.vy == 0.0
    body.y = 100.0  # drop it from high up: it lands exactly on the grass, however fast it fell
    body.on_ground = False
    landed = []
    for _ in range(60):
        sim.step()
        landed.append(sim.state.events[Event.LAND])
    assert body.y == ground and body.on_ground and sum(landed) == 1


def test_a_jump_rises_about_four_tiles_and_lands_again() -> None:
    sim = _sim_on_flat_ground()
    body = sim.state.player.body
    ground = body.y
    sim.controls[0, Control.JUMP] = 1.0
    sim.step()
    assert sim.state.events[Event.JUMP] == 1 and not body.on_ground
    heights, ticks = [], 1
    while not body.on_ground:
        sim.step()
        heights.append(ground - body.y)
        ticks += 1
        if body.vy > 0:  # let go on the way down: a full jump
            sim.controls[0, Control.JUMP] = 0.0
    assert 115.0 < max(heights) < 135.0 and 22 <= ticks <= 28
    assert body.y == ground and sim.state.events[Event.LAND] == 1


def test_letting_go_early_makes_a_short_hop() -> None:
    sim = _sim_on_flat_ground()
    body = sim.state.player.body
    ground = body.y
    sim.controls[0, Control.JUMP] = 1.0
    sim.step()
    sim.controls[0, Control.JUMP] = 0.0
    top = 0.0
    while not body.on_ground:
        sim.step()
        top = max(top, ground - body.y)
    assert 15.0 < top < 60.0


def test_ledges_are_one_way_and_blocks_are_walls() -> None:
    sim = PlatformerSimulation()
    sim.reset(0)
    level = sim.level
    x0, top, x1, _ = level.ledges[0]
    body = sim.state.player.body
    ground = level.ground_top((x0 + x1) / 2)
    assert ground is not None
    body.x, body.y = (x0 + x1) / 2, ground  # right under the ledge
    for tick in range(40):
        sim.controls[0, Control.JUMP] = float(tick < 12)  # one full jump
        sim.step()
    assert body.on_ground and body.y == top, "jumped up through the ledge and landed on it"

    # A wall: the first step up (a block higher than the one before it, with no pit between).
    solids = level.solids
    for left, right in itertools.pairwise(solids):
        if right[0] == left[2] and right[1] < left[1]:
            break
    else:
        pytest.skip("this level has no step up")
    body.x, body.y, body.vx, body.vy = left[2] - 60.0, float(left[1]), 0.0, 0.0
    sim.controls[0] = 0.0
    sim.controls[0, Control.MOVE_X] = 1.0
    for _ in range(40):
        sim.step()
    assert body.right == pytest.approx(right[0]) and body.y == left[1], "the block stops it"


def test_a_fall_costs_a_heart_and_returns_to_safe_ground_the_third_loses() -> None:
    sim = _sim_on_flat_ground()
    player = sim.state.player
    checkpoint = player.checkpoint
    for fall in range(3):
        player.body.y = LEVEL_HEIGHT + 200.0
        player.body.on_ground = False
        sim.step()
        assert sim.state.events[Event.FALL] == 1 and player.hearts == 2 - fall
        if fall < 2:
            assert (player.body.x, player.body.y) == checkpoint and player.invulnerable > 0
    assert sim.state.outcome == Outcome.LOSS
    assert sim.state.events[Event.DEATH] == 1 and sim.state.events[Event.LOSS] == 1
    frozen = sim.state.snapshot()
    sim.step()
    np.testing.assert_array_equal(sim.state.snapshot()["player"], frozen["player"])


def test_a_touch_hurts_and_a_fall_from_above_stomps() -> None:
    sim = PlatformerSimulation()
    sim.reset(2)
    player, goblin = sim.state.player, sim.state.goblins[0]
    player.body.x, player.body.y = goblin.body.x - 30.0, goblin.body.y
    sim.controls[0, Control.MOVE_X] = 1.0
    for _ in range(10):
        sim.step()
        if sim.state.events[Event.HURT]:
            break
    assert sim.state.events[Event.HURT] == 1 and player.hearts == 2 and goblin.hit
    assert player.invulnerable == sim.rules.invulnerable_ticks and player.body.vx < 0, "knocked back"
    for _ in range(20):  # blinking: touching again does nothing
        sim.step()
        assert player.hearts == 2

    player.invulnerable = 0
    player.body.x, player.body.y = goblin.body.x, goblin.body.top - 5.0
    player.body.vy, player.body.on_ground = 6.0, False
    sim.controls[0] = 0.0
    sim.step()
    assert sim.state.events[Event.STOMP] == 1 and goblin.stomped and not goblin.alive
    assert player.body.vy < 0 and player.hearts == 2, "bounced off, unhurt"
    assert sim.state.score == sim.rules.score_stomp and sim.state.stomps == 1
    player.body.x = goblin.home_x - 1000.0  # out of the way: it comes back home in time
    for _ in range(sim.rules.goblin_respawn_ticks * 2):
        sim.step()
    assert goblin.alive and goblin.body.x == goblin.home_x


def test_gems_are_picked_up_once() -> None:
    sim = PlatformerSimulation()
    sim.reset(4)
    gx, gy = sim.level.gems[0]
    body = sim.state.player.body
    body.x, body.y, body.on_ground = gx, gy + 10.0, False
    sim.step()
    assert sim.state.events[Event.GEM] == 1 and sim.state.gems_taken[0] and sim.state.score == 10
    body.x, body.y = gx, gy + 10.0
    sim.step()
    assert sim.state.events[Event.GEM] == 0 and sim.state.score == 10


def test_the_flag_wins_with_a_time_bonus_and_the_clock_times_out() -> None:
    sim = _sim_on_flat_ground()
    body = sim.state.player.body
    body.x, body.y = sim.level.flag[0] - 5.0, sim.level.flag[1]
    sim.controls[0, Control.MOVE_X] = 1.0
    while not sim.state.done:
        sim.step()
    assert sim.state.outcome == Outcome.WIN and sim.state.events[Event.WIN] == 1
    rules = sim.rules
    seconds_left = int((rules.level_ticks - sim.state.tick) / rules.tick_rate)
    assert sim.state.tick < 5 and sim.state.score == rules.score_win + seconds_left * 2

    short = _sim_on_flat_ground(level_ticks=30)
    for _ in range(30):
        short.step()
    assert short.state.outcome == Outcome.TIMEOUT and short.state.events[Event.TIMEOUT] == 1


def test_talking_needs_a_friendly_in_reach() -> None:
    sim = _sim_on_flat_ground()
    sim.controls[0, Control.TALK] = 1.0
    sim.step()
    assert sim.state.events[Event.TALK] == 0 and sim.nearest_friendly() is None
    npc = sim.level.friendlies[0]
    sim.state.player.body.x = npc.x + 20.0
    sim.step()
    assert sim.state.events[Event.TALK] == 1 and sim.state.talking[0] == sim.rules.talk_ticks


def test_goblins_move_only_as_their_controls_say() -> None:
    sim = PlatformerSimulation(PlatformerConfig(level=LevelConfig(n_goblins=2)))
    sim.reset(9)
    still = [Body(**dataclasses.asdict(g.body)) for g in sim.state.goblins]
    for _ in range(30):
        sim.step()
    assert [(g.body.x, g.body.y) for g in sim.state.goblins] == [(b.x, b.y) for b in still]
    sim.controls[2, Control.MOVE_X] = -1.0
    for _ in range(10):
        sim.step()
    assert sim.state.goblins[0].body.x == still[0].x and sim.state.goblins[1].body.x < still[1].x - 20


def test_using_it_before_reset_says_so() -> None:
    with pytest.raises(RuntimeError, match="reset"):
        PlatformerSimulation().step()
    with pytest.raises(ValueError, match="gap_tiles"):
        LevelConfig(gap_tiles=(2, 6))
