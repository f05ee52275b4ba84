"""Drawing the platformer headless, at window and model sizes, and looking unlike the arena."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from demo_game.platformer.render import PlatformerRenderer, surface_pixels
from demo_game.platformer.sim import Control, PlatformerSimulation
from demo_game.render import ArenaRenderer
from demo_game.sim import ArenaConfig, ArenaSimulation


@pytest.fixture()
def sim() -> PlatformerSimulation:
    simulation = PlatformerSimulation()
    simulation.reset(3)
    return simulation


@pytest.mark.parametrize("size", [(84, 84), (1280, 720)])
def test_frames_are_not_blank_and_follow_the_state(sim: PlatformerSimulation, size: tuple[int, int]) -> None:
    renderer = PlatformerRenderer(size)
    frame = renderer.render(sim.state)
    assert frame.shape == (size[1], size[0], 3) and frame.dtype == np.uint8
    assert len(np.unique(frame.reshape(-1, 3), axis=0)) >= 8 and frame.std() > 20
    np.testing.assert_array_equal(renderer.render(sim.state), frame)  # same state, same frame

    sim.controls[0, Control.MOVE_X] = 1.0
    for _ in range(40):
        sim.step()
    moved = renderer.render(sim.state)
    assert np.any(moved != frame, axis=2).mean() > 0.0005, "the player ran"


def test_the_camera_follows_the_player_and_stops_at_the_level_ends(sim: PlatformerSimulation) -> None:
    renderer = PlatformerRenderer((1280, 720))
    level = sim.level
    body = sim.state.player.body
    assert renderer.camera_left(sim.state) == 0.0  # at the start: the left end
    body.x = level.width / 2
    assert renderer.camera_left(sim.state) == pytest.approx(level.width / 2 - 0.4 * 1280)
    body.x = level.width - 10
    assert renderer.camera_left(sim.state) == level.width - 1280
    body.x = 400.0  # the player is drawn where it stands (the camera at the left end)
    frame = renderer.render(sim.state)
    assert tuple(frame[int(body.y) - 20, 400]) == renderer.palette.player


def test_it_looks_unlike_the_arena(sim: PlatformerSimulation) -> None:
    """A bright sky over green and brown, where the arena is a dark navy floor."""
    arena = ArenaSimulation(1, ArenaConfig())
    arena.reset(np.array([3], dtype=np.uint64))
    arena_frame = ArenaRenderer((84, 84)).render(arena.state, 0).astype(float)
    ours = PlatformerRenderer((84, 84)).render(sim.state).astype(float)
    assert ours.mean() > 120 and arena_frame.mean() < 70
    assert np.abs(ours.mean(axis=(0, 1)) - arena_frame.mean(axis=(0, 1))).sum() > 200
    sky = ours[:20].reshape(-1, 3).mean(axis=0)  # the top quarter: sky blue
    assert sky[2] > 200 and sky[2] > sky[0] + 60
    ground = ours[-8:].reshape(-1, 3).mean(axis=0)  # the bottom rows: brown earth
    assert ground[0] > ground[2] + 30


def test_talking_npcs_and_name_tags_show(sim: PlatformerSimulation) -> None:
    renderer = PlatformerRenderer((1280, 720))
    quiet = renderer.render(sim.state)
    sim.state.talking[0] = 30
    talking = renderer.render(sim.state)
    npc = sim.level.friendlies[0]
    changed = np.argwhere(np.any(quiet != talking, axis=2))
    assert len(changed) > 50 and changed[:, 0].max() < npc.y - 64, "a speech bubble over the name tag"


def test_draw_onto_a_window_sized_surface(sim: PlatformerSimulation) -> None:
    surface = pygame.Surface((320, 180))
    PlatformerRenderer((320, 180)).draw(surface, sim.state)
    assert surface_pixels(surface).std() > 10
    with pytest.raises(ValueError, match="renderer draws"):
        PlatformerRenderer((320, 180)).draw(pygame.Surface((100, 100)), sim.state)
    with pytest.raises(ValueError, match="at least 8x8"):
        PlatformerRenderer((4, 4))
