"""The platformer's window and loop: input, simulation, service, drawing, screenshots.

A person plays with the keyboard; without a display (or with ``headless``) an autopilot (a
scripted style) plays on SDL's dummy driver, screenshots are written and a summary is
printed at the end. With a service URL the game streams its world frames to gameai under
the game id ``platformer``, shows the recognised behaviour, and lets a served goblin agent
drive the goblins when the service has one for this game (scripted goblins otherwise); it
keeps playing whenever the service is away, and reconnects.

Calling order: :meth:`PlatformerApp.start`, then :meth:`PlatformerApp.frame` until it
returns False, then :meth:`PlatformerApp.finish` (or just :meth:`PlatformerApp.run`).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from demo_game.config import DemoConfig
from demo_game.display import display_available
from demo_game.platformer.game import PlatformerGame, PlayerInput
from demo_game.platformer.service_link import PlatformerServiceLink, ServedGoblin
from demo_game.platformer.sim.goblins import ScriptedGoblin
from demo_game.platformer.sim.styles import STYLES, ScriptedPlayer, style_params

WINDOW_SIZE = (1280, 720)
"""The window, and the world surface under the HUD (what the behaviour model sees, downscaled)."""
HEADLESS_AUTOPILOT = "collector"
"""The style the autopilot plays headless unless told otherwise: it roams the level for gems,
up ledges and over pits."""


class PlatformerApp:
    """The platformer demo.

    Args:
        config: The demo's options (``config.game`` is not read: this is the platformer).
        server_url: The gameai service to use, or None to play offline.
        token: Auth token for the service, when it wants one.

    Raises:
        ValueError: If the autopilot names no platformer style.
    """

    def __init__(self, config: DemoConfig, server_url: str | None = None, token: str | None = None) -> None:
        self.config = config
        self.headless = config.headless or not display_available()
        autopilot = config.autopilot or (HEADLESS_AUTOPILOT if self.headless else "")
        if autopilot and autopilot not in STYLES:
            raise ValueError(f"unknown autopilot style {autopilot!r}; choose from {', '.join(STYLES)}")
        seed = None if config.seed < 0 else config.seed
        self.rng = np.random.default_rng(seed)
        self.game = PlatformerGame(seed=seed)
        self.link = PlatformerServiceLink(server_url, game_fps=self.game.tick_rate, token=token)
        self.goblins: dict[int, ServedGoblin] = {}
        self.served_goblin_ticks = 0
        """Goblin ticks driven by the served agent in the levels before the current one."""
        self._equip_goblins()
        self.autopilot_style = autopilot
        self.autopilot = ScriptedPlayer(style_params(autopilot, self.rng), self.rng) if autopilot else None
        self.frames = 0
        self.screenshots: list[str] = []
        self._pygame: Any = None
        self._started_at = 0.0
        self._screen = "playing" if self.headless else "title"
        self._over_since = 0
        self._next_screenshot = 0.0
        self._talk_pressed = False
        self._greeted: set[int] = set()

    def _equip_goblins(self) -> None:
        """Give every goblin of the current level its controller (served, scripted as the fallback)."""
        self.served_goblin_ticks += sum(goblin.served_ticks for goblin in self.goblins.values())
        self.goblins = {
            i: ServedGoblin(self.link, ScriptedGoblin(self.rng)) for i in range(self.game.sim.level.n_goblins)
        }
        self.game.goblin_controllers = dict(self.goblins)

    def _next_level(self) -> None:
        self.game.new_level()
        self._equip_goblins()
        self._greeted.clear()
        self._screen = "playing"

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

        from demo_game.platformer.hud import PlatformerHud
        from demo_game.platformer.render import PlatformerRenderer

        self._pygame = pygame
        pygame.display.init()
        pygame.display.set_caption("gameai skyline")
        self.window = pygame.display.set_mode(WINDOW_SIZE)
        self.world_surface = pygame.Surface(WINDOW_SIZE)
        self.renderer = PlatformerRenderer(WINDOW_SIZE)
        self.hud = PlatformerHud(WINDOW_SIZE)
        self.clock = pygame.time.Clock()
        self._started_at = time.perf_counter()

    def frame(self) -> bool:
        """Play and draw one frame; return False when the demo should end."""
        pygame = self._pygame
        game = self.game
        running = self._handle_events()
        if self._screen == "playing":
            self.link.request_goblin_actions(game)
            events = game.step(self._player_input())
            self.link.report(events, game)
            if game.over:
                self._screen = "over"
                self._over_since = self.frames
        elif self._screen == "over" and self.headless and self.frames - self._over_since > 2 * game.tick_rate:
            self._next_level()

        self.renderer.draw(self.world_surface, game.sim.state)
        self.link.on_frame(self.world_surface)  # the world alone: the HUD never reaches the model
        self.window.blit(self.world_surface, (0, 0))
        fps = self.clock.get_fps() if not self.headless or self.config.realtime else game.tick_rate
        self.hud.draw(self.window, game, self.link.status(), fps)
        if self._screen == "title":
            self.hud.draw_title(self.window)
        elif self._screen == "over":
            self.hud.draw_level_over(self.window, game)
        pygame.display.flip()
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
            if event.type == pygame.QUIT or (event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE):
                running = False
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_RETURN and self._screen != "playing":
                if self._screen == "over":
                    self._next_level()
                self._screen = "playing"
            elif event.type == pygame.KEYDOWN and event.key == pygame.K_e and self._screen == "playing":
                self._talk_pressed = True
        return running

    def _player_input(self) -> PlayerInput:
        talk, self._talk_pressed = self._talk_pressed, False
        if self.autopilot is not None:
            player = PlayerInput.from_controls(self.autopilot(self.game.sim))
            player.talk = talk or self._autopilot_greets()
            return player
        keys = self._pygame.key.get_pressed()
        pg = self._pygame
        move_x = float(keys[pg.K_d] or keys[pg.K_RIGHT]) - float(keys[pg.K_a] or keys[pg.K_LEFT])
        jump = bool(keys[pg.K_SPACE] or keys[pg.K_w] or keys[pg.K_UP])
        return PlayerInput(move_x=move_x, jump=jump, talk=talk)

    def _autopilot_greets(self) -> bool:
        """The autopilot says hello once to each friendly NPC it passes, as a person might."""
        slot = self.game.nearest_friendly()
        if slot is None or slot in self._greeted:
            return False
        self._greeted.add(slot)
        return True

    # ------------------------------------------------------------------ output
    def screenshot(self) -> str:
        """Save the window as a PNG in the screenshot directory; return its path."""
        directory = Path(self.config.screenshot_dir)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"platformer_{len(self.screenshots):03d}_{self.frames:06d}.png"
        self._pygame.image.save(self.window, str(path))
        self.screenshots.append(str(path))
        return str(path)

    def summary(self, elapsed: float) -> dict[str, Any]:
        """What the run did, for printing."""
        game = self.game
        state = game.sim.state
        return {
            "game": "platformer",
            "mode": "headless" if self.headless else "window",
            "autopilot": self.autopilot_style or None,
            "frames": self.frames,
            "game_seconds": round(self.frames / game.tick_rate, 2),
            "wall_seconds": round(elapsed, 2),
            "fps": round(self.frames / elapsed, 1) if elapsed > 0 else None,
            "levels_finished": game.levels_played,
            "results": dict(sorted({r: game.results.count(r) for r in set(game.results)}.items())),
            "score": game.total_score,
            "current_level": {
                "seed": state.level.seed,
                "tick": game.tick,
                "hearts": game.hearts,
                "gems": f"{state.gems_collected}/{state.level.n_gems}",
                "outcome": game.outcome.name.lower(),
            },
            "events": dict(sorted(game.totals.items())),
            "goblin_ticks_served_by_agent": self.served_goblin_ticks
            + sum(goblin.served_ticks for goblin in self.goblins.values()),
            "service": self.link.summary(),
            "screenshots": self.screenshots,
        }
