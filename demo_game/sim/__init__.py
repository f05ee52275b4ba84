"""The arena game's simulation: N arenas in numpy arrays, stepped by compiled kernels.

Pure arrays and arithmetic, deterministic given the episode keys, and free of pygame.
"""

from demo_game.sim.counter_rng import key_from_generator
from demo_game.sim.fields import (
    ActorField,
    ArenaField,
    BulletField,
    ControlField,
    Event,
    FriendlyField,
    Outcome,
    PickupField,
    PickupKind,
)
from demo_game.sim.layouts import ARENA_HEIGHT, ARENA_WIDTH, LAYOUT_NAMES, LAYOUT_WALLS
from demo_game.sim.rules import ArenaRules, Rule
from demo_game.sim.simulation import ArenaConfig, ArenaSimulation
from demo_game.sim.state import ArenaState

__all__ = [
    "ARENA_HEIGHT",
    "ARENA_WIDTH",
    "LAYOUT_NAMES",
    "LAYOUT_WALLS",
    "ActorField",
    "ArenaConfig",
    "ArenaField",
    "ArenaRules",
    "ArenaSimulation",
    "ArenaState",
    "BulletField",
    "ControlField",
    "Event",
    "FriendlyField",
    "Outcome",
    "PickupField",
    "PickupKind",
    "Rule",
    "key_from_generator",
]
