"""The demo game's window and loop: input, simulation, service, drawing, screenshots.

A person plays with keyboard and mouse; without a display (or with ``headless``) an
autopilot (a scripted style) plays on SDL's dummy driver, screenshots are written,
and a summary is printed at the end. With a service URL the game streams its arena
frames to gameai, shows the recognised behaviour, lets the served agent drive the
enemies and the served dialogue model voice the friendly NPCs; it keeps playing
(scripted enemies, "offline") whenever the service is away, and reconnects.

Calling order: :meth:`DemoApp.start`, then :meth:`DemoApp.frame` until it returns
False, then :meth:`DemoApp.finish` (or just :meth:`DemoApp.run`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from demo_game.app_loop import AppLoop
from demo_game.config import DemoConfig
from demo_game.game import ArenaGame, PlayerInput
from demo_game.plugin_link import NpcTalk
from demo_game.service_link import ServedEnemy, ServiceLink
from demo_game.sim import ARENA_HEIGHT, ARENA_WIDTH, ActorField, ArenaConfig, FriendlyField, Outcome

WINDOW_SIZE = (1280, 720)
ARENA_SIZE = (960, 720)
"""The arena surface: drawn without the HUD, it is what the behaviour model sees."""
HEADLESS_AUTOPILOT = "collector"
"""The style the autopilot plays headless unless told otherwise: it roams, picks up and fights
back, and the shipped behaviour model recognises it; it confuses `aggressive` with `bot_like`
and `explorer` (docs/behaviour.md)."""
FRIENDLY_NPCS = ("blacksmith", "healer")
"""The card id of each friendly NPC slot (``assets/dialogue/npcs.toml``), its dialogue npc_id."""
FRIENDLY_NAMES = {"blacksmith": "Brann", "healer": "Mira"}
"""What the game calls its friendly NPCs (the names on their cards)."""
AUTOPILOT_LINES = (
    "Hello there!",
    "How long does a match last?",
    "Where are the health packs?",
    "What's my score?",
    "How am I doing?",
    "Where is the dragon's lair?",
)
"""What the autopilot says to friendly NPCs, in turn."""
AUTOPILOT_TALK_EVERY_S = 8.0
BUBBLE_SECONDS = 6.0
"""How long a finished reply stays over the NPC's head."""


def friendly_names() -> list[str]:
    """Display names of the friendly NPCs, e.g. "Brann the blacksmith"."""
    return [f"{FRIENDLY_NAMES[npc]} the {npc}" for npc in FRIENDLY_NPCS]


