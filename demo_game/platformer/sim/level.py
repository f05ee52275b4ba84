"""Levels: ground, floating ledges, gems, goblin homes, friendly NPCs and the flag, made from a seed.

A level is a strip :attr:`Level.width` units wide and :data:`LEVEL_HEIGHT` high, run from
left to right: the player starts at the left on a flat plateau (where the shopkeeper
stands) and wins at the flag near the right end. Between them lie ground segments at up
to four heights, pits between some of them, floating one-way ledges (one or two tiers)
above some, gems on ledges, over pits and along the ground, and goblins patrolling
segments. Every jump the level asks for is within the player's reach at 3/4 speed.

The same seed always makes the same level (:func:`generate_level`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

TILE: Final = 32.0
"""Grid of the level's geometry, units."""
VIEW_WIDTH: Final = 1280.0
"""Width of the part of the level the window shows, units (the camera scrolls over the rest)."""
LEVEL_HEIGHT: Final = 720.0
"""Height of every level, units (the window shows all of it)."""
GROUND_TOP: Final = 624.0
"""Top of the lowest ground, units from the top; higher ground stands a tile or more above it."""
MAX_STEP_TILES: Final = 3
"""Ground stands 0..MAX_STEP_TILES tiles above :data:`GROUND_TOP`."""
LEDGE_THICKNESS: Final = 16.0


@dataclasses.dataclass(frozen=True)
class FriendlyNpc:
    """A friendly NPC standing in the level: someone the player can talk to."""

    card_id: str
    """Its NPC card id (the dialogue service's ``npc_id``)."""
    name: str
    """What the game calls it."""
    role: str
    """What it does (its card's role)."""
    x: float
    """Where it stands: the centre of its feet, units."""
    y: float

    @property
    def title(self) -> str:
        """Its name tag, e.g. "Odo the shopkeeper"."""
        return f"{self.name} the {self.role}"


#: The friendly NPCs of every level: card id, name and role (positions come from the level).
FRIENDLY_NPCS: Final[tuple[tuple[str, str, str], ...]] = (
    ("shopkeeper", "Odo", "shopkeeper"),
    ("guide", "Lark", "guide"),
)


@dataclasses.dataclass(frozen=True)
class LevelConfig:
    """How levels are made."""

    screens: float = 4.0
    """Level width in window widths (:data:`VIEW_WIDTH`)."""
    n_goblins: int = 5
    """Goblins in the level (fewer when there are not enough ground segments for them)."""
    goblin_zone: tuple[float, float] = (0.18, 0.9)
    """Part of the level's width, as fractions, where goblins live."""
    gap_chance: float = 0.5
    """Chance that a pit comes before a ground segment."""
    gap_tiles: tuple[int, int] = (2, 4)
    """Smallest and largest pit width, tiles."""
    segment_tiles: tuple[int, int] = (6, 14)
    """Smallest and largest ground segment length, tiles."""
    ledge_chance: float = 0.6
    """Chance that a ground segment has a floating ledge above it."""
    upper_ledge_chance: float = 0.4
    """Chance that a ledge has a second one above it."""
    ground_gem_chance: float = 0.35
    """Chance that a ground segment has a row of gems along it."""

    def __post_init__(self) -> None:
        if self.screens < 1.5:
            raise ValueError(f"screens must be >= 1.5, got {self.screens}")
        if self.n_goblins < 0:
            raise ValueError(f"n_goblins must be >= 0, got {self.n_goblins}")
        low, high = self.gap_tiles
        if not 1 <= low <= high <= 4:
            raise ValueError(
                f"gap_tiles must satisfy 1 <= low <= high <= 4 (the player's reach), got {low, high}"
            )
        if not 0.0 <= self.goblin_zone[0] < self.goblin_zone[1] <= 1.0:
            raise ValueError(f"goblin_zone must be fractions low < high, got {self.goblin_zone}")


