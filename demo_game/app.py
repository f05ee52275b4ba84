"""The demo game's window and loop: input, simulation, drawing, screenshots.

A person plays with keyboard and mouse; without a display (or with ``headless``) an
autopilot (a scripted style) plays on SDL's dummy driver, screenshots are written,
and a summary is printed at the end.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from demo_game.config import DemoConfig
from demo_game.game import ArenaGame, PlayerInput
from demo_game.sim import ARENA_HEIGHT, ARENA_WIDTH, ArenaConfig, Outcome
from gameai.vocabulary import PERSONAS

WINDOW_SIZE = (1280, 720)
ARENA_SIZE = (960, 720)
FRIENDLY_PERSONAS = ("blacksmith", "healer")
"""Persona of each friendly NPC slot."""


def display_available() -> bool:
    """Whether a window can be opened (False on a server without a display)."""
    if os.environ.get("SDL_VIDEODRIVER") in {"dummy", "offscreen"}:
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def friendly_names() -> list[str]:
    """Display names of the friendly NPCs, e.g. "Brann the blacksmith"."""
    return [f"{PERSONAS[persona]} the {persona}" for persona in FRIENDLY_PERSONAS]


class DemoApp:
    """The demo game: build it with a config, then :meth:`run`.

    Raises:
        ValueError: If the autopilot names no known style.
    """

    def __init__(self, config: DemoConfig) -> None:
        from envs.scripted import ScriptedController
        from envs.styles import ENEMY_STYLE, STYLES, style_params

        self.config = config
        self.headless = config.headless or not display_available()
        autopilot = config.autopilot or ("aggressive" if self.headless else "")
        if autopilot and autopilot not in STYLES:
            raise ValueError(f"unknown autopilot style {autopilot!r}; choose from {', '.join(STYLES)}")
        seed = None if config.seed < 0 else config.seed
        self.rng = np.random.default_rng(seed)
        self.game = ArenaGame(ArenaConfig(n_enemies=config.n_enemies), seed=seed)
        for actor in range(1, config.n_enemies + 1):
            self.game.enemy_controllers[actor] = ScriptedController(style_params(ENEMY_STYLE, self.rng))
        self.autopilot_style = autopilot
        self.autopilot = ScriptedController(style_params(autopilot, self.rng)) if autopilot else None
        self.frames = 0
        self.screenshots: list[str] = []

    def run(self) -> dict[str, Any]:
        """Play until the window closes or the headless time is up; return the summary."""
        if self.headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
            os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        import pygame

        from demo_game.hud import Hud, ServiceStatus
        from demo_game.render import ArenaRenderer

        pygame.display.init()
        pygame.display.set_caption("gameai arena")
        window = pygame.display.set_mode(WINDOW_SIZE)
        arena_rect = pygame.Rect((0, 0), ARENA_SIZE)
        panel_rect = pygame.Rect(ARENA_SIZE[0], 0, WINDOW_SIZE[0] - ARENA_SIZE[0], WINDOW_SIZE[1])
        arena_surface = pygame.Surface(ARENA_SIZE)
        renderer = ArenaRenderer(ARENA_SIZE, rules=self.game.sim.config.rules)
        hud = Hud(arena_rect, panel_rect, friendly_names())
        status = ServiceStatus()
        clock = pygame.time.Clock()
        tick_rate = self.game.tick_rate
        screen = "playing" if self.headless else "title"
        over_since = 0
        next_screenshot = 0.0
        started = time.perf_counter()
        talk_pressed = False
        running = True
        while running:
            for event in pygame.event.get():
                if event.type == pygame.QUIT or (
                    event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE
                ):
                    running = False
                elif event.type == pygame.KEYDOWN and event.key == pygame.K_RETURN and screen != "playing":
                    if screen == "over":
                        self.game.new_match()
                    screen = "playing"
                elif event.type == pygame.KEYDOWN and event.key == pygame.K_e:
                    talk_pressed = True

            if screen == "playing":
                player = self._player_input(pygame, arena_rect, talk_pressed)
                talk_pressed = False
                self.game.step(player)
                if self.game.over:
                    screen = "over"
                    over_since = self.frames
            elif screen == "over" and self.headless and self.frames - over_since > 2 * tick_rate:
                self.game.new_match()
                screen = "playing"

            renderer.draw(arena_surface, self.game.sim.state, 0)
            window.blit(arena_surface, arena_rect)
            hud.draw_overlay(window, self.game)
            hud.draw_panel(window, self.game, status, clock.get_fps() if not self.headless else tick_rate)
            if screen == "title":
                hud.draw_title(window)
            elif screen == "over":
                hud.draw_match_over(window, self.game)
            pygame.display.flip()
            self.frames += 1

            game_seconds = self.frames / tick_rate
            if self.headless:
                if game_seconds >= next_screenshot:
                    self._screenshot(pygame, window)
                    next_screenshot += self.config.screenshot_every
                if self.config.seconds and game_seconds >= self.config.seconds:
                    self._screenshot(pygame, window)
                    running = False
            if self.realtime:
                clock.tick(tick_rate)
        elapsed = time.perf_counter() - started
        pygame.display.quit()
        return self.summary(elapsed)

    @property
    def realtime(self) -> bool:
        """Whether the loop waits to run at the game's speed."""
        return not self.headless or self.config.realtime

    def _player_input(self, pygame: Any, arena_rect: Any, talk: bool) -> PlayerInput:
        game = self.game
        if self.autopilot is not None:
            player = PlayerInput.from_controls(self.autopilot(game.sim, 0))
            player.talk = player.talk or talk
            return player
        keys = pygame.key.get_pressed()
        buttons = pygame.mouse.get_pressed()
        move_x = float(keys[pygame.K_d] or keys[pygame.K_RIGHT]) - float(
            keys[pygame.K_a] or keys[pygame.K_LEFT]
        )
        move_y = float(keys[pygame.K_s] or keys[pygame.K_DOWN]) - float(keys[pygame.K_w] or keys[pygame.K_UP])
        px, py = game.player_position
        mx, my = pygame.mouse.get_pos()
        world_x = (mx - arena_rect.x) * ARENA_WIDTH / arena_rect.width
        world_y = (my - arena_rect.y) * ARENA_HEIGHT / arena_rect.height
        return PlayerInput(
            move_x=move_x,
            move_y=move_y,
            aim=math.atan2(world_y - py, world_x - px),
            fire=bool(buttons[0] or keys[pygame.K_SPACE]),
            dash=bool(buttons[2] or keys[pygame.K_LSHIFT] or keys[pygame.K_RSHIFT]),
            talk=talk,
        )

    def _screenshot(self, pygame: Any, window: Any) -> None:
        directory = Path(self.config.screenshot_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"demo_{len(self.screenshots):03d}_{self.frames:06d}.png"
        pygame.image.save(window, str(path))
        self.screenshots.append(str(path))

    def summary(self, elapsed: float) -> dict[str, Any]:
        """What the run did, for printing."""
        game = self.game
        return {
            "mode": "headless" if self.headless else "window",
            "autopilot": self.autopilot_style or None,
            "frames": self.frames,
            "game_seconds": round(self.frames / game.tick_rate, 2),
            "wall_seconds": round(elapsed, 2),
            "fps": round(self.frames / elapsed, 1) if elapsed > 0 else None,
            "matches_finished": game.matches_played,
            "results": dict(sorted({r: game.results.count(r) for r in set(game.results)}.items())),
            "current_match": {
                "tick": game.tick,
                "score": game.score,
                "outcome": Outcome(game.outcome).name.lower(),
            },
            "events": dict(sorted(game.totals.items())),
            "screenshots": self.screenshots,
        }
