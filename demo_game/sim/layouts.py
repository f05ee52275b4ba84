"""Wall layouts of the arena.

A layout is up to :data:`MAX_WALLS` axis-aligned rectangles ``(x0, y0, x1, y1)`` in world
units of the 640x480 arena, plus the spots where pickups appear (as in arena shooters,
items respawn at fixed spots, which gives collectors a route to run). The friendly NPCs
stand at the same spots in every layout. Unused
wall slots are all zeros (``x1 <= x0`` marks an empty slot). Walls are at least 30 units
thick so that no actor or bullet can step through one in a tick.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.sim.jit import kernel

ARENA_WIDTH: Final = 640.0
"""Width of the arena, world units."""
ARENA_HEIGHT: Final = 480.0
"""Height of the arena, world units."""
MAX_WALLS: Final = 8
MAX_FRIENDLIES: Final = 2
PICKUP_SPOTS_PER_LAYOUT: Final = 8

#: Layout names, in the order of :data:`LAYOUT_WALLS`.
LAYOUT_NAMES: Final[tuple[str, ...]] = ("pillars", "crossroads", "trenches", "bunkers")

_WALLS: Final[list[list[tuple[float, float, float, float]]]] = [
    # pillars: four pillars and a centre block
    [
        (140, 120, 180, 160), (460, 120, 500, 160), (140, 320, 180, 360), (460, 320, 500, 360),
        (290, 210, 350, 270),
    ],
    # crossroads: a broken cross in the middle
    [(300, 110, 340, 200), (300, 280, 340, 370), (180, 222, 260, 258), (380, 222, 460, 258)],
    # trenches: two long covers and two side walls
    [(110, 90, 150, 210), (490, 270, 530, 390), (230, 330, 410, 362), (230, 118, 410, 150)],
    # bunkers: an L-shaped bunker in each corner
    [
        (120, 100, 220, 130), (120, 130, 150, 190), (420, 100, 520, 130), (490, 130, 520, 190),
        (120, 350, 220, 380), (120, 290, 150, 350), (420, 350, 520, 380), (490, 290, 520, 350),
    ],
]  # fmt: skip

#: Walls of every layout: (len(LAYOUT_NAMES), MAX_WALLS, 4) float64, (x0, y0, x1, y1).
LAYOUT_WALLS: Final[npt.NDArray[np.float64]] = np.zeros((len(_WALLS), MAX_WALLS, 4), dtype=np.float64)
for _index, _walls in enumerate(_WALLS):
    LAYOUT_WALLS[_index, : len(_walls)] = _walls
LAYOUT_WALLS.setflags(write=False)

#: How many wall slots of each layout are used (the rest are empty).
LAYOUT_WALL_COUNTS: Final[npt.NDArray[np.int64]] = np.array([len(w) for w in _WALLS], dtype=np.int64)
LAYOUT_WALL_COUNTS.setflags(write=False)


def layout_wall_rows(layout: int) -> npt.NDArray[np.float64]:
    """The walls of one layout, without its empty slots: (count, 4) float64."""
    return LAYOUT_WALLS[layout, : LAYOUT_WALL_COUNTS[layout]]


#: :func:`layout_wall_rows` for the kernels (compiled code cannot hand an array back to
#: Python: see :mod:`demo_game.sim.jit`; Python code calls ``layout_wall_rows``).
layout_walls = kernel(layout_wall_rows)


_PICKUP_SPOTS: Final[list[list[tuple[float, float]]]] = [
    [(320, 130), (320, 350), (60, 240), (580, 240), (230, 240), (410, 240), (90, 420), (550, 60)],
    [(320, 240), (220, 160), (420, 160), (220, 320), (420, 320), (60, 240), (580, 240), (160, 420)],
    [(320, 240), (200, 240), (440, 240), (60, 300), (580, 180), (180, 410), (460, 70), (60, 60)],
    [(185, 165), (455, 165), (185, 315), (455, 315), (320, 240), (60, 240), (580, 240), (320, 150)],
]

#: Where pickups (re)appear in each layout: (len(LAYOUT_NAMES), PICKUP_SPOTS_PER_LAYOUT, 2).
LAYOUT_PICKUP_SPOTS: Final[npt.NDArray[np.float64]] = np.array(_PICKUP_SPOTS, dtype=np.float64)
LAYOUT_PICKUP_SPOTS.setflags(write=False)

#: Where the friendly NPCs stand: (MAX_FRIENDLIES, 2) world units, the same in every layout.
FRIENDLY_SPOTS: Final[npt.NDArray[np.float64]] = np.array([(320.0, 52.0), (320.0, 428.0)])
FRIENDLY_SPOTS.setflags(write=False)
