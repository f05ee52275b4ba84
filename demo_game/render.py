"""Drawing an arena with pygame, at any size.

One drawing routine serves the 640x480 window a person sees and the 84x84 frames a
model sees: world coordinates are scaled to the target surface. Nothing here needs a
display; surfaces are off-screen until the app blits one to its window. Text (names,
HUD) is the app's layer, drawn on top.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt
import pygame

from demo_game.colour import Colour
from demo_game.sim.fields import ActorField, ArenaField, BulletField, FriendlyField, PickupField, PickupKind
from demo_game.sim.layouts import ARENA_HEIGHT, ARENA_WIDTH, layout_wall_rows
from demo_game.sim.rules import ArenaRules
from demo_game.sim.state import ArenaState


@dataclasses.dataclass(frozen=True)
class Palette:
    """Colours of the arena."""

    floor: Colour = (28, 32, 46)
    grid: Colour = (36, 41, 58)
    wall: Colour = (92, 101, 124)
    wall_top: Colour = (128, 138, 162)
    wall_shadow: Colour = (18, 20, 30)
    player: Colour = (79, 195, 247)
    enemy: Colour = (239, 83, 80)
    dead: Colour = (70, 70, 80)
    hurt: Colour = (255, 255, 255)
    outline: Colour = (12, 14, 22)
    player_bullet: Colour = (225, 245, 254)
    enemy_bullet: Colour = (255, 171, 145)
    health: Colour = (102, 187, 106)
    coin: Colour = (255, 213, 79)
    friendlies: tuple[Colour, ...] = ((255, 167, 38), (171, 71, 188))
    """One colour per friendly NPC slot."""
    talk: Colour = (255, 255, 255)
    health_bar: Colour = (102, 187, 106)
    health_bar_back: Colour = (60, 20, 24)


def surface_to_array(surface: pygame.Surface) -> npt.NDArray[np.uint8]:
    """Return a copy of the surface's pixels as (height, width, 3) uint8 RGB."""
    width, height = surface.get_size()
    raw = pygame.image.tobytes(surface, "RGB")
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).copy()


