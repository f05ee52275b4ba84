"""Moving scenes that are not any one game: the "other scenes" a frame look is calibrated against.

:func:`other_scene_windows` draws windows of K frames of scenes of many looks (flat or
gradient backgrounds with moving shapes, textures, tiled and scrolling patterns, page-like
text blocks, dark and bright screens), at a few times the frame size with pygame and
downscaled with :func:`gameai.client.frames.downscale_frame`, the function clients send frames
with. They only measure how well a look's threshold separates a game from things that are
not it; the tests judge the ``unknown`` test on scenes written apart from these
(``gameai/testing/alien_scenes.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt

from gameai.client.frames import downscale_frame

#: How many times the frame size a scene is drawn at before it is downscaled.
DRAW_SCALE = 4

SceneDrawer = Callable[[np.random.Generator, int, int, int], Iterator[npt.NDArray[np.uint8]]]
"""``(rng, width, height, frames)`` -> that many ``(height, width, 3)`` uint8 drawings."""


def _colour(rng: np.random.Generator) -> tuple[int, int, int]:
    return (int(rng.integers(0, 256)), int(rng.integers(0, 256)), int(rng.integers(0, 256)))


def _surface_pixels(surface: object) -> npt.NDArray[np.uint8]:
    import pygame

    assert isinstance(surface, pygame.Surface)
    return np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))


def _shapes(
    rng: np.random.Generator, width: int, height: int, frames: int
) -> Iterator[npt.NDArray[np.uint8]]:
    """A flat or two-tone background with shapes moving in straight lines."""
    import pygame

    background = _colour(rng)
    count = int(rng.integers(1, 12))
    positions = rng.uniform(0, 1, (count, 2)) * (width, height)
    speeds = rng.normal(0, width / 40, (count, 2))
    sizes = rng.uniform(width / 60, width / 8, count)
    colours = [_colour(rng) for _ in range(count)]
    squares = rng.random(count) < 0.5
    surface = pygame.Surface((width, height))
    for _ in range(frames):
        surface.fill(background)
        for i in range(count):
            x, y = positions[i]
            if squares[i]:
                pygame.draw.rect(
                    surface, colours[i], (x - sizes[i], y - sizes[i], 2 * sizes[i], 2 * sizes[i])
                )
            else:
                pygame.draw.circle(surface, colours[i], (x, y), sizes[i])
        positions = (positions + speeds) % (width, height)
        yield _surface_pixels(surface)


def _gradient(
    rng: np.random.Generator, width: int, height: int, frames: int
) -> Iterator[npt.NDArray[np.uint8]]:
    """A vertical colour gradient (a sky) over a band of ground, with a scrolling row of blocks."""
    top, bottom, ground, block = (np.array(_colour(rng), np.float32) for _ in range(4))
    t = np.linspace(0, 1, height, dtype=np.float32)[:, None, None]
    sky = np.broadcast_to((1 - t) * top + t * bottom, (height, width, 3)).astype(np.uint8)
    ground_from = int(height * rng.uniform(0.6, 0.9))
    period = int(rng.integers(width // 8, width // 3))
    offset = 0
    for _ in range(frames):
        image = sky.copy()
        image[ground_from:] = ground
        columns = (np.arange(width) + offset) % period < period // 3
        image[ground_from - period // 4 : ground_from, columns] = block
        offset += int(rng.integers(1, max(2, width // 30)))
        yield image


def _texture(
    rng: np.random.Generator, width: int, height: int, frames: int
) -> Iterator[npt.NDArray[np.uint8]]:
    """Smoothed colour noise drifting across the screen (grass, water, a photo's grain)."""
    coarse = rng.integers(0, 256, (height // 8 + 2, width // 8 + 2, 3)).astype(np.uint8)
    texture = np.repeat(np.repeat(coarse, 8, axis=0), 8, axis=1)
    dx, dy = (int(v) for v in rng.integers(-3, 4, 2))
    for step in range(frames):
        shifted = np.roll(texture, (step * dy, step * dx), axis=(0, 1))
        yield np.ascontiguousarray(shifted[:height, :width])


def _tiles(rng: np.random.Generator, width: int, height: int, frames: int) -> Iterator[npt.NDArray[np.uint8]]:
    """A scrolling floor of tiles in two or three colours (a top-down or puzzle game)."""
    palette = np.array([_colour(rng) for _ in range(int(rng.integers(2, 4)))], np.uint8)
    tile = int(rng.integers(width // 16, width // 4))
    rows, cols = height // tile + 2, width // tile + 2
    layout = rng.integers(0, len(palette), (rows, cols))
    image = palette[np.repeat(np.repeat(layout, tile, axis=0), tile, axis=1)]
    for step in range(frames):
        yield np.ascontiguousarray(image[step % tile : step % tile + height, :width])


def _page(rng: np.random.Generator, width: int, height: int, frames: int) -> Iterator[npt.NDArray[np.uint8]]:
    """A page: a light or dark background with lines of text-like blocks and a moving pointer."""
    light = rng.random() < 0.6
    background = (int(rng.integers(220, 256)),) * 3 if light else (int(rng.integers(0, 40)),) * 3
    ink = np.array(_colour(rng) if rng.random() < 0.3 else ((20, 20, 20) if light else (230, 230, 230)))
    image = np.empty((height, width, 3), np.uint8)
    image[:] = background
    line = max(4, height // int(rng.integers(12, 30)))
    for top in range(line, height - line, 2 * line):
        left = 0
        while left < width - line:
            word = int(rng.integers(line, 5 * line))
            image[top : top + line, left : min(width, left + word)] = ink
            left += word + line
    x, y = rng.uniform(0, 1, 2) * (width, height)
    vx, vy = rng.normal(0, width / 50, 2)
    size = max(3, width // 40)
    for _ in range(frames):
        frame = image.copy()
        xi, yi = int(x) % width, int(y) % height
        frame[yi : yi + size, xi : xi + size] = 255 - ink
        x, y = x + vx, y + vy
        yield frame


def _screen(
    rng: np.random.Generator, width: int, height: int, frames: int
) -> Iterator[npt.NDArray[np.uint8]]:
    """A near-uniform screen (a loading or pause screen, a fade) with a little flicker."""
    base = np.array(_colour(rng) if rng.random() < 0.5 else ((int(rng.integers(0, 30)),) * 3), np.int16)
    for _ in range(frames):
        noise = rng.integers(-6, 7, (height, width, 3))
        yield np.clip(base + noise, 0, 255).astype(np.uint8)


SCENES: dict[str, SceneDrawer] = {
    "shapes": _shapes,
    "gradient": _gradient,
    "texture": _texture,
    "tiles": _tiles,
    "page": _page,
    "screen": _screen,
}
"""Every kind of scene, by name."""


def other_scene_windows(
    count: int, frames_per_window: int, frame_size: tuple[int, int], seed: int
) -> tuple[npt.NDArray[np.uint8], list[str]]:
    """``count`` windows ``(count, K, H, W, 3)`` of other scenes (kinds in turn), and each one's kind.

    Args:
        count: Windows to draw.
        frames_per_window: K.
        frame_size: ``(height, width)`` of each frame after downscaling.
        seed: Seeds every scene's random draws.
    """
    height, width = frame_size
    rng = np.random.default_rng(seed)
    names = list(SCENES)
    windows = np.empty((count, frames_per_window, height, width, 3), np.uint8)
    kinds = []
    for index in range(count):
        name = names[index % len(names)]
        drawings = SCENES[name](rng, width * DRAW_SCALE, height * DRAW_SCALE, frames_per_window)
        for k, drawing in enumerate(drawings):
            windows[index, k] = downscale_frame(drawing, (width, height))
        kinds.append(name)
    return windows, kinds
