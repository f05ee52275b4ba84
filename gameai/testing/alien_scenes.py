"""Little games that are not the arena, drawn for the tests of the ``unknown`` label only.

Written apart from ``gameai.training.behaviour.other_scenes`` (what a look is calibrated
against), so that the tests do not grade the look on the scenes it was tuned with. Each game is
played for a few seconds at the demo's 960x720 and sent as clients send frames
(:func:`gameai.client.frames.downscale_frame`). ``dark_shooter`` is the hard one: its
background falls in the same colour bins as the arena's floor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import pygame

from gameai.client.frames import downscale_frame

SCREEN = (960, 720)


def _frames(
    draw: Callable[[pygame.Surface, int], None], count: int, size: tuple[int, int]
) -> Iterator[np.ndarray]:
    surface = pygame.Surface(SCREEN)
    for tick in range(count):
        draw(surface, tick)
        yield downscale_frame(surface, size)


def ball_dodger(rng: np.random.Generator) -> Callable[[pygame.Surface, int], None]:
    """A white ball dodging red blocks falling on black (the issue's pygame game)."""
    blocks = rng.uniform(0, 1, (8, 2)) * SCREEN
    speed = rng.uniform(8, 20, 8)
    ball_x = rng.uniform(100, 860)

    def draw(surface: pygame.Surface, tick: int) -> None:
        nonlocal ball_x
        surface.fill((0, 0, 0))
        blocks[:, 1] = (blocks[:, 1] + speed * 6) % SCREEN[1]
        for x, y in blocks:
            pygame.draw.rect(surface, (220, 40, 40), (x, y, 60, 30))
        ball_x = float(np.clip(ball_x + rng.normal(0, 30), 20, 940))
        pygame.draw.circle(surface, (255, 255, 255), (ball_x, 650), 22)
        pygame.draw.rect(surface, (255, 255, 255), (10, 10, 120 + tick % 50, 18))

    return draw


def browser_circles(rng: np.random.Generator) -> Callable[[pygame.Surface, int], None]:
    """A web page: header bar, paragraphs, and coloured circles moving over it."""
    circles = rng.uniform(0, 1, (6, 2)) * SCREEN
    velocity = rng.normal(0, 25, (6, 2))
    colours = [tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(6)]

    def draw(surface: pygame.Surface, tick: int) -> None:
        surface.fill((250, 250, 250))
        pygame.draw.rect(surface, (40, 90, 200), (0, 0, SCREEN[0], 70))
        for row in range(8):
            pygame.draw.rect(surface, (60, 60, 60), (60, 110 + row * 70, 600 + (row * 97) % 240, 14))
        circles[:] = (circles + velocity) % SCREEN
        for (x, y), colour in zip(circles, colours, strict=True):
            pygame.draw.circle(surface, colour, (x, y), 40)

    return draw


def dark_shooter(rng: np.random.Generator) -> Callable[[pygame.Surface, int], None]:
    """A space shooter on a dark blue-grey close to the arena's floor: stars, a ship, enemies."""
    stars = rng.uniform(0, 1, (60, 2)) * SCREEN
    enemies = rng.uniform(0, 1, (5, 2)) * (SCREEN[0], SCREEN[1] / 2)
    ship_x = 480.0

    def draw(surface: pygame.Surface, tick: int) -> None:
        nonlocal ship_x
        surface.fill((22, 34, 44))
        stars[:, 1] = (stars[:, 1] + 4) % SCREEN[1]
        for x, y in stars:
            surface.fill((200, 200, 210), (x, y, 3, 3))
        for x, y in enemies:
            pygame.draw.polygon(surface, (170, 90, 230), [(x, y + 30), (x - 25, y - 15), (x + 25, y - 15)])
        ship_x = float(np.clip(ship_x + rng.normal(0, 25), 40, 920))
        pygame.draw.polygon(surface, (250, 200, 60), [(ship_x, 620), (ship_x - 30, 680), (ship_x + 30, 680)])
        for shot in range(3):
            surface.fill((120, 255, 140), (ship_x - 2, 600 - ((tick * 40 + shot * 200) % 600), 4, 18))

    return draw


def platformer(rng: np.random.Generator) -> Callable[[pygame.Surface, int], None]:
    """A side view: sky, hills, ground tiles scrolling, a jumping hero and coins."""
    scroll = rng.uniform(0, 200)

    def draw(surface: pygame.Surface, tick: int) -> None:
        surface.fill((110, 180, 240))
        pygame.draw.circle(surface, (90, 160, 80), (300 - (tick * 2 + scroll) % 1200 + 600, 620), 260)
        for column in range(0, SCREEN[0] + 64, 64):
            x = column - (tick * 12 + scroll) % 64
            pygame.draw.rect(surface, (150, 90, 40), (x, 620, 62, 100))
            pygame.draw.rect(surface, (60, 170, 60), (x, 620, 62, 16))
        height = abs(np.sin(tick / 6)) * 160
        pygame.draw.rect(surface, (220, 50, 50), (300, 560 - height, 40, 60))
        for coin in range(4):
            pygame.draw.circle(surface, (250, 210, 0), (500 + coin * 90 - (tick * 12) % 90, 450), 14)

    return draw


def racer(rng: np.random.Generator) -> Callable[[pygame.Surface, int], None]:
    """A top-down racer: grass, a grey road with moving lane marks, cars."""
    cars = rng.uniform(330, 630, 3)

    def draw(surface: pygame.Surface, tick: int) -> None:
        surface.fill((50, 140, 50))
        pygame.draw.rect(surface, (90, 90, 95), (300, 0, 360, SCREEN[1]))
        for y in range(-80, SCREEN[1], 80):
            pygame.draw.rect(surface, (240, 240, 240), (476, y + (tick * 30) % 80, 8, 40))
        for index, x in enumerate(cars):
            pygame.draw.rect(surface, (30 + 90 * index, 60, 200), (x, 200 + index * 170, 40, 70))

    return draw


ALIEN_GAMES: dict[str, Callable[[np.random.Generator], Callable[[pygame.Surface, int], None]]] = {
    "ball_dodger": ball_dodger,
    "browser_circles": browser_circles,
    "dark_shooter": dark_shooter,
    "platformer": platformer,
    "racer": racer,
}


def alien_frames(game: str, seed: int, count: int, size: tuple[int, int] = (84, 84)) -> np.ndarray:
    """``(count, H, W, 3)`` frames of one play of ``game``, as a client sends them (``size`` = (w, h))."""
    draw = ALIEN_GAMES[game](np.random.default_rng(seed))
    return np.stack(list(_frames(draw, count, size)))
