"""The game's rules and balance: speeds, health, damage, timings.

Distances are world units (the arena is
:data:`~demo_game.sim.layouts.ARENA_WIDTH` x :data:`~demo_game.sim.layouts.ARENA_HEIGHT`;
in the native 640x480 window one unit is one pixel); times are simulation ticks
(``tick_rate`` per second). The kernels read the rules as a float64 vector indexed by
:class:`Rule`, so changing a rule never recompiles anything.
"""

from __future__ import annotations

import dataclasses
import enum

import numpy as np
import numpy.typing as npt

NPC_DECISION_TICKS: int = 2
"""Simulation ticks between two decisions of an NPC agent: the agents are trained with this
action repeat (:class:`envs.matches.ArenaEnvConfig`'s default) and the demo asks the served
agent for each enemy's action this often."""


@dataclasses.dataclass(frozen=True)
class ArenaRules:
    """Rules shared by every arena of a simulation."""

    tick_rate: float = 30.0
    """Simulation ticks per second of game time."""
    match_ticks: float = 1800.0
    """Length of a match before it ends in a draw, ticks (1800 = 60 s)."""
    actor_radius: float = 12.0
    """Radius of the player and the enemies, world units."""
    player_speed: float = 4.5
    """The player's top speed, world units per tick."""
    enemy_speed: float = 4.0
    """An enemy's top speed, world units per tick."""
    acceleration: float = 0.35
    """Fraction of the gap to the desired velocity closed each tick (1 = instant)."""
    dash_speed_factor: float = 2.6
    """Speed multiplier while dashing."""
    dash_ticks: float = 6.0
    """Length of a dash, ticks."""
    dash_cooldown: float = 45.0
    """Ticks between two dashes."""
    player_health: float = 100.0
    """The player's hit points at the start of a match."""
    enemy_health: float = 60.0
    """An enemy's hit points at the start of a match."""
    player_fire_cooldown: float = 8.0
    """Ticks between two shots of the player."""
    enemy_fire_cooldown: float = 10.0
    """Ticks between two shots of an enemy."""
    player_bullet_speed: float = 13.0
    """Speed of the player's bullets, world units per tick."""
    enemy_bullet_speed: float = 10.0
    """Speed of the enemies' bullets, world units per tick."""
    player_bullet_damage: float = 10.0
    """Hit points a player bullet takes off an enemy."""
    enemy_bullet_damage: float = 10.0
    """Hit points an enemy bullet takes off the player."""
    bullet_radius: float = 3.5
    """Radius of a bullet, world units."""
    bullet_ttl: float = 60.0
    """Ticks a bullet flies before it fizzles."""
    pickup_radius: float = 10.0
    """Radius of a pickup, world units."""
    pickup_respawn_ticks: float = 150.0
    """Ticks before a taken pickup reappears elsewhere."""
    health_pickup_amount: float = 25.0
    """Hit points a health pack restores (up to the maximum)."""
    health_pickup_share: float = 0.35
    """Chance that a (re)spawning pickup is a health pack rather than a coin."""
    talk_radius: float = 64.0
    """How close the player must stand to a friendly NPC to talk, world units."""
    talk_ticks: float = 60.0
    """Ticks a friendly NPC shows that it is talking."""
    hurt_flash_ticks: float = 8.0
    """Ticks an actor flashes after a hit (drawing only)."""
    score_hit: float = 5.0
    """Score for each hit the player lands."""
    score_kill: float = 50.0
    """Score for each enemy the player kills."""
    score_coin: float = 10.0
    """Score for each coin the player picks up."""
    score_win: float = 100.0
    """Score for winning the match."""

    def as_array(self) -> npt.NDArray[np.float64]:
        """Return the rules as the float64 vector the kernels read, indexed by :class:`Rule`."""
        return np.array([getattr(self, f.name) for f in dataclasses.fields(self)], dtype=np.float64)


class Rule(enum.IntEnum):
    """Index of each field of :class:`ArenaRules` in :meth:`ArenaRules.as_array`."""

    TICK_RATE = 0
    MATCH_TICKS = 1
    ACTOR_RADIUS = 2
    PLAYER_SPEED = 3
    ENEMY_SPEED = 4
    ACCELERATION = 5
    DASH_SPEED_FACTOR = 6
    DASH_TICKS = 7
    DASH_COOLDOWN = 8
    PLAYER_HEALTH = 9
    ENEMY_HEALTH = 10
    PLAYER_FIRE_COOLDOWN = 11
    ENEMY_FIRE_COOLDOWN = 12
    PLAYER_BULLET_SPEED = 13
    ENEMY_BULLET_SPEED = 14
    PLAYER_BULLET_DAMAGE = 15
    ENEMY_BULLET_DAMAGE = 16
    BULLET_RADIUS = 17
    BULLET_TTL = 18
    PICKUP_RADIUS = 19
    PICKUP_RESPAWN_TICKS = 20
    HEALTH_PICKUP_AMOUNT = 21
    HEALTH_PICKUP_SHARE = 22
    TALK_RADIUS = 23
    TALK_TICKS = 24
    HURT_FLASH_TICKS = 25
    SCORE_HIT = 26
    SCORE_KILL = 27
    SCORE_COIN = 28
    SCORE_WIN = 29
