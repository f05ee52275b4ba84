"""Drawing a platformer level with pygame, side-on, with a camera that follows the player.

The level's full height fills the surface; its width scrolls: the camera keeps the player
at 40% of the view from the left, clamped to the level's ends. One routine serves the
1280x720 window a person sees and small frames (say 84x84: a narrower slice of the level)
alike; nothing here needs a display, surfaces are off-screen until an app shows one.

The look is meant to be unlike the arena's dark top-down floor: a bright sky gradient with
parallax hills and clouds, green-topped brown ground, wooden ledges, bright gems, red
goblins, a blue player, robed NPCs with name tags and a flag.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pygame

from demo_game.colour import Colour
from demo_game.platformer.sim.level import LEVEL_HEIGHT, Level
from demo_game.platformer.sim.state import Body, PlatformerState


@dataclasses.dataclass(frozen=True)
class Palette:
    """Colours of the platformer."""

    sky_top: Colour = (72, 150, 232)
    sky_bottom: Colour = (196, 232, 252)
    far_hills: Colour = (150, 206, 178)
    near_hills: Colour = (112, 186, 128)
    cloud: Colour = (250, 252, 255)
    grass: Colour = (86, 178, 70)
    grass_light: Colour = (132, 210, 92)
    dirt: Colour = (132, 90, 58)
    dirt_dark: Colour = (104, 70, 46)
    ledge: Colour = (186, 128, 70)
    ledge_dark: Colour = (118, 78, 42)
    gems: tuple[Colour, ...] = ((0, 229, 255), (255, 64, 160), (255, 214, 0), (140, 90, 255))
    """Gem colours, in turn."""
    gem_shine: Colour = (255, 255, 255)
    player: Colour = (30, 110, 220)
    player_legs: Colour = (20, 70, 150)
    skin: Colour = (255, 206, 160)
    goblin: Colour = (214, 44, 44)
    goblin_dark: Colour = (150, 24, 24)
    eye: Colour = (255, 255, 255)
    pupil: Colour = (20, 20, 20)
    friendlies: tuple[Colour, ...] = ((142, 36, 170), (255, 143, 0))
    """One robe colour per friendly NPC."""
    tag_back: Colour = (30, 30, 40)
    tag_text: Colour = (255, 255, 255)
    bubble: Colour = (255, 255, 255)
    pole: Colour = (225, 225, 230)
    flag: Colour = (255, 82, 40)


BEHAVIOUR_VIEW_UNITS: Final = 480.0
"""Side of the square of the world around the player that Skyline sends to its behaviour model,
world units. The whole 1280x720 screen downscaled to the model's 84x84 leaves the player about
2x5 pixels (the first behaviour model, trained on whole screens, served macro-F1 0.55); this
square gives it about 4x7 and still shows more than a second of running either way."""


def surface_pixels(surface: pygame.Surface) -> npt.NDArray[np.uint8]:
    """A copy of the surface's pixels as (height, width, 3) uint8 RGB."""
    width, height = surface.get_size()
    raw = pygame.image.tobytes(surface, "RGB")
    return np.frombuffer(raw, dtype=np.uint8).reshape(height, width, 3).copy()


