"""What the demo games' apps share: the window, the frame loop, screenshots, the summary head.

An :class:`AppLoop` runs one game: it opens the window (SDL's dummy one when headless),
moves between the title, playing and over screens, takes the keys every game knows
(quit, Escape, Return, E to talk), ends each frame (flip, screenshots and the time limit
headless, the clock) and closes. Each game's app adds its drawing, its input, its NPCs and
its summary. Light: imports no pygame until :meth:`AppLoop.start`, and no game simulation.
"""

from __future__ import annotations

import os
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from demo_game.config import DemoConfig
from demo_game.display import display_available


class LoopGame(Protocol):
    """What the loop reads of a game."""

    @property
    def tick_rate(self) -> float: ...
    @property
    def over(self) -> bool: ...


class LoopLink(Protocol):
    """What the loop asks of a game's link to the service."""

    def close(self) -> None: ...


GameT = TypeVar("GameT", bound=LoopGame)
LinkT = TypeVar("LinkT", bound=LoopLink)


class AppLoop(Generic[GameT, LinkT]):
    """The frame loop of a demo game; subclasses set :attr:`game` and :attr:`link` and draw.

    Args:
        config: The demo's options.
        styles: The autopilot styles the game knows.
        headless_autopilot: The style the autopilot plays headless unless told otherwise.

    Raises:
        ValueError: If the autopilot names no style of ``styles``.
    """

    caption = "gameai"
    """The window's title."""
    window_size = (1280, 720)
    screenshot_prefix = "demo"
    """How the screenshot files' names start."""

    game: GameT
    link: LinkT

    def __init__(self, config: DemoConfig, styles: Collection[str], headless_autopilot: str) -> None:
        self.config = config
        self.headless = config.headless or not display_available()
        autopilot = config.autopilot or (headless_autopilot if self.headless else "")
        if autopilot and autopilot not in styles:
            raise ValueError(f"unknown autopilot style {autopilot!r}; choose from {', '.join(styles)}")
        self.autopilot_style = autopilot
        self.seed = None if config.seed < 0 else config.seed
        self.rng = np.random.default_rng(self.seed)
        self.frames = 0
        self.screenshots: list[str] = []
        self._pygame: Any = None
        self._started_at = 0.0
        self._screen = "playing" if self.headless else "title"
        self._over_since = 0
        self._next_screenshot = 0.0
        self._talk_pressed = False

    # ------------------------------------------------------------------ hooks
    def _prepare_drawing(self, pygame: Any) -> None:
        """Make the surfaces, renderer and HUD once the window is open."""

    def _play_tick(self) -> None:
        """Step the game one tick (the service asked and told)."""
        raise NotImplementedError

    def _draw(self) -> None:
        """Draw the frame into the window (not flipped yet)."""
        raise NotImplementedError

    def _next_round(self) -> None:
        """Start the next match (or level) and play it."""
        raise NotImplementedError

    def _game_event(self, event: Any) -> bool:
        """Take ``event`` before the common keys; True when the game used it (quit aside)."""
        return False

    def _talk_key(self) -> None:
        """The player pressed the talk key while playing (after it is noted for the next tick)."""

    def summary(self, elapsed: float) -> dict[str, Any]:
        """What the run did, for printing."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the loop
    def run(self) -> dict[str, Any]:
        """Play until the window closes or the headless time is up; return the summary."""
        self.start()
        try:
            while self.frame():
                pass
        finally:
            summary = self.finish()
        return summary

    def start(self) -> None:
        """Open the window (or the dummy one) and prepare drawing."""
        if self.headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
            os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        import pygame

        self._pygame = pygame
        pygame.display.init()
        pygame.display.set_caption(self.caption)
        self.window = pygame.display.set_mode(self.window_size)
        self._prepare_drawing(pygame)
        self.clock = pygame.time.Clock()
        self._started_at = time.perf_counter()

    def frame(self) -> bool:
        """Play and draw one frame; return False when the demo should end."""
        game = self.game
        running = self._handle_events()
        if self._screen == "playing":
            self._play_tick()
            if game.over:
                self._screen = "over"
                self._over_since = self.frames
        elif self._screen == "over" and self.headless and self.frames - self._over_since > 2 * game.tick_rate:
            self._next_round()
        self._draw()
        self._pygame.display.flip()
        self.frames += 1

        game_seconds = self.frames / game.tick_rate
        if self.headless:
            if game_seconds >= self._next_screenshot:
                self.screenshot()
                self._next_screenshot += self.config.screenshot_every
            if self.config.seconds and game_seconds >= self.config.seconds:
                self.screenshot()
                running = False
        if not self.headless or self.config.realtime:
            self.clock.tick(game.tick_rate)
        return running

    def fps(self) -> float:
        """The frame rate the HUD shows: measured, or the game's own when headless and not realtime."""
        return (
            float(self.clock.get_fps()) if not self.headless or self.config.realtime else self.game.tick_rate
        )

    def finish(self) -> dict[str, Any]:
        """Close the window and the link; return the summary."""
        elapsed = time.perf_counter() - self._started_at
        summary = self.summary(elapsed)
        self.link.close()
        if self._pygame is not None:
            self._pygame.display.quit()
        return summary

    # ------------------------------------------------------------------ input
    def _handle_events(self) -> bool:
        pygame = self._pygame
        running = True
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                running = False
            elif self._game_event(event):
                pass
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE:
                running = False
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_RETURN and self._screen != "playing":
                if self._screen == "over":
                    self._next_round()
                self._screen = "playing"
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_e and self._screen == "playing":
                self._talk_pressed = True
                self._talk_key()
        return running

    # ------------------------------------------------------------------ output
    def screenshot(self) -> str:
        """Save the window as a PNG in the screenshot directory; return its path."""
        directory = Path(self.config.screenshot_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{self.screenshot_prefix}_{len(self.screenshots):03d}_{self.frames:06d}.png"
        self._pygame.image.save(self.window, str(path))
        self.screenshots.append(str(path))
        return str(path)

    def _summary_head(self, elapsed: float) -> dict[str, Any]:
        """The summary's first entries, the same for every game."""
        return {
            "mode": "headless" if self.headless else "window",
            "autopilot": self.autopilot_style or None,
            "frames": self.frames,
            "game_seconds": round(self.frames / self.game.tick_rate, 2),
            "wall_seconds": round(elapsed, 2),
            "fps": round(self.frames / elapsed, 1) if elapsed > 0 else None,
        }
