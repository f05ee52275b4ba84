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

from typing import Any

from demo_game.app_loop import AppLoop
from demo_game.config import DemoConfig
from demo_game.platformer.game import PlatformerGame, PlayerInput
from demo_game.platformer.service_link import PlatformerServiceLink, ServedGoblin
from demo_game.platformer.sim.goblins import ScriptedGoblin
from demo_game.platformer.sim.styles import STYLES, ScriptedPlayer, style_params

WINDOW_SIZE = (1280, 720)
"""The window, and the world surface under the HUD (what the behaviour model sees, downscaled)."""
HEADLESS_AUTOPILOT = "collector"
"""The style the autopilot plays headless unless told otherwise: it roams the level for gems,
up ledges and over pits."""


class PlatformerApp(AppLoop[PlatformerGame, PlatformerServiceLink]):
    """The platformer demo.

    Args:
        config: The demo's options (``config.game`` is not read: this is the platformer).
        server_url: The gameai service to use, or None to play offline.
        token: Auth token for the service, when it wants one.

    Raises:
        ValueError: If the autopilot names no platformer style.
    """

    caption = "gameai skyline"
    window_size = WINDOW_SIZE
    screenshot_prefix = "platformer"

    def __init__(self, config: DemoConfig, server_url: str | None = None, token: str | None = None) -> None:
        super().__init__(config, STYLES, HEADLESS_AUTOPILOT)
        self.game = PlatformerGame(seed=self.seed)
        self.link = PlatformerServiceLink(server_url, game_fps=self.game.tick_rate, token=token)
        self.goblins: dict[int, ServedGoblin] = {}
        self.served_goblin_ticks = 0
        """Goblin ticks driven by the served agent in the levels before the current one."""
        self._equip_goblins()
        autopilot = self.autopilot_style
        self.autopilot = ScriptedPlayer(style_params(autopilot, self.rng), self.rng) if autopilot else None
        self._greeted: set[int] = set()

    def _equip_goblins(self) -> None:
        """Give every goblin of the current level its controller (served, scripted as the fallback)."""
        self.served_goblin_ticks += sum(goblin.served_ticks for goblin in self.goblins.values())
        self.goblins = {
            i: ServedGoblin(self.link, ScriptedGoblin(self.rng)) for i in range(self.game.sim.level.n_goblins)
        }
        self.game.goblin_controllers = dict(self.goblins)

    def _next_round(self) -> None:
        """The next level."""
        self.game.new_level()
        self._equip_goblins()
        self._greeted.clear()
        self._screen = "playing"

    # ------------------------------------------------------------------ the loop
    def _prepare_drawing(self, pygame: Any) -> None:
        from demo_game.platformer.hud import PlatformerHud
        from demo_game.platformer.render import PlatformerRenderer

        self.world_surface = pygame.Surface(WINDOW_SIZE)
        self.renderer = PlatformerRenderer(WINDOW_SIZE)
        self.hud = PlatformerHud(WINDOW_SIZE)

    def _play_tick(self) -> None:
        game = self.game
        self.link.request_goblin_actions(game)
        events = game.step(self._player_input())
        self.link.report(events, game)

    def _draw(self) -> None:
        game = self.game
        self.renderer.draw(self.world_surface, game.sim.state)
        self.link.on_frame(self.world_surface)  # the world alone: the HUD never reaches the model
        self.window.blit(self.world_surface, (0, 0))
        self.hud.draw(self.window, game, self.link.status(), self.fps())
        if self._screen == "title":
            self.hud.draw_title(self.window)
        elif self._screen == "over":
            self.hud.draw_level_over(self.window, game)

    # ------------------------------------------------------------------ input
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
    def summary(self, elapsed: float) -> dict[str, Any]:
        """What the run did, for printing."""
        game = self.game
        state = game.sim.state
        return {
            "game": "platformer",
            **self._summary_head(elapsed),
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
