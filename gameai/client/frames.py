"""The one function that turns a game's picture into what the behaviour model sees.

The client sends, and the behaviour training recorder stores, frames made by
:func:`downscale_frame`, so training sees exactly what the server receives.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pygame


def downscale_frame(image: pygame.Surface | np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Downscale a surface or an RGB image with pygame's ``smoothscale``.

    The game passes its world surface (not the HUD). Steps: wrap an array as a surface
    (or take the surface), copy it onto a 32-bit surface if it is not 24/32-bit,
    ``pygame.transform.smoothscale`` to ``size``, read the pixels back with
    ``pygame.image.tobytes(..., "RGB")``. Alpha is dropped. (smoothscale may use SIMD;
    ``pygame.transform.get_smoothscale_backend()`` says which.)

    Args:
        image: A ``pygame.Surface``, or an ``(H, W, 3)`` uint8 RGB array, top row first.
        size: Target ``(width, height)`` in pixels, pygame's order (e.g. ``welcome.behaviour``'s
            width and height).

    Returns:
        ``(height, width, 3)`` uint8 RGB, a new writable array.

    Raises:
        ValueError: If an array is not ``(H, W, 3)`` uint8 or ``size`` is not positive.
    """
    import pygame

    width, height = size
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {size}")
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected (H, W, 3) uint8, got {image.shape} {image.dtype}")
        rows, cols = image.shape[:2]
        surface = pygame.image.frombuffer(np.ascontiguousarray(image).tobytes(), (cols, rows), "RGB")
    else:
        surface = image
    if surface.get_bitsize() not in (24, 32):
        widened = pygame.Surface(surface.get_size(), 0, 32)
        widened.blit(surface, (0, 0))
        surface = widened
    scaled = surface if surface.get_size() == (width, height) else pygame.transform.smoothscale(surface, size)
    data = pygame.image.tobytes(scaled, "RGB")
    return np.frombuffer(bytearray(data), dtype=np.uint8).reshape(height, width, 3)
