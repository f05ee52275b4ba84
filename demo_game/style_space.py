"""What the demo games' scripted player styles share: a style as a box of parameter ranges.

A :class:`Style` names a range for each parameter of a game's style vector;
:func:`make_style` builds one from the game's defaults, and :func:`sample_style` draws the
parameter vector of one player of a style (each game then applies its own skill). Light:
numpy only, no game simulation, no compiled kernels, no pygame.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclasses.dataclass(frozen=True)
class Style:
    """A named player style: per-parameter ranges that sampled players fall in."""

    name: str
    """The style's label (one of :data:`gameai.vocabulary.BEHAVIOURS` for player styles)."""
    low: tuple[float, ...]
    """Lower end of each style parameter, at skill 0.5."""
    high: tuple[float, ...]
    """Upper end of each style parameter, at skill 0.5."""


def make_style(
    name: str,
    params: Iterable[enum.Enum],
    defaults: Mapping[str, tuple[float, float]],
    ranges: Mapping[str, tuple[float, float]],
) -> Style:
    """A style whose parameters take ``ranges``, and ``defaults`` where it names none.

    Args:
        name: The style's name.
        params: The game's style parameters, in vector order.
        defaults: Every parameter's default range, by parameter name.
        ranges: The style's own ranges, by parameter name.

    Raises:
        KeyError: If ``ranges`` names a parameter ``defaults`` lacks.
    """
    unknown = set(ranges) - set(defaults)
    if unknown:
        raise KeyError(f"unknown style parameters: {sorted(unknown)}")
    merged = {**defaults, **ranges}
    params = list(params)
    low = tuple(float(merged[p.name][0]) for p in params)
    high = tuple(float(merged[p.name][1]) for p in params)
    return Style(name, low, high)


@functools.cache
def _low_and_span(style: Style) -> tuple[FloatArray, FloatArray]:
    """A style's lower ends and ``high - low`` as arrays (made once: envs sample a player per reset)."""
    low = np.array(style.low)
    span = np.array(style.high) - low
    low.setflags(write=False)
    span.setflags(write=False)
    return low, span


def sample_style(
    style: Style | str,
    styles: Mapping[str, Style],
    rng: np.random.Generator,
    skill: float,
    variation: tuple[float, float],
) -> FloatArray:
    """Draw one player's parameters from a style's box (the game applies the skill after).

    Args:
        style: A :class:`Style` or the name of one in ``styles``.
        styles: The game's styles, by name.
        rng: Source of each parameter's position within its range.
        skill: 0 (weak) .. 1 (strong); only checked here.
        variation: Sub-range of each parameter's range to draw from, as fractions.

    Returns:
        (len(style.low),) float64, a new array.

    Raises:
        KeyError: If the style name is unknown.
        ValueError: If skill or variation is out of [0, 1].
    """
    if isinstance(style, str):
        if style not in styles:
            raise KeyError(f"unknown style {style!r}; choose from {sorted(styles)}")
        style = styles[style]
    if not 0.0 <= skill <= 1.0:
        raise ValueError(f"skill must be in [0, 1], got {skill}")
    lo_frac, hi_frac = variation
    if not 0.0 <= lo_frac <= hi_frac <= 1.0:
        raise ValueError(f"variation must satisfy 0 <= low <= high <= 1, got {variation}")
    low, span = _low_and_span(style)
    params: FloatArray = low + rng.uniform(lo_frac, hi_frac, size=len(low)) * span
    return params
