"""Vector observations: each feature means what its name says."""

from __future__ import annotations

import numpy as np
import pytest

from demo_game.sim import ActorField, ArenaConfig, ArenaSimulation, BulletField
from demo_game.sim.observation import OBSERVATION_SIZE, ObservationField, observe


def setup(layout: int, player: tuple[float, float], enemies: list[tuple[float, float]]) -> ArenaSimulation:
    sim = ArenaSimulation(1, ArenaConfig(n_enemies=len(enemies)))
    sim.reset(np.array([3], dtype=np.uint64), layouts=np.array([layout]))
    for a, (x, y) in enumerate([player, *enemies]):
        sim.state.actors[0, a, ActorField.X] = x
        sim.state.actors[0, a, ActorField.Y] = y
    return sim


def view(sim: ArenaSimulation, actor: int, difficulty: float = 0.5) -> np.ndarray:
    out = np.zeros((1, OBSERVATION_SIZE), dtype=np.float32)
    s = sim.state
    observe(
        actor,
        np.array([difficulty]),
        out,
        s.arena,
        s.actors,
        s.bullets,
        s.pickups,
        sim.rules,
        np.ones(1, bool),
    )
    return out[0]


def test_target_offset_and_line_of_sight() -> None:
    sim = setup(0, player=(250, 240), enemies=[(400, 240)])  # the centre block stands between them
    enemy_view = view(sim, 1)
    assert enemy_view[ObservationField.TARGET_DX] == pytest.approx(-150 / 640)
    assert enemy_view[ObservationField.TARGET_DY] == pytest.approx(0.0)
    assert enemy_view[ObservationField.TARGET_VISIBLE] == 0.0
    sim.state.actors[0, 0, ActorField.Y] = 400  # step out from behind the block
    assert view(sim, 1)[ObservationField.TARGET_VISIBLE] == 1.0


def test_the_player_sees_the_nearest_enemy() -> None:
    sim = setup(1, player=(100, 60), enemies=[(500, 400), (160, 60)])
    player_view = view(sim, 0)
    assert player_view[ObservationField.TARGET_DX] == pytest.approx(60 / 640)
    assert player_view[ObservationField.OPPONENTS_ALIVE] == 1.0
    sim.state.actors[0, 2, ActorField.ALIVE] = 0.0
    player_view = view(sim, 0)
    assert player_view[ObservationField.TARGET_DX] == pytest.approx(400 / 640)
    assert player_view[ObservationField.OPPONENTS_ALIVE] == 0.5


def test_wall_rays_measure_distances() -> None:
    sim = setup(
        1, player=(100, 240), enemies=[(600, 60)]
    )  # crossroads: a wall spans x 180..260 at y 222..258
    player_view = view(sim, 0)
    assert player_view[ObservationField.RAY0] == pytest.approx(80 / 200)  # +x: to the wall
    assert player_view[ObservationField.RAY4] == pytest.approx(100 / 200)  # -x: to the border
    assert player_view[ObservationField.RAY2] == pytest.approx(1.0)  # +y: open beyond the range


def test_only_incoming_opposing_bullets_are_seen() -> None:
    sim = setup(1, player=(100, 60), enemies=[(300, 60)])
    bullets = sim.state.bullets
    bullets[0, 0] = [200, 60, -10, 0, 1, 30]  # an enemy bullet flying at the player
    bullets[0, 1] = [60, 60, -10, 0, 1, 30]  # an enemy bullet flying away from the player
    player_view = view(sim, 0)
    assert player_view[ObservationField.BULLET0_PRESENT] == 1.0
    assert player_view[ObservationField.BULLET1_PRESENT] == 0.0
    assert player_view[ObservationField.BULLET0_DX] == pytest.approx(100 / 200)
    assert player_view[ObservationField.BULLET0_VX] == pytest.approx(-1.0)
    assert view(sim, 1)[ObservationField.BULLET0_PRESENT] == 0.0  # the enemy ignores its own side's bullets
    bullets[0, 0, BulletField.OWNER] = 0
    assert view(sim, 1)[ObservationField.BULLET0_PRESENT] == 0.0  # moving away from the enemy


def test_difficulty_and_time_left() -> None:
    sim = setup(2, player=(60, 60), enemies=[(600, 400)])
    assert view(sim, 1, difficulty=0.3)[ObservationField.DIFFICULTY] == pytest.approx(0.3)
    assert view(sim, 1)[ObservationField.TIME_LEFT] == 1.0
    sim.step()
    assert view(sim, 1)[ObservationField.TIME_LEFT] == pytest.approx(1 - 1 / sim.config.rules.match_ticks)