class ArenaRenderer:
    """Draws one arena of an :class:`ArenaState` onto surfaces of one size.

    Example:
        >>> renderer = ArenaRenderer((84, 84))
        >>> frame = renderer.render(sim.state, index=0)  # (84, 84, 3) uint8
    """

    def __init__(
        self, size: tuple[int, int], rules: ArenaRules | None = None, palette: Palette | None = None
    ) -> None:
        """Prepare drawing at ``size`` = (width, height) pixels.

        Raises:
            ValueError: If the size is smaller than 8x8 pixels.
        """
        width, height = size
        if width < 8 or height < 8:
            raise ValueError(f"render size must be at least 8x8, got {size}")
        self.size = (int(width), int(height))
        self.rules = rules or ArenaRules()
        self.palette = palette or Palette()
        self._sx = width / ARENA_WIDTH
        self._sy = height / ARENA_HEIGHT
        self._scale = min(self._sx, self._sy)
        self._detailed = self._scale >= 0.5  # outlines and health bars only where they are visible
        self._backgrounds: dict[int, pygame.Surface] = {}
        self._surface = pygame.Surface(self.size)

    def _point(self, x: float, y: float) -> tuple[int, int]:
        return int(x * self._sx), int(y * self._sy)

    def _radius(self, world_radius: float) -> int:
        return max(1, round(world_radius * self._scale))

    def _background(self, layout: int) -> pygame.Surface:
        cached = self._backgrounds.get(layout)
        if cached is not None:
            return cached
        pal = self.palette
        surface = pygame.Surface(self.size)
        surface.fill(pal.floor)
        if self._detailed:
            step = 40
            for gx in range(step, int(ARENA_WIDTH), step):
                pygame.draw.line(surface, pal.grid, self._point(gx, 0), self._point(gx, ARENA_HEIGHT))
            for gy in range(step, int(ARENA_HEIGHT), step):
                pygame.draw.line(surface, pal.grid, self._point(0, gy), self._point(ARENA_WIDTH, gy))
        for x0, y0, x1, y1 in layout_wall_rows(layout):
            left, top = self._point(x0, y0)
            right, bottom = self._point(x1, y1)
            rect = pygame.Rect(left, top, max(right - left, 1), max(bottom - top, 1))
            if self._detailed:
                shadow = rect.move(self._radius(4), self._radius(4))
                pygame.draw.rect(surface, pal.wall_shadow, shadow)
            pygame.draw.rect(surface, pal.wall, rect)
            if self._detailed:
                pygame.draw.rect(surface, pal.wall_top, rect.inflate(-self._radius(8), -self._radius(8)))
        self._backgrounds[layout] = surface
        return surface

    def draw(self, surface: pygame.Surface, state: ArenaState, index: int = 0) -> None:
        """Draw arena ``index`` of ``state`` over the whole of ``surface``.

        Raises:
            ValueError: If the surface is not this renderer's size.
        """
        if surface.get_size() != self.size:
            raise ValueError(f"surface is {surface.get_size()}, renderer draws {self.size}")
        pal = self.palette
        layout = int(state.arena[index, ArenaField.LAYOUT])
        surface.blit(self._background(layout), (0, 0))

        for pickup in state.pickups[index]:
            if pickup[PickupField.ACTIVE] < 0.5:
                continue
            centre = self._point(pickup[PickupField.X], pickup[PickupField.Y])
            radius = self._radius(self.rules.pickup_radius)
            if pickup[PickupField.KIND] == PickupKind.HEALTH:
                arm = max(radius // 3, 1)
                pygame.draw.rect(
                    surface, pal.health, (centre[0] - radius, centre[1] - arm, 2 * radius, 2 * arm)
                )
                pygame.draw.rect(
                    surface, pal.health, (centre[0] - arm, centre[1] - radius, 2 * arm, 2 * radius)
                )
            else:
                pygame.draw.circle(surface, pal.coin, centre, radius)
                if self._detailed:
                    pygame.draw.circle(surface, pal.outline, centre, radius, 2)

        for slot, friendly in enumerate(state.friendlies[index]):
            centre = self._point(friendly[FriendlyField.X], friendly[FriendlyField.Y])
            radius = self._radius(self.rules.actor_radius)
            colour = pal.friendlies[slot % len(pal.friendlies)]
            if friendly[FriendlyField.TALK] > 0.0:
                pygame.draw.circle(
                    surface, pal.talk, centre, radius + self._radius(5), max(1, self._radius(2))
                )
            pygame.draw.circle(surface, colour, centre, radius)
            if self._detailed:
                pygame.draw.circle(surface, pal.outline, centre, radius, 2)

        for a, actor in enumerate(state.actors[index]):
            self._draw_actor(surface, a, actor)

        for bullet in state.bullets[index]:
            owner = bullet[BulletField.OWNER]
            if owner < 0:
                continue
            colour = pal.player_bullet if owner == 0 else pal.enemy_bullet
            centre = self._point(bullet[BulletField.X], bullet[BulletField.Y])
            pygame.draw.circle(surface, colour, centre, self._radius(self.rules.bullet_radius))

    def _draw_actor(self, surface: pygame.Surface, a: int, actor: npt.NDArray[np.float64]) -> None:
        pal = self.palette
        centre = self._point(actor[ActorField.X], actor[ActorField.Y])
        radius = self._radius(self.rules.actor_radius)
        if actor[ActorField.ALIVE] < 0.5:
            pygame.draw.circle(surface, pal.dead, centre, radius, max(1, self._radius(3)))
            return
        colour = pal.player if a == 0 else pal.enemy
        if actor[ActorField.HURT] > 0.0:
            colour = pal.hurt
        if actor[ActorField.DASH_LEFT] > 0.0:  # an after-image behind a dashing actor
            tail = self._point(
                actor[ActorField.X] - 2 * actor[ActorField.VX], actor[ActorField.Y] - 2 * actor[ActorField.VY]
            )
            pygame.draw.circle(surface, tuple(c // 2 for c in colour), tail, radius)
        aim = actor[ActorField.AIM]
        barrel = self.rules.actor_radius * 1.6
        tip = self._point(
            actor[ActorField.X] + math.cos(aim) * barrel, actor[ActorField.Y] + math.sin(aim) * barrel
        )
        pygame.draw.line(surface, colour, centre, tip, max(1, self._radius(4)))
        pygame.draw.circle(surface, colour, centre, radius)
        if not self._detailed:
            return
        pygame.draw.circle(surface, pal.outline, centre, radius, 2)
        max_health = self.rules.player_health if a == 0 else self.rules.enemy_health
        fraction = max(0.0, min(1.0, actor[ActorField.HEALTH] / max_health))
        bar = pygame.Rect(0, 0, 2 * radius + 4, max(2, self._radius(4)))
        bar.midbottom = (centre[0], centre[1] - radius - self._radius(4))
        pygame.draw.rect(surface, pal.health_bar_back, bar)
        pygame.draw.rect(surface, pal.health_bar, (bar.x, bar.y, round(bar.width * fraction), bar.height))

    def render(self, state: ArenaState, index: int = 0) -> npt.NDArray[np.uint8]:
        """Draw arena ``index`` on an internal surface and return it as (height, width, 3) uint8."""
        self.draw(self._surface, state, index)
        return surface_to_array(self._surface)
