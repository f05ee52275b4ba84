"""Names of the columns of the simulation's state arrays.

The state of N arenas is a handful of float64 arrays whose last axis holds named
fields (``actors[i, a, Actor.X]``). The enums are compile-time constants inside the
numba kernels, so naming a field costs nothing.

Actor 0 of every arena is the player; actors 1..E are the enemy NPCs.
"""

from __future__ import annotations

import enum


class ArenaField(enum.IntEnum):
    """Columns of ``arena`` (N, len(ArenaField)): per-arena match state."""

    TICK = 0
    """Ticks played in this match."""
    OUTCOME = 1
    """An :class:`Outcome` value."""
    LAYOUT = 2
    """Index of the wall layout in :data:`demo_game.sim.layouts.LAYOUTS`."""
    SCORE = 3
    """The player's score."""
    PICKUPS_HEALTH = 4
    """Health packs the player picked up this match."""
    PICKUPS_COIN = 5
    """Coins the player picked up this match."""
    TALKS = 6
    """Times the player talked to a friendly NPC this match."""


class ActorField(enum.IntEnum):
    """Columns of ``actors`` (N, A, len(ActorField)): the player and the enemies."""

    X = 0
    """Position, world units (0..arena_width)."""
    Y = 1
    """Position, world units (0..arena_height)."""
    VX = 2
    """Velocity, world units per tick."""
    VY = 3
    """Velocity, world units per tick."""
    AIM = 4
    """Aim direction, radians (0 = +x, pi/2 = +y, screen y grows downwards)."""
    HEALTH = 5
    """Hit points left."""
    ALIVE = 6
    """1.0 while alive, 0.0 once dead."""
    FIRE_COOLDOWN = 7
    """Ticks until the actor may fire again."""
    DASH_COOLDOWN = 8
    """Ticks until the actor may dash again."""
    DASH_LEFT = 9
    """Ticks of the current dash still to run (0 when not dashing)."""
    HURT = 10
    """Ticks since the actor was last hit, counting down from the flash length (for drawing)."""
    DAMAGE_DEALT = 11
    """Damage this actor's bullets dealt during the last tick."""
    DAMAGE_TAKEN = 12
    """Damage this actor took during the last tick."""
    SHOTS = 13
    """Bullets fired this match."""
    HITS = 14
    """Bullets of this actor that hit an opponent this match."""
    DISTANCE = 15
    """World units travelled this match."""
    DASHES = 16
    """Dashes started this match."""


class BulletField(enum.IntEnum):
    """Columns of ``bullets`` (N, B, len(BulletField)); a slot is free when OWNER < 0."""

    X = 0
    Y = 1
    VX = 2
    VY = 3
    OWNER = 4
    """Index of the actor that fired it, or -1 for a free slot."""
    TTL = 5
    """Ticks left before it fizzles."""


class PickupField(enum.IntEnum):
    """Columns of ``pickups`` (N, P, len(PickupField))."""

    X = 0
    Y = 1
    KIND = 2
    """A :class:`PickupKind` value."""
    ACTIVE = 3
    """1.0 while it lies on the floor."""
    TIMER = 4
    """Ticks until an inactive pickup respawns."""


class FriendlyField(enum.IntEnum):
    """Columns of ``friendlies`` (N, F, len(FriendlyField)): NPCs the player can talk to."""

    X = 0
    Y = 1
    TALK = 2
    """Ticks left of the 'talking' highlight after the player spoke to it."""


class ControlField(enum.IntEnum):
    """Columns of ``controls`` (N, A, len(ControlField)): what each actor does this tick."""

    MOVE_X = 0
    """Desired direction, -1..1 (a longer vector is normalised)."""
    MOVE_Y = 1
    """Desired direction, -1..1."""
    AIM = 2
    """Aim direction, radians."""
    FIRE = 3
    """> 0.5 to fire (if the cooldown allows)."""
    DASH = 4
    """> 0.5 to dash (if the cooldown allows)."""
    TALK = 5
    """> 0.5 to talk to the nearest friendly NPC in reach (player only; send it once per key press)."""


class Event(enum.IntEnum):
    """Columns of ``events`` (N, len(Event)): counts during the last tick, from the player's side.

    The names (lower-cased) are :data:`gameai.vocabulary.EVENTS`.
    """

    FIRE = 0
    HIT = 1
    """The player's bullet hit an enemy."""
    HURT = 2
    """An enemy bullet hit the player."""
    KILL = 3
    """The player killed an enemy."""
    DEATH = 4
    """The player died."""
    PICKUP_HEALTH = 5
    PICKUP_COIN = 6
    DASH = 7
    TALK = 8
    WIN = 9
    LOSS = 10
    TIMEOUT = 11


class Outcome(enum.IntEnum):
    """How a match stands, from the player's side."""

    RUNNING = 0
    WIN = 1
    """Every enemy is dead."""
    LOSS = 2
    """The player is dead."""
    TIMEOUT = 3
    """Time ran out with both sides standing (a draw)."""


class PickupKind(enum.IntEnum):
    """What a pickup gives the player."""

    HEALTH = 0
    COIN = 1