@dataclasses.dataclass(frozen=True)
class Level:
    """The fixed geometry and contents of one level (read-only arrays)."""

    seed: int
    """The seed it was made from."""
    width: float
    """Width, units."""
    solids: FloatArray
    """(S, 4) ground blocks ``x0, y0, x1, y1`` (top-left, bottom-right), solid from every side."""
    ledges: FloatArray
    """(L, 4) floating ledges ``x0, y0, x1, y1``: one-way, a body lands on them from above only."""
    gems: FloatArray
    """(G, 2) gem centres ``x, y``."""
    goblin_homes: FloatArray
    """(E, 4) each goblin's home ``x, y`` (feet) and patrol range ``x_min, x_max``."""
    friendlies: tuple[FriendlyNpc, ...]
    """The friendly NPCs."""
    start: tuple[float, float]
    """Where the player starts (feet)."""
    flag: tuple[float, float]
    """The flag's foot: reaching its x wins the level."""

    @property
    def n_goblins(self) -> int:
        """E, the goblins of the level."""
        return int(self.goblin_homes.shape[0])

    @property
    def n_gems(self) -> int:
        """G, the gems of the level."""
        return int(self.gems.shape[0])

    def surface_below(self, x: float, feet_y: float, reach_up: float = 0.0) -> float | None:
        """The top of the highest ground or ledge under ``x`` at or below ``feet_y - reach_up``.

        Args:
            x: Where to look, units.
            feet_y: The height to look down from (a body's feet), units.
            reach_up: Also count surfaces up to this far above ``feet_y`` (a step the body could
                climb), units.

        Returns:
            The surface's y, or None over a pit.
        """
        best: float | None = None
        for rects in (self.solids, self.ledges):
            inside = (rects[:, 0] <= x) & (x <= rects[:, 2]) & (rects[:, 1] >= feet_y - reach_up)
            if inside.any():
                top = float(rects[inside, 1].min())
                best = top if best is None else min(best, top)
        return best

    def ground_top(self, x: float) -> float | None:
        """The top of the ground block under ``x`` (ledges not counted), or None over a pit."""
        inside = (self.solids[:, 0] <= x) & (x <= self.solids[:, 2])
        return float(self.solids[inside, 1].min()) if inside.any() else None


def _read_only(rows: Sequence[tuple[float, ...]], columns: int) -> FloatArray:
    array = np.array(rows, dtype=np.float64).reshape(-1, columns)
    array.setflags(write=False)
    return array


def _top(step: int) -> float:
    return GROUND_TOP - TILE * step


