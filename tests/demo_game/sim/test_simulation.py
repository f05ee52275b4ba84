"""The arena simulation: set-up, rules of play, determinism and batch independence."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from demo_game.sim import (
    ActorField,
    ArenaConfig,
    ArenaField,
    ArenaRules,
    ArenaSimulation,
    BulletField,
    ControlField,
    Event,
    FriendlyField,
    Outcome,
    PickupField,
    PickupKind,
    Rule,
)
from demo_game.sim.geometry import point_in_walls
from demo_game.sim.layouts import FRIENDLY_SPOTS, LAYOUT_PICKUP_SPOTS, LAYOUT_WALLS
from gameai.vocabulary import EVENTS


def new_sim(n: int = 1, seed: int = 0, layout: int | None = None, **config: object) -> ArenaSimulation:
    sim = ArenaSimulation(n, ArenaConfig(**config))  # type: ignore[arg-type]
    layouts = None if layout is None else np.full(n, layout)
    sim.reset(np.arange(seed, seed + n, dtype=np.uint64), layouts=layouts)
    return sim


def distance_to_walls(x: float, y: float, walls: np.ndarray) -> float:
    """Distance from a point to the nearest wall rectangle (0 inside one)."""
    best = np.inf
    for x0, y0, x1, y1 in walls:
        if x1 > x0:
            best = min(best, float(np.hypot(x - np.clip(x, x0, x1), y - np.clip(y, y0, y1))))
    return best


def place(sim: ArenaSimulation, actor: int, x: float, y: float, i: int = 0) -> None:
    sim.state.actors[i, actor, ActorField.X] = x
    sim.state.actors[i, actor, ActorField.Y] = y
    sim.state.actors[i, actor, ActorField.VX] = 0.0
    sim.state.actors[i, actor, ActorField.VY] = 0.0


def test_names_match_the_shared_vocabulary() -> None:
    assert tuple(e.name.lower() for e in Event) == EVENTS


def test_rule_indices_follow_the_dataclass_fields() -> None:
    names = [f.name.upper() for f in dataclasses.fields(ArenaRules)]
    assert [r.name for r in Rule] == names
    rules = ArenaRules(player_speed=7.0)
    assert rules.as_array()[Rule.PLAYER_SPEED] == 7.0


def test_reset_sets_up_a_fair_match() -> None:
    sim = new_sim(64, n_enemies=2)
    s = sim.state
    rules = sim.config.rules
    assert (s.arena[:, ArenaField.TICK] == 0).all() and not s.done.any()
    assert set(s.arena[:, ArenaField.LAYOUT].astype(int)) == {0, 1, 2, 3}  # random layouts
    for i in range(64):
        walls = LAYOUT_WALLS[int(s.arena[i, ArenaField.LAYOUT])]
        for a in range(3):
            x, y = s.actors[i, a, ActorField.X], s.actors[i, a, ActorField.Y]
            assert distance_to_walls(x, y, walls) >= rules.actor_radius
        assert (
            s.actors[i, 0, ActorField.X] < 220 < 420 < s.actors[i, 1:, ActorField.X].min()
        )  # opposite sides
    assert (s.actors[:, 0, ActorField.HEALTH] == rules.player_health).all()
    assert (s.actors[:, 1:, ActorField.HEALTH] == rules.enemy_health).all()
    assert (s.bullets[:, :, BulletField.OWNER] == -1).all()
    assert (s.pickups[:, :, PickupField.ACTIVE] == 1).all()
    np.testing.assert_array_equal(s.friendlies[0, :, :2], FRIENDLY_SPOTS)


def test_layout_spots_are_clear_of_walls() -> None:
    for layout, walls in enumerate(LAYOUT_WALLS):
        for x, y in LAYOUT_PICKUP_SPOTS[layout]:
            assert not point_in_walls(x, y, 16.0, walls), (layout, x, y)
        for x, y in FRIENDLY_SPOTS:
            assert not point_in_walls(x, y, 16.0, walls), (layout, x, y)
        for x0, y0, x1, y1 in walls:
            if x1 > x0:
                assert min(x1 - x0, y1 - y0) >= 30, "walls must be thick enough that nothing tunnels"


def test_actors_never_enter_walls() -> None:
    sim = new_sim(8, layout=0, n_enemies=1)
    rng = np.random.default_rng(0)
    radius = sim.config.rules.actor_radius
    for tick in range(600):
        if tick % 20 == 0:
            sim.controls[:, :, ControlField.MOVE_X] = rng.uniform(-1, 1, (8, 2))
            sim.controls[:, :, ControlField.MOVE_Y] = rng.uniform(-1, 1, (8, 2))
            sim.controls[:, :, ControlField.DASH] = 1.0
        sim.step()
        for i in range(8):
            for a in range(2):
                x, y = sim.state.actors[i, a, ActorField.X], sim.state.actors[i, a, ActorField.Y]
                assert distance_to_walls(x, y, LAYOUT_WALLS[0]) >= radius - 1e-6, (tick, i, a, x, y)


def test_dash_is_faster_and_waits_for_its_cooldown() -> None:
    sim = new_sim(1, layout=1)
    rules = sim.config.rules
    place(sim, 0, 320, 60)
    sim.controls[0, 0, ControlField.MOVE_X] = 1.0
    sim.controls[0, 0, ControlField.DASH] = 1.0
    sim.step()
    assert sim.state.events[0, Event.DASH] == 1
    assert sim.state.actors[0, 0, ActorField.VX] == pytest.approx(
        rules.player_speed * rules.dash_speed_factor
    )
    for _ in range(int(rules.dash_cooldown) - 1):
        sim.step()
        assert sim.state.events[0, Event.DASH] == 0
    sim.step()
    assert sim.state.events[0, Event.DASH] == 1


def test_a_bullet_hits_and_a_kill_wins_the_match() -> None:
    sim = new_sim(1, layout=1, n_enemies=1)
    rules = sim.config.rules
    place(sim, 0, 100, 60)
    place(sim, 1, 220, 60)
    sim.controls[0, 0, ControlField.AIM] = 0.0  # due right, at the enemy
    sim.controls[0, 0, ControlField.FIRE] = 1.0
    hits = 0
    for _ in range(200):
        sim.step()
        hits += sim.state.events[0, Event.HIT]
        if sim.state.done[0]:
            break
    shots_needed = int(np.ceil(rules.enemy_health / rules.player_bullet_damage))
    assert hits == shots_needed
    assert sim.state.outcome[0] == Outcome.WIN
    assert sim.state.events[0, Event.KILL] == 1 and sim.state.events[0, Event.WIN] == 1
    expected = shots_needed * rules.score_hit + rules.score_kill + rules.score_win
    assert sim.state.arena[0, ArenaField.SCORE] == expected
    assert sim.state.actors[0, 1, ActorField.ALIVE] == 0.0


def test_walls_stop_bullets() -> None:
    sim = new_sim(1, layout=0, n_enemies=1)
    place(sim, 0, 250, 240)  # the centre block (290..350) stands between them
    place(sim, 1, 400, 240)
    sim.controls[0, 0, ControlField.FIRE] = 1.0
    for _ in range(120):
        sim.step()
    assert sim.state.actors[0, 0, ActorField.SHOTS] > 5
    assert sim.state.actors[0, 0, ActorField.HITS] == 0


def test_fire_cooldown_limits_the_rate_of_fire() -> None:
    sim = new_sim(1, layout=1, n_enemies=1)
    sim.controls[0, 0, ControlField.FIRE] = 1.0
    sim.controls[0, 0, ControlField.AIM] = np.pi / 2
    ticks = 80
    for _ in range(ticks):
        sim.step()
    cooldown = sim.config.rules.player_fire_cooldown
    assert sim.state.actors[0, 0, ActorField.SHOTS] == np.ceil(ticks / cooldown)


def test_the_player_dies_and_loses() -> None:
    sim = new_sim(1, layout=1, n_enemies=1)
    place(sim, 0, 100, 60)
    place(sim, 1, 200, 60)
    sim.controls[0, 1, ControlField.AIM] = np.pi  # due left, at the player
    sim.controls[0, 1, ControlField.FIRE] = 1.0
    hurt = 0
    for _ in range(400):
        sim.step()
        hurt += sim.state.events[0, Event.HURT]
        if sim.state.done[0]:
            break
    assert sim.state.outcome[0] == Outcome.LOSS
    assert sim.state.events[0, Event.DEATH] == 1
    assert hurt == int(np.ceil(sim.config.rules.player_health / sim.config.rules.enemy_bullet_damage))


def test_time_runs_out_in_a_draw() -> None:
    sim = new_sim(1, rules=ArenaRules(match_ticks=30))
    for _ in range(29):
        sim.step()
    assert not sim.state.done[0]
    sim.step()
    assert sim.state.outcome[0] == Outcome.TIMEOUT and sim.state.events[0, Event.TIMEOUT] == 1
    tick = sim.state.arena[0, ArenaField.TICK]
    sim.step()  # a finished arena stays frozen
    assert sim.state.arena[0, ArenaField.TICK] == tick


def test_pickups_heal_score_and_respawn() -> None:
    sim = new_sim(1, layout=0)
    rules = sim.config.rules
    s = sim.state
    s.pickups[0, 0, PickupField.KIND] = PickupKind.HEALTH
    s.pickups[0, 1, PickupField.KIND] = PickupKind.COIN
    s.actors[0, 0, ActorField.HEALTH] = 90.0
    place(sim, 0, s.pickups[0, 0, PickupField.X], s.pickups[0, 0, PickupField.Y])
    sim.step()
    assert s.events[0, Event.PICKUP_HEALTH] == 1
    assert s.actors[0, 0, ActorField.HEALTH] == rules.player_health  # capped at the maximum
    assert s.pickups[0, 0, PickupField.ACTIVE] == 0
    place(sim, 0, s.pickups[0, 1, PickupField.X], s.pickups[0, 1, PickupField.Y])
    sim.step()
    assert s.events[0, Event.PICKUP_COIN] == 1 and s.arena[0, ArenaField.SCORE] == rules.score_coin
    place(sim, 0, 600, 440)
    for _ in range(int(rules.pickup_respawn_ticks)):
        sim.step()
    assert (s.pickups[0, :, PickupField.ACTIVE] == 1).all()
    spots = {tuple(p) for p in LAYOUT_PICKUP_SPOTS[0]}
    positions = [tuple(p) for p in s.pickups[0, :, :2]]
    assert set(positions) <= spots and len(set(positions)) == len(positions)  # distinct spots


def test_talking_needs_a_friendly_in_reach() -> None:
    sim = new_sim(1, layout=0)
    place(sim, 0, 320, 240 + 100)
    sim.controls[0, 0, ControlField.TALK] = 1.0
    sim.step()
    assert sim.state.events[0, Event.TALK] == 0
    place(sim, 0, FRIENDLY_SPOTS[1, 0], FRIENDLY_SPOTS[1, 1] - 40)
    sim.step()
    assert sim.state.events[0, Event.TALK] == 1
    assert (
        sim.state.friendlies[0, 1, FriendlyField.TALK] > 0
        and sim.state.friendlies[0, 0, FriendlyField.TALK] == 0
    )


def _random_run(sim: ArenaSimulation, ticks: int, seed: int) -> list[dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    history = []
    n = sim.num_arenas
    for _ in range(ticks):
        controls = rng.uniform(-1, 1, (n, sim.controls.shape[1], 6))
        controls[:, :, ControlField.AIM] *= np.pi
        sim.controls[:] = controls
        sim.step()
        history.append({k: v.copy() for k, v in sim.state.arrays().items()})
    return history


def test_same_keys_and_controls_replay_exactly() -> None:
    first = _random_run(new_sim(4, seed=5, n_enemies=2), 300, seed=1)
    second = _random_run(new_sim(4, seed=5, n_enemies=2), 300, seed=1)
    for a, b in zip(first, second, strict=True):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    assert any(step["events"][:, Event.FIRE].any() for step in first)


def test_an_arena_does_not_depend_on_its_batch() -> None:
    n = 16
    batch = new_sim(n, seed=100, n_enemies=2)
    rng = np.random.default_rng(3)
    singles = [new_sim(1, seed=100 + i, n_enemies=2) for i in range(n)]
    for _ in range(400):
        controls = rng.uniform(-1, 1, (n, 3, 6))
        batch.controls[:] = controls
        batch.step()
        for i, single in enumerate(singles):
            single.controls[0] = controls[i]
            single.step()
    for i, single in enumerate(singles):
        for name, array in batch.state.select(i).arrays().items():
            np.testing.assert_array_equal(array, single.state.arrays()[name], err_msg=f"{name} of arena {i}")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="num_arenas"):
        ArenaSimulation(0)
    with pytest.raises(ValueError, match="n_friendlies"):
        ArenaConfig(n_friendlies=3)
    sim = ArenaSimulation(2)
    with pytest.raises(ValueError, match="keys must have shape"):
        sim.reset(np.zeros(3, dtype=np.uint64))
    with pytest.raises(ValueError, match="layout"):
        sim.reset(np.zeros(2, dtype=np.uint64), layouts=np.array([0, 9]))


def test_the_simulation_never_imports_pygame() -> None:
    code = (
        "import sys, numpy as np\n"
        "from demo_game.sim import ArenaSimulation\n"
        "import demo_game.sim.styles, demo_game.sim.observation, envs.matches\n"
        "sim = ArenaSimulation(2); sim.reset(np.zeros(2, dtype=np.uint64)); sim.step()\n"
        "assert 'pygame' not in sys.modules, 'pygame was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_reset_does_not_depend_on_the_previous_match() -> None:
    fresh = new_sim(3, seed=20)
    played = new_sim(3, seed=77)
    _random_run(played, 200, seed=4)
    played.reset(np.arange(20, 23, dtype=np.uint64))
    for name, array in fresh.state.arrays().items():
        np.testing.assert_array_equal(played.state.arrays()[name], array, err_msg=name)
