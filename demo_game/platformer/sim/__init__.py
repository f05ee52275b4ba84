"""The platformer's simulation: a level, its bodies and their physics, in numpy, without pygame.

Deterministic given the level's seed (or a level and a generator) and everyone's controls.
The player is driven from outside (keyboard, a scripted style, an autopilot); so are the
goblins (:class:`~demo_game.platformer.sim.goblins.ScriptedGoblin` or an RL agent through
:mod:`~demo_game.platformer.sim.observation`).
"""

from demo_game.platformer.sim.level import (
    LEVEL_HEIGHT,
    TILE,
    VIEW_WIDTH,
    FriendlyNpc,
    Level,
    LevelConfig,
    generate_level,
)
from demo_game.platformer.sim.rules import NPC_DECISION_TICKS, PlatformerRules
from demo_game.platformer.sim.simulation import PlatformerConfig, PlatformerSimulation
from demo_game.platformer.sim.state import Body, Control, Event, Goblin, Outcome, PlatformerState, Player

__all__ = [
    "LEVEL_HEIGHT",
    "NPC_DECISION_TICKS",
    "TILE",
    "VIEW_WIDTH",
    "Body",
    "Control",
    "Event",
    "FriendlyNpc",
    "Goblin",
    "Level",
    "LevelConfig",
    "Outcome",
    "PlatformerConfig",
    "PlatformerRules",
    "PlatformerSimulation",
    "PlatformerState",
    "Player",
    "generate_level",
]
