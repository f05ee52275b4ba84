"""The colour type both demo games draw with (light: imports neither game's simulation)."""

from __future__ import annotations

Colour = tuple[int, int, int]
"""An RGB colour, each channel 0 to 255."""
