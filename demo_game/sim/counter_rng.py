"""Counter-based random numbers for the kernels.

A draw is a pure function of ``(arena key, tick, stream)``: no generator state is
carried between ticks or shared between arenas. Arena i of a batch therefore draws
exactly the numbers a lone arena with the same key draws, whatever the batch size
(the vectorised env's equality with single envs rests on this). The key of an episode
comes from the env's seeded ``np.random.Generator`` at reset.

Each consumer owns a range of stream numbers (:class:`Stream`) and adds its own
offset, so no two draws in a tick share a stream.
"""

from __future__ import annotations

import enum
import math

import numpy as np

from demo_game.sim.jit import kernel

_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_STREAM = np.uint64(0xD1B54A32D192ED03)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_INV_2_53 = 1.0 / 9007199254740992.0


class Stream(enum.IntEnum):
    """First stream number of each consumer of random numbers."""

    RESET = 0
    """Arena set-up at the start of a match."""
    PICKUPS = 1_000
    """Pickup respawns (one stream per pickup slot)."""
    STYLES = 100_000
    """Scripted styles: ``STYLES + 1000 * actor + draw``."""
    ACTIONS = 200_000
    """Turning env actions into controls: ``ACTIONS + 100 * actor + draw``."""


@kernel
def mix64(z: np.uint64) -> np.uint64:
    """SplitMix64's finaliser: a bijective scramble of 64 bits."""
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@kernel
def uniform(key: np.uint64, tick: int, stream: int) -> float:
    """Return a float uniform in [0, 1) determined by ``(key, tick, stream)``."""
    z = mix64(key + np.uint64(tick) * _GOLDEN + np.uint64(stream) * _STREAM)
    return float(z >> _S11) * _INV_2_53


@kernel
def normal(key: np.uint64, tick: int, stream: int) -> float:
    """Return a standard normal draw (Box-Muller over streams ``stream`` and ``stream + 1``)."""
    u1 = uniform(key, tick, stream)
    u2 = uniform(key, tick, stream + 1)
    return math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)


def key_from_generator(rng: np.random.Generator) -> np.uint64:
    """Draw an episode key from a seeded generator (one draw per reset)."""
    return np.uint64(rng.integers(0, 2**63, dtype=np.int64))
