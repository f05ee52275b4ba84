"""Names shared by the game, the models and the protocol.

The service never imports the game; these strings are the contract between them.
The behaviour model's own JSON config is authoritative for its class names at serve
time; :data:`BEHAVIOURS` is the set our shipped model is trained on.
"""

from typing import Final

#: Player behaviour classes recognised from the screen (the scripted styles' names).
BEHAVIOURS: Final[tuple[str, ...]] = ("aggressive", "explorer", "collector", "evasive", "idle", "bot_like")

#: The label of a behaviour result whose frames do not look like the model's game (reserved:
#: never a class name of any model; ``gameai.behaviour.look``).
UNKNOWN_BEHAVIOUR: Final = "unknown"

#: Game events recorded per step by the arena simulation and sent by games.
EVENTS: Final[tuple[str, ...]] = (
    "fire",
    "hit",
    "hurt",
    "kill",
    "death",
    "pickup_health",
    "pickup_coin",
    "dash",
    "talk",
    "win",
    "loss",
    "timeout",
)