class PlatformerRenderer:
    """Draws a :class:`~demo_game.platformer.sim.state.PlatformerState` onto surfaces of one size.

    Example:
        >>> renderer = PlatformerRenderer((1280, 720))
        >>> frame = renderer.render(sim.state)  # (720, 1280, 3) uint8

    Args:
        size: (width, height) pixels; at least 8x8.
        palette: Colours.

    Raises:
        ValueError: If the size is smaller than 8x8 pixels.
    """

    def __init__(self, size: tuple[int, int], palette: Palette | None = None) -> None:
        width, height = size
        if width < 8 or height < 8:
            raise ValueError(f"render size must be at least 8x8, got {size}")
        self.size = (int(width), int(height))
        self.palette = palette or Palette()
        self.scale = height / LEVEL_HEIGHT
        """Pixels per world unit."""
        self.view_width = width / self.scale
        """How much of the level's width the surface shows, world units."""
        self._detailed = self.scale >= 0.4  # outlines, faces and name tags only where they show
        self._sky = self._make_sky()
        self._layers: dict[str, pygame.Surface] = {}
        self._font: pygame.font.Font | None = None
        self._surface = pygame.Surface(self.size)

    # ------------------------------------------------------------------ helpers
    def camera_left(self, state: PlatformerState, focus_x: float | None = None) -> float:
        """The world x at the surface's left edge: ``focus_x`` (the player by default) 40% from the left."""
        x = state.player.body.x if focus_x is None else focus_x
        return float(min(max(x - 0.4 * self.view_width, 0.0), max(state.level.width - self.view_width, 0.0)))

    def _rect(self, camera: float, x0: float, y0: float, x1: float, y1: float) -> pygame.Rect:
        s = self.scale
        left, top = round((x0 - camera) * s), round(y0 * s)
        return pygame.Rect(left, top, max(round((x1 - camera) * s) - left, 1), max(round(y1 * s) - top, 1))

    def _point(self, camera: float, x: float, y: float) -> tuple[int, int]:
        return round((x - camera) * self.scale), round(y * self.scale)

    def _points(self, camera: float, points: Sequence[tuple[float, float]]) -> list[tuple[int, int]]:
        return [self._point(camera, x, y) for x, y in points]

    def _px(self, units: float) -> int:
        return max(1, round(units * self.scale))

    def _make_sky(self) -> pygame.Surface:
        width, height = self.size
        top, bottom = np.array(self.palette.sky_top), np.array(self.palette.sky_bottom)
        fraction = np.linspace(0.0, 1.0, height)[:, None]
        rows = (top + (bottom - top) * fraction).astype(np.uint8)  # (H, 3)
        pixels = np.ascontiguousarray(np.broadcast_to(rows[:, None, :], (height, width, 3)))
        return pygame.image.frombuffer(pixels.tobytes(), (width, height), "RGB").copy()

    def _layer(self, name: str, period: float) -> pygame.Surface:
        """A transparent strip one view plus one ``period`` wide, repeating every ``period`` units."""
        cached = self._layers.get(name)
        if cached is not None:
            return cached
        pal = self.palette
        period_px = self._px(period)
        width, height = self.size
        strip = pygame.Surface((width + period_px, height), pygame.SRCALPHA)
        for start in range(0, width + period_px, period_px):
            if name == "far":
                for dx, radius in ((0.2, 260.0), (0.65, 200.0)):
                    centre = (start + round(dx * period_px), height - self._px(40))
                    pygame.draw.circle(strip, pal.far_hills, centre, self._px(radius))
            elif name == "near":
                for dx, radius in ((0.35, 170.0), (0.85, 120.0)):
                    centre = (start + round(dx * period_px), height + self._px(20))
                    pygame.draw.circle(strip, pal.near_hills, centre, self._px(radius))
            else:
                for dx, y, w in ((0.15, 90.0, 150.0), (0.6, 150.0, 110.0)):
                    box = pygame.Rect(0, 0, self._px(w), self._px(w * 0.35))
                    box.center = (start + round(dx * period_px), self._px(y))
                    pygame.draw.ellipse(strip, pal.cloud, box)
                    pygame.draw.ellipse(
                        strip,
                        pal.cloud,
                        box.inflate(-box.width // 3, box.height // 2).move(0, -box.height // 3),
                    )
        self._layers[name] = strip
        return strip

    def _font_for_tags(self) -> pygame.font.Font:
        if self._font is None:
            if not pygame.font.get_init():
                pygame.font.init()
            self._font = pygame.font.Font(None, max(12, round(22 * self.scale)))
        return self._font

    # ------------------------------------------------------------------ drawing
    def draw(self, surface: pygame.Surface, state: PlatformerState, focus_x: float | None = None) -> None:
        """Draw ``state`` over the whole of ``surface``, the camera on ``focus_x`` (the player by default).

        Raises:
            ValueError: If the surface is not this renderer's size.
        """
        if surface.get_size() != self.size:
            raise ValueError(f"surface is {surface.get_size()}, renderer draws {self.size}")
        camera = self.camera_left(state, focus_x)
        surface.blit(self._sky, (0, 0))
        for name, period, depth in (("clouds", 1100.0, 0.15), ("far", 900.0, 0.3), ("near", 700.0, 0.55)):
            period_px = self._px(period)
            offset = round(camera * depth * self.scale) % period_px
            surface.blit(self._layer(name, period), (-offset, 0))
        level = state.level
        self._draw_ground(surface, level, camera)
        self._draw_flag(surface, level, camera)
        for slot, npc in enumerate(level.friendlies):
            self._draw_friendly(surface, camera, slot, npc.x, npc.y, npc.title, int(state.talking[slot]))
        self._draw_gems(surface, state, camera)
        for goblin in state.goblins:
            if goblin.alive:
                self._draw_goblin(surface, camera, goblin.body)
        player = state.player
        if not (player.invulnerable > 0 and (player.invulnerable // 3) % 2 == 1):
            self._draw_player(surface, camera, player.body)

    def _visible(self, camera: float, x0: float, x1: float) -> bool:
        return x1 >= camera - 4.0 and x0 <= camera + self.view_width + 4.0

    def _draw_ground(self, surface: pygame.Surface, level: Level, camera: float) -> None:
        pal = self.palette
        for x0, y0, x1, y1 in level.solids.tolist():
            if not self._visible(camera, x0, x1):
                continue
            pygame.draw.rect(surface, pal.dirt, self._rect(camera, x0, y0, x1, y1))
            if self._detailed:
                for bx in range(int(x0) + 16, int(x1) - 8, 64):
                    for by in range(int(y0) + 30, int(y1), 40):
                        offset = 24 if (by // 40) % 2 else 0
                        stone = self._rect(camera, bx + offset, by, bx + offset + 14, by + 8)
                        if bx + offset + 14 < x1:
                            pygame.draw.rect(surface, pal.dirt_dark, stone)
            pygame.draw.rect(surface, pal.grass, self._rect(camera, x0, y0, x1, y0 + 12))
            pygame.draw.rect(surface, pal.grass_light, self._rect(camera, x0, y0, x1, y0 + 4))
        for x0, y0, x1, y1 in level.ledges.tolist():
            if not self._visible(camera, x0, x1):
                continue
            plank = self._rect(camera, x0, y0, x1, y1)
            pygame.draw.rect(surface, pal.ledge, plank)
            if self._detailed:
                pygame.draw.rect(surface, pal.ledge_dark, plank, max(1, self._px(2)))
                for bx in range(int(x0) + 32, int(x1), 32):
                    pygame.draw.line(
                        surface, pal.ledge_dark, self._point(camera, bx, y0), self._point(camera, bx, y1)
                    )
            pygame.draw.rect(surface, pal.grass, self._rect(camera, x0, y0, x1, y0 + 4))

    def _draw_flag(self, surface: pygame.Surface, level: Level, camera: float) -> None:
        pal = self.palette
        fx, fy = level.flag
        if not self._visible(camera, fx - 10, fx + 60):
            return
        pygame.draw.rect(surface, pal.pole, self._rect(camera, fx - 3, fy - 170, fx + 3, fy))
        cloth = [self._point(camera, fx + 3, fy - 168), self._point(camera, fx + 63, fy - 148),
                 self._point(camera, fx + 3, fy - 128)]  # fmt: skip
        pygame.draw.polygon(surface, pal.flag, cloth)
        pygame.draw.circle(surface, pal.flag, self._point(camera, fx, fy - 172), self._px(5))

    def _draw_gems(self, surface: pygame.Surface, state: PlatformerState, camera: float) -> None:
        pal = self.palette
        r = 11.0
        for g, (gx, gy) in enumerate(state.level.gems.tolist()):
            if state.gems_taken[g] or not self._visible(camera, gx - r, gx + r):
                continue
            points = [self._point(camera, gx, gy - r), self._point(camera, gx + r * 0.8, gy),
                      self._point(camera, gx, gy + r), self._point(camera, gx - r * 0.8, gy)]  # fmt: skip
            pygame.draw.polygon(surface, pal.gems[g % len(pal.gems)], points)
            if self._detailed:
                pygame.draw.circle(surface, pal.gem_shine, self._point(camera, gx - 3, gy - 4), self._px(2.5))

    def _draw_goblin(self, surface: pygame.Surface, camera: float, body: Body) -> None:
        pal = self.palette
        box = self._rect(camera, body.left, body.top, body.right, body.y)
        left, right, top = body.left, body.right, body.top
        for ear in (
            ((left + 2, top + 8), (left - 8, top - 2), (left + 8, top + 2)),
            ((right - 2, top + 8), (right + 8, top - 2), (right - 8, top + 2)),
        ):
            pygame.draw.polygon(surface, pal.goblin_dark, self._points(camera, ear))
        pygame.draw.rect(surface, pal.goblin, box, border_radius=self._px(8))
        if self._detailed:
            pygame.draw.rect(surface, pal.goblin_dark, box, max(1, self._px(2)), border_radius=self._px(8))
            for side in (-5.0, 5.0):
                eye = self._point(camera, body.x + side + 3 * body.facing, body.top + 11)
                pygame.draw.circle(surface, pal.eye, eye, self._px(4))
                pupil = self._point(camera, body.x + side + 5 * body.facing, body.top + 11)
                pygame.draw.circle(surface, pal.pupil, pupil, self._px(2))

    def _draw_player(self, surface: pygame.Surface, camera: float, body: Body) -> None:
        pal = self.palette
        pygame.draw.rect(
            surface, pal.player_legs, self._rect(camera, body.left + 3, body.y - 14, body.right - 3, body.y)
        )
        torso = self._rect(camera, body.left, body.top + 12, body.right, body.y - 12)
        pygame.draw.rect(surface, pal.player, torso, border_radius=self._px(4))
        head = self._rect(camera, body.left + 3, body.top, body.right - 3, body.top + 14)
        pygame.draw.rect(surface, pal.skin, head, border_radius=self._px(4))
        if self._detailed:
            eye = self._point(camera, body.x + 5 * body.facing, body.top + 6)
            pygame.draw.circle(surface, pal.pupil, eye, self._px(2))
            cap = self._rect(camera, body.left + 1, body.top - 4, body.right - 1, body.top + 3)
            pygame.draw.rect(surface, pal.player_legs, cap)

    def _draw_friendly(
        self, surface: pygame.Surface, camera: float, slot: int, x: float, y: float, title: str, talking: int
    ) -> None:
        if not self._visible(camera, x - 60, x + 60):
            return
        pal = self.palette
        robe = pal.friendlies[slot % len(pal.friendlies)]
        body = ((x - 14, y), (x + 14, y), (x + 8, y - 32), (x - 8, y - 32))
        pygame.draw.polygon(surface, robe, self._points(camera, body))
        pygame.draw.circle(surface, pal.skin, self._point(camera, x, y - 38), self._px(8))
        hat = ((x - 11, y - 42), (x + 11, y - 42), (x, y - 58))
        pygame.draw.polygon(surface, robe, self._points(camera, hat))
        if not self._detailed:
            return
        font = self._font_for_tags()
        text = font.render(title, True, pal.tag_text)
        tag = text.get_rect()
        tag.midbottom = self._point(camera, x, y - 64)
        pygame.draw.rect(surface, pal.tag_back, tag.inflate(8, 4), border_radius=4)
        surface.blit(text, tag)
        if talking > 0:
            bubble = pygame.Rect(0, 0, self._px(44), self._px(24))
            bubble.midbottom = (tag.centerx, tag.top - self._px(6))
            pygame.draw.ellipse(surface, pal.bubble, bubble)
            for k in (-1, 0, 1):
                pygame.draw.circle(
                    surface, pal.tag_back, (bubble.centerx + k * self._px(10), bubble.centery), self._px(2.5)
                )

    def behaviour_view(self, surface: pygame.Surface, state: PlatformerState) -> pygame.Surface:
        """The part of ``surface`` (drawn by :meth:`draw` with the camera on the player) sent to the
        behaviour model: a square of :data:`BEHAVIOUR_VIEW_UNITS` world units centred on the
        player's body, kept inside the surface (at the level's ends the player is off-centre).

        A subsurface: it shares ``surface``'s pixels, so it costs nothing until it is read.
        """
        width, height = surface.get_size()
        side = max(1, min(round(BEHAVIOUR_VIEW_UNITS * self.scale), width, height))
        body = state.player.body
        cx, cy = self._point(self.camera_left(state), body.x, body.y - body.height / 2)
        left = min(max(cx - side // 2, 0), width - side)
        top = min(max(cy - side // 2, 0), height - side)
        return surface.subsurface(pygame.Rect(left, top, side, side))

    def render(self, state: PlatformerState, focus_x: float | None = None) -> npt.NDArray[np.uint8]:
        """Draw ``state`` on an internal surface and return it as (height, width, 3) uint8."""
        self.draw(self._surface, state, focus_x)
        return surface_pixels(self._surface)
