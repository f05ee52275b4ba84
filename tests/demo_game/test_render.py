"""Drawing the arena at model and window sizes, headless."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from demo_game.render import ArenaRenderer, surface_to_array
from demo_game.sim import ActorField, ArenaConfig, ArenaSimulation, ControlField


@pytest.fixture()
def sim() -> ArenaSimulation:
    simulation = ArenaSimulation(2, ArenaConfig(n_enemies=2))
    simulation.reset(np.array([1, 2], dtype=np.uint64), layouts=np.array([0, 3]))
    return simulation


@pytest.mark.parametrize("size", [(84, 84), (640, 480)])
def test_frames_are_not_blank_and_follow_the_state(sim: ArenaSimulation, size: tuple[int, int]) -> None:
    renderer = ArenaRenderer(size)
    frame = renderer.render(sim.state, 0)
    assert frame.shape == (size[1], size[0], 3) and frame.dtype == np.uint8
    colours = np.unique(frame.reshape(-1, 3), axis=0)
    assert len(colours) >= 5, "floor, walls, player, enemies and pickups should all show"
    assert frame.std() > 5
    np.testing.assert_array_equal(renderer.render(sim.state, 0), frame)  # same state, same frame

    sim.controls[:, 0, ControlField.MOVE_X] = 1.0
    for _ in range(10):
        sim.step()
    moved = renderer.render(sim.state, 0)
    changed = np.any(moved != frame, axis=2)
    assert changed.sum() > 0.0005 * changed.size
    assert np.any(renderer.render(sim.state, 1) != moved), "a different arena looks different"


def test_the_player_is_drawn_where_it_stands(sim: ArenaSimulation) -> None:
    renderer = ArenaRenderer((640, 480))
    x, y = sim.state.actors[0, 0, ActorField.X], sim.state.actors[0, 0, ActorField.Y]
    frame = renderer.render(sim.state, 0)
    assert tuple(frame[int(y), int(x)]) == renderer.palette.player


def test_draw_onto_a_window_sized_surface(sim: ArenaSimulation) -> None:
    surface = pygame.Surface((320, 240))
    renderer = ArenaRenderer((320, 240))
    renderer.draw(surface, sim.state, 1)
    assert surface_to_array(surface).std() > 5
    with pytest.raises(ValueError, match="renderer draws"):
        renderer.draw(pygame.Surface((100, 100)), sim.state, 0)
    with pytest.raises(ValueError, match="at least 8x8"):
        ArenaRenderer((4, 4))
