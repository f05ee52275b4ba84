"""Options of the demo game (light: importing it loads no pygame, numba or torch)."""

from __future__ import annotations

import dataclasses
from typing import Literal


@dataclasses.dataclass
class DemoConfig:
    """Options of ``gameai demo``."""

    game: Literal["arena", "platformer"] = "arena"
    """Which demo game: the top-down arena, or the side-view platformer (docs/platformer.md)."""
    headless: bool = False
    """Run without a window, on SDL's dummy driver, with an autopilot (automatic without a display)."""
    autopilot: str = ""
    """Let a scripted style play the player (arena: aggressive, explorer, collector, evasive, idle,
    bot_like; platformer: speedrunner, explorer, collector, stomper, idle, bot_like); empty: a person
    plays, or "collector" when headless."""
    seconds: float = 20.0
    """How long a headless run lasts, seconds of game time (0: until the window is closed)."""
    screenshot_dir: str = "screenshots"
    """Where headless runs save screenshots."""
    screenshot_every: float = 5.0
    """Seconds between two screenshots of a headless run."""
    seed: int = -1
    """Seed of the matches (-1: a fresh one each run)."""
    n_enemies: int = 2
    """Enemies per match (arena; a platformer level has its own goblins)."""
    realtime: bool = True
    """Pace a headless run at the game's speed (off: as fast as the machine draws)."""
    server: str = ""
    """A running gameai service to connect to (ws://host:port/); empty: start one in the background."""
    offline: bool = False
    """Play without the service (scripted enemies, no behaviour or dialogue)."""
    bot_like_min_precision: float | None = None
    """The service started in the background holds ``bot_like`` to this calibrated precision
    (``gameai serve --behaviour-bot-like-min-precision``; unset: the server's default, 0.97 for
    the shipped model; 0: off): a player of the demo is not called a bot on thin evidence. Not
    used with ``server``."""
    token: str = ""
    """Auth token for a service that is not on this machine (or env GAMEAI_TOKEN)."""

    def __post_init__(self) -> None:
        if self.bot_like_min_precision is not None and not 0.0 <= self.bot_like_min_precision <= 1.0:
            raise ValueError(f"bot_like_min_precision must be in [0, 1], got {self.bot_like_min_precision}")