class DemoApp(AppLoop[ArenaGame, ServiceLink]):
    """The demo game.

    Args:
        config: The demo's options.
        server_url: The gameai service to use, or None to play offline.
        token: Auth token for the service, when it wants one.

    Raises:
        ValueError: If the autopilot names no known style.
    """

    caption = "gameai arena"
    window_size = WINDOW_SIZE
    screenshot_prefix = "demo"

    def __init__(self, config: DemoConfig, server_url: str | None = None, token: str | None = None) -> None:
        from demo_game.sim.scripted import ScriptedController
        from demo_game.sim.styles import ENEMY_STYLE, STYLES, style_params

        super().__init__(config, STYLES, HEADLESS_AUTOPILOT)
        self.game = ArenaGame(ArenaConfig(n_enemies=config.n_enemies), seed=self.seed)
        self.link = ServiceLink(server_url, game_fps=self.game.tick_rate, token=token)
        self.enemies: dict[int, ServedEnemy] = {}
        for actor in range(1, config.n_enemies + 1):
            fallback = ScriptedController(style_params(ENEMY_STYLE, self.rng))
            self.enemies[actor] = ServedEnemy(self.link, fallback)
            self.game.enemy_controllers[actor] = self.enemies[actor]
        autopilot = self.autopilot_style
        self.autopilot = ScriptedController(style_params(autopilot, self.rng)) if autopilot else None
        self._next_autopilot_line = 3.0
        self._autopilot_lines = 0
        self._chat_slot = 0
        self._talks: dict[int, NpcTalk] = {}
        """The latest exchange with each friendly NPC slot (its bubble)."""
        self._line_shown: dict[int, int] = {}

    # ------------------------------------------------------------------ the loop
    def _prepare_drawing(self, pygame: Any) -> None:
        from demo_game.hud import Hud
        from demo_game.render import ArenaRenderer
        from demo_game.speech import ChatInput, SpeechBubble

        self.arena_rect = pygame.Rect((0, 0), ARENA_SIZE)
        panel_rect = pygame.Rect(ARENA_SIZE[0], 0, WINDOW_SIZE[0] - ARENA_SIZE[0], WINDOW_SIZE[1])
        self.arena_surface = pygame.Surface(ARENA_SIZE)
        self.renderer = ArenaRenderer(ARENA_SIZE, rules=self.game.sim.config.rules)
        self.hud = Hud(self.arena_rect, panel_rect, friendly_names())
        self.chat = ChatInput()
        self.bubble = SpeechBubble(self.hud.font)

    def _play_tick(self) -> None:
        game = self.game
        self.link.request_enemy_actions(game)
        player = self._player_input()
        events = game.step(player)
        self.link.report(events, game)

    def _next_round(self) -> None:
        self.game.new_match()
        self._screen = "playing"

    def _draw(self) -> None:
        game = self.game
        self.renderer.draw(self.arena_surface, game.sim.state, 0)
        self.link.on_frame(self.arena_surface)  # the arena alone: the HUD never reaches the model
        self.window.blit(self.arena_surface, self.arena_rect)
        self.hud.draw_overlay(self.window, game)
        self._draw_speech()
        self.hud.draw_panel(self.window, game, self.link.status(), self.fps())
        if self._screen == "title":
            self.hud.draw_title(self.window)
        elif self._screen == "over":
            self.hud.draw_match_over(self.window, game)

    # ------------------------------------------------------------------ input
    def _game_event(self, event: Any) -> bool:
        """While the chat box is open, it takes every key."""
        if not self.chat.active:
            return False
        line = self.chat.handle(event)
        if line is not None or not self.chat.active:
            self._pygame.key.stop_text_input()
        if line:
            self._say(self._chat_slot, line)
        return True

    def _talk_key(self) -> None:
        slot = self.game.nearest_friendly()
        if slot is not None:
            self._chat_slot = slot
            self.chat.open(slot)
            self._pygame.key.start_text_input()

    def _player_input(self) -> PlayerInput:
        pygame = self._pygame
        game = self.game
        talk, self._talk_pressed = self._talk_pressed, False
        if self.autopilot is not None:
            player = PlayerInput.from_controls(self.autopilot(game.sim, 0))
            self._autopilot_talk()
            player.talk = player.talk or talk
            return player
        if self.chat.active:  # typing: the player stands still
            return PlayerInput(aim=float(game.sim.state.actors[0, 0, ActorField.AIM]), talk=talk)
        keys = pygame.key.get_pressed()
        buttons = pygame.mouse.get_pressed()
        move_x = float(keys[pygame.K_d] or keys[pygame.K_RIGHT]) - float(
            keys[pygame.K_a] or keys[pygame.K_LEFT]
        )
        move_y = float(keys[pygame.K_s] or keys[pygame.K_DOWN]) - float(keys[pygame.K_w] or keys[pygame.K_UP])
        px, py = game.player_position
        mx, my = pygame.mouse.get_pos()
        world_x = (mx - self.arena_rect.x) * ARENA_WIDTH / self.arena_rect.width
        world_y = (my - self.arena_rect.y) * ARENA_HEIGHT / self.arena_rect.height
        return PlayerInput(
            move_x=move_x,
            move_y=move_y,
            aim=math.atan2(world_y - py, world_x - px),
            fire=bool(buttons[0] or keys[pygame.K_SPACE]),
            dash=bool(buttons[2] or keys[pygame.K_LSHIFT] or keys[pygame.K_RSHIFT]),
            talk=talk,
        )

    # ------------------------------------------------------------------ talking
    def _say(self, slot: int, line: str) -> None:
        talk = self.link.ask_friendly(self.game, FRIENDLY_NPCS[slot], line)
        if talk is not None:
            self._talks[slot] = talk
            self._line_shown[slot] = self.frames

    def _autopilot_talk(self) -> None:
        """Now and then the autopilot greets the nearest friendly NPC, as a person might."""
        seconds = self.frames / self.game.tick_rate
        if seconds < self._next_autopilot_line:
            return
        self._next_autopilot_line = seconds + AUTOPILOT_TALK_EVERY_S
        x, y = self.game.player_position
        spots = self.game.sim.state.friendlies[0, :, : FriendlyField.TALK]
        slot = int(np.argmin(np.hypot(spots[:, 0] - x, spots[:, 1] - y)))
        self._say(slot, AUTOPILOT_LINES[self._autopilot_lines % len(AUTOPILOT_LINES)])
        self._autopilot_lines += 1

    def _draw_speech(self) -> None:
        friendlies = self.game.sim.state.friendlies[0]
        for slot, talk in self._talks.items():
            line, shown = talk.reply, self._line_shown[slot]
            if line.done and self.frames - shown > (BUBBLE_SECONDS + 10) * self.game.tick_rate:
                continue
            text = line.text or ("..." if not line.done else "")
            if line.error:
                text = f"(no answer: {line.error})"
            if not text:
                continue
            x = int(friendlies[slot, FriendlyField.X] * self.arena_rect.width / ARENA_WIDTH)
            y = int(friendlies[slot, FriendlyField.Y] * self.arena_rect.height / ARENA_HEIGHT)
            anchor = (x + self.arena_rect.x, y - 40)  # above the name label
            self.bubble.draw(self.window, text, anchor, self.arena_rect, below=y + 24)
        if self.chat.active:
            box = self.arena_rect.inflate(-80, 0)
            box.height, box.bottom = 40, self.arena_rect.bottom - 20
            self.chat.draw(self.window, self.hud.font, box, friendly_names()[self.chat.npc_slot or 0])

    # ------------------------------------------------------------------ output
    def summary(self, elapsed: float) -> dict[str, Any]:
        """What the run did, for printing."""
        game = self.game
        return {
            **self._summary_head(elapsed),
            "matches_finished": game.matches_played,
            "results": dict(sorted({r: game.results.count(r) for r in set(game.results)}.items())),
            "current_match": {
                "tick": game.tick,
                "score": game.score,
                "outcome": Outcome(game.outcome).name.lower(),
            },
            "events": dict(sorted(game.totals.items())),
            "enemy_ticks_served_by_agent": sum(enemy.served_ticks for enemy in self.enemies.values()),
            "service": self.link.summary(),
            "screenshots": self.screenshots,
        }
