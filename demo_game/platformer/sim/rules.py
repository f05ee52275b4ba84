"""The platformer's rules and balance: physics, sizes, hearts, scores, timings.

Distances are world units (the level is :data:`~demo_game.platformer.sim.level.LEVEL_HEIGHT`
high; in the 1280x720 window one unit is one pixel), y grows downwards, and times are
simulation ticks (``tick_rate`` per second). Speeds are world units per tick.
"""

from __future__ import annotations

import dataclasses

NPC_DECISION_TICKS: int = 2
"""Ticks between two decisions of a goblin agent: the env's default action repeat, and how
often the demo asks a served agent for a goblin's action."""


@dataclasses.dataclass(frozen=True)
class PlatformerRules:
    """Rules of one simulation."""

    tick_rate: float = 30.0
    """Simulation ticks per second of game time."""
    level_ticks: int = 4500
    """Time to reach the flag, ticks (4500 = 150 s); then the level ends in a timeout."""
    gravity: float = 1.6
    """Downward acceleration, units per tick per tick."""
    max_fall_speed: float = 18.0
    """Fastest fall, units per tick."""
    ground_acceleration: float = 0.4
    """Fraction of the gap to the wanted horizontal speed closed per tick on the ground."""
    air_acceleration: float = 0.22
    """The same in the air."""
    player_speed: float = 7.0
    """The player's top running speed."""
    player_jump_speed: float = 20.0
    """The player's take-off speed (apex about 125 units up, 25 ticks in the air)."""
    jump_cut_speed: float = 7.0
    """Letting go of jump while rising caps the rise at this speed (short hops)."""
    coyote_ticks: int = 3
    """Ticks after running off an edge in which a jump still works."""
    player_width: float = 24.0
    player_height: float = 40.0
    player_hearts: int = 3
    """Hits (or falls) the player takes before the level is lost."""
    invulnerable_ticks: int = 45
    """Ticks of safety after a hit or a fall (the player blinks)."""
    knockback_speed: float = 9.0
    """Sideways speed a hit throws the player at."""
    stomp_bounce_speed: float = 13.0
    """Upward speed after stomping a goblin."""
    stomp_tolerance: float = 10.0
    """How far below a goblin's head the player's feet may have been the tick before and still stomp."""
    goblin_speed: float = 4.2
    """A goblin's top speed (slower than the player)."""
    goblin_jump_speed: float = 15.0
    """A goblin's take-off speed (apex about 70 units up)."""
    goblin_width: float = 26.0
    goblin_height: float = 30.0
    goblin_respawn_ticks: int = 150
    """Mean ticks before a stomped or fallen goblin returns to its home (jittered by the generator)."""
    gem_radius: float = 11.0
    """Radius of a gem, units."""
    talk_radius: float = 72.0
    """How close the player must stand to a friendly NPC to talk."""
    talk_ticks: int = 90
    """Ticks a friendly NPC shows that it is talking."""
    fall_margin: float = 80.0
    """How far below the level's bottom a body counts as fallen into a pit."""
    score_gem: int = 10
    score_stomp: int = 50
    score_win: int = 200
    score_per_second_left: int = 2
    """Bonus per second left on the clock at the flag."""