def generate_level(seed: int, config: LevelConfig | None = None) -> Level:
    """Make the level of ``seed``: the same seed and config always give the same level.

    Args:
        seed: Any int >= 0.
        config: How levels are made.

    Returns:
        The level.
    """
    config = config or LevelConfig()
    rng = np.random.default_rng(seed)
    width = float(round(config.screens * VIEW_WIDTH / TILE) * TILE)
    final_length = 20 * TILE  # the flag's plateau

    # Ground: a start plateau, then segments with pits and steps between them, then the flag's plateau.
    segments: list[tuple[float, float, float]] = [(0.0, 22 * TILE, _top(0))]  # x0, x1, top
    pits: list[tuple[float, float, float]] = []  # x0, x1, lower top of its two sides
    x, step = segments[0][1], 0
    while x < width - final_length - config.segment_tiles[0] * TILE:
        gap = 0
        if rng.random() < config.gap_chance:
            gap = int(rng.integers(config.gap_tiles[0], config.gap_tiles[1] + 1))
        rise = int(rng.integers(-1, 2)) if gap else int(rng.integers(-2, 3))
        if gap >= 4:  # the widest pits only level or downhill
            rise = min(rise, 0)
        new_step = int(np.clip(step + rise, 0, MAX_STEP_TILES))
        length = int(rng.integers(config.segment_tiles[0], config.segment_tiles[1] + 1)) * TILE
        length = min(length, width - final_length - (x + gap * TILE))
        if length < config.segment_tiles[0] * TILE:
            break
        if gap:
            pits.append((x, x + gap * TILE, max(_top(step), _top(new_step))))
            x += gap * TILE
        segments.append((x, x + length, _top(new_step)))
        x, step = x + length, new_step
    segments.append((x, width, _top(0)))
    solids = [(x0, top, x1, LEVEL_HEIGHT) for x0, x1, top in segments]
    middle = segments[1:-1]

    ledges: list[tuple[float, float, float, float]] = []
    gems: list[tuple[float, float]] = []
    for x0, x1, top in middle:
        tiles = round((x1 - x0) / TILE)
        if tiles >= 6 and rng.random() < config.ledge_chance:
            length = int(rng.integers(3, 6))
            lx0 = x0 + TILE * int(rng.integers(1, max(tiles - length, 2)))
            ly = top - float(rng.choice([96.0, 112.0]))
            ledges.append((lx0, ly, lx0 + length * TILE, ly + LEDGE_THICKNESS))
            if rng.random() < config.upper_ledge_chance:
                shift = TILE * float(rng.choice([-3.0, -2.0, 2.0, 3.0]))
                ux0 = float(np.clip(lx0 + shift, x0, x1 - 3 * TILE))
                uy = ly - 96.0
                ledges.append((ux0, uy, ux0 + 3 * TILE, uy + LEDGE_THICKNESS))
        elif rng.random() < config.ground_gem_chance:
            gx = x0 + (x1 - x0) / 2
            gems += [(gx + dx, top - 24.0) for dx in (-40.0, 0.0, 40.0)]
    for lx0, ly, lx1, _ in ledges:
        count = max(1, min(3, round((lx1 - lx0) / TILE) - 2))
        centre = (lx0 + lx1) / 2
        gems += [(centre + 32.0 * (k - (count - 1) / 2), ly - 28.0) for k in range(count)]
    for px0, px1, top in pits:
        gems.append(((px0 + px1) / 2, top - 110.0))  # in a jump's arc over the pit

    # Goblins: on segments long enough to patrol, a segment each: those of the goblin zone in a
    # random order, then (when the zone has too few) the others, nearest to the zone first.
    low, high = config.goblin_zone[0] * width, config.goblin_zone[1] * width

    def outside(segment: tuple[float, float, float]) -> float:
        centre = (segment[0] + segment[1]) / 2
        return max(low - centre, centre - high, 0.0)

    long_enough = [s for s in middle if s[1] - s[0] >= 6 * TILE]
    inside = [s for s in long_enough if outside(s) == 0.0]
    candidates = [inside[i] for i in rng.permutation(len(inside))]
    candidates += sorted((s for s in long_enough if outside(s) > 0.0), key=outside)
    chosen = sorted(range(min(config.n_goblins, len(candidates))), key=lambda c: candidates[c][0])
    homes = [
        (
            (candidates[c][0] + candidates[c][1]) / 2,
            candidates[c][2],
            candidates[c][0] + 16,
            candidates[c][1] - 16,
        )
        for c in chosen
    ]

    # Friendlies: the shopkeeper by the start, the guide on a goblin-free segment near the middle.
    shop_card, shop_name, shop_role = FRIENDLY_NPCS[0]
    friendlies = [FriendlyNpc(shop_card, shop_name, shop_role, 13 * TILE, _top(0))]
    taken = {candidates[c] for c in chosen}
    free = [s for s in middle if s not in taken and s[1] - s[0] >= 6 * TILE]
    guide_card, guide_name, guide_role = FRIENDLY_NPCS[1]
    if free:
        x0, _, top = min(free, key=lambda s: abs((s[0] + s[1]) / 2 - width / 2))
        friendlies.append(FriendlyNpc(guide_card, guide_name, guide_role, x0 + 2.5 * TILE, top))
    else:
        friendlies.append(FriendlyNpc(guide_card, guide_name, guide_role, 19 * TILE, _top(0)))

    return Level(
        seed=int(seed),
        width=width,
        solids=_read_only(solids, 4),
        ledges=_read_only(ledges, 4),
        gems=_read_only(gems, 2),
        goblin_homes=_read_only(homes, 4),
        friendlies=tuple(friendlies),
        start=(3 * TILE, _top(0)),
        flag=(width - 5 * TILE, _top(0)),
    )
