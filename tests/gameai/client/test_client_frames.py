"""downscale_frame: the one downscale shared by the client and the behaviour training recorder."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from gameai.client.frames import downscale_frame


@pytest.fixture(autouse=True, scope="module")
def pygame_initialised() -> None:
    pygame.init()


def _scene(width: int = 640, height: int = 480) -> pygame.Surface:
    surface = pygame.Surface((width, height))
    surface.fill((200, 10, 30))
    pygame.draw.rect(surface, (0, 255, 0), pygame.Rect(0, 0, width // 2, height // 2))
    return surface


def test_shape_dtype_and_content() -> None:
    pixels = downscale_frame(_scene(), (84, 84))
    assert pixels.shape == (84, 84, 3) and pixels.dtype == np.uint8
    assert pixels.flags.writeable
    assert tuple(pixels[10, 10]) == pytest.approx((0, 255, 0), abs=3)  # top-left quarter is green
    assert tuple(pixels[70, 70]) == pytest.approx((200, 10, 30), abs=3)


def test_size_is_width_then_height() -> None:
    assert downscale_frame(_scene(), (96, 48)).shape == (48, 96, 3)


def test_array_and_surface_inputs_give_the_same_pixels() -> None:
    surface = _scene()
    array = np.ascontiguousarray(pygame.surfarray.array3d(surface).transpose(1, 0, 2))  # (H, W, 3)
    assert np.array_equal(downscale_frame(surface, (84, 84)), downscale_frame(array, (84, 84)))


def test_deterministic() -> None:
    assert np.array_equal(downscale_frame(_scene(), (84, 84)), downscale_frame(_scene(), (84, 84)))


def test_other_surface_formats() -> None:
    paletted = pygame.Surface((100, 100), 0, 8)
    alpha = pygame.Surface((100, 100), pygame.SRCALPHA, 32)
    alpha.fill((10, 20, 30, 128))
    assert downscale_frame(paletted, (84, 84)).shape == (84, 84, 3)
    assert tuple(downscale_frame(alpha, (84, 84))[5, 5]) == pytest.approx(
        (10, 20, 30), abs=5
    )  # alpha dropped; smoothscale rounds down a little


def test_same_size_is_a_plain_copy() -> None:
    array = np.random.default_rng(0).integers(0, 256, (84, 84, 3), dtype=np.uint8)
    assert np.array_equal(downscale_frame(array, (84, 84)), array)


def test_bad_inputs() -> None:
    with pytest.raises(ValueError):
        downscale_frame(np.zeros((10, 10), dtype=np.uint8), (84, 84))
    with pytest.raises(ValueError):
        downscale_frame(np.zeros((10, 10, 3), dtype=np.float32), (84, 84))
    with pytest.raises(ValueError):
        downscale_frame(_scene(), (0, 84))
