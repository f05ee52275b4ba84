"""The platformer's window and loop: input, simulation, service, drawing, screenshots.

A person plays with the keyboard; without a display (or with ``headless``) an autopilot (a
scripted style) plays on SDL's dummy driver, screenshots are written and a summary is
printed at the end. With a service URL the game streams its world frames to gameai under
the game id ``platformer``, shows the recognised behaviour, lets a served goblin agent
drive the goblins when the service has one for this game (scripted goblins otherwise), and
lets the served dialogue model voice the friendly NPCs: E beside one greets it (its reply
streams into a bubble over its head) and opens a box to type a question; the autopilot
greets each NPC once a level and asks it one question. It keeps playing whenever the
service is away (a bubble then says the NPC cannot answer), and reconnects.

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
from demo_game.plugin_link import NpcTalk

WINDOW_SIZE = (1280, 720)
"""The window, and the world surface under the HUD (the behaviour model sees the square around
the player cut from it, downscaled)."""
HEADLESS_AUTOPILOT = "collector"
"""The style the autopilot plays headless unless told otherwise: it roams the level for gems,
up ledges and over pits."""
GREETING = "Hello!"
"""What the player says to a friendly NPC on pressing E beside it."""
QUESTIONS = (
    "Where is the flag?",
    "How do I beat goblins?",
    "What are gems worth?",
    "How much time do I have?",
    "What do you sell?",
    "How am I doing?",
)
"""The questions Tab puts in the question box, in turn (a person may type any other)."""
AUTOPILOT_QUESTIONS = {"shopkeeper": "Where is the flag?", "guide": "How am I doing?"}
"""The question the autopilot asks each friendly NPC (by card id) after its greeting is answered:
a fact of Odo's card, and Lark's word on how the player plays (Skyline's sentence for the
recognised behaviour, ``assets/platformer/npcs.toml``)."""
QUESTION_AFTER_S = 1.5
"""Seconds of game time the autopilot reads a greeting's reply before asking its question."""
REPLY_SECONDS = 6.0
"""Seconds of game time a finished reply stays over the NPC's head."""
NPC_HALF_WIDTH_PX = 30
"""A reply bubble is drawn while its NPC's centre is at most this far outside the window, pixels."""
FAILURE_SECONDS = 3.0
"""Seconds of game time a bubble saying that the NPC cannot answer stays."""
BUBBLE_ABOVE_FEET = 116.0
"""Where a reply bubble's tail points: this many world units above the NPC's feet (over its name
tag and its "talking" dots)."""


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
        """Friendly NPC slots greeted in this level."""
        self._asked: set[int] = set()
        """Friendly NPC slots the autopilot asked its question in this level."""
        self._talks: dict[int, NpcTalk] = {}
        """The latest exchange with each friendly NPC slot in this level (its bubble)."""
        self._ended: dict[int, int] = {}
        """The frame each slot's latest reply was first seen done."""
        self._chat_opened_at = -1
        self._suggestion = 0

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
        self._asked.clear()
        self._talks.clear()
        self._ended.clear()
        self.chat.close()
        self._screen = "playing"

    # ------------------------------------------------------------------ the loop
    def _prepare_drawing(self, pygame: Any) -> None:
        from demo_game.platformer.hud import PlatformerHud
        from demo_game.platformer.render import PlatformerRenderer
        from demo_game.speech import ChatInput

        self.world_surface = pygame.Surface(WINDOW_SIZE)
        self.renderer = PlatformerRenderer(WINDOW_SIZE)
        self.hud = PlatformerHud(WINDOW_SIZE)
        self.chat = ChatInput()

    def _play_tick(self) -> None:
        game = self.game
        self.link.request_goblin_actions(game)
        events = game.step(self._player_input())
        self.link.report(events, game)
        if self.autopilot is not None:
            self._autopilot_asks()

    def _draw(self) -> None:
        game = self.game
        self.renderer.draw(self.world_surface, game.sim.state)
        # the square of the world around the player: the HUD never reaches the model
        self.link.on_frame(self.renderer.behaviour_view(self.world_surface, game.sim.state))
        self.window.blit(self.world_surface, (0, 0))
        self.hud.draw(self.window, game, self.link.status(), self.fps())
        self._draw_replies()
        if self.chat.active and self.chat.npc_slot is not None:
            self.hud.draw_question_box(self.window, self.chat, game.friendlies[self.chat.npc_slot].title)
        if self._screen == "title":
            self.hud.draw_title(self.window)
        elif self._screen == "over":
            self.hud.draw_level_over(self.window, game)

    # ------------------------------------------------------------------ input
    def _game_event(self, event: Any) -> bool:
        """While the question box is open, it takes every key (Tab: the next suggested question)."""
        if not self.chat.active:
            return False
        pg = self._pygame
        opening = self._chat_opened_at == self.frames and not self.chat.text
        if opening and event.type == pg.TEXTINPUT and event.text.lower() == "e":
            return True  # the E that opened the box, typed
        if event.type == pg.KEYDOWN and event.key == pg.K_TAB:
            self.chat.text = QUESTIONS[self._suggestion % len(QUESTIONS)]
            self._suggestion += 1
            return True
        slot = self.chat.npc_slot
        line = self.chat.handle(event)
        if line is not None or not self.chat.active:
            pg.key.stop_text_input()
        if line and slot is not None:
            self._ask(slot, line)
        return True

    def _talk_key(self) -> None:
        """E beside a friendly NPC: greet it and open the question box."""
        slot = self.game.nearest_friendly()
        if slot is None:
            return
        self._greeted.add(slot)
        self._ask(slot, GREETING)
        self.chat.open(slot)
        self._chat_opened_at = self.frames
        self._pygame.key.start_text_input()

    def _player_input(self) -> PlayerInput:
        talk, self._talk_pressed = self._talk_pressed, False
        if self.autopilot is not None:
            player = PlayerInput.from_controls(self.autopilot(self.game.sim))
            player.talk = talk or self._autopilot_greets()
            return player
        if self.chat.active:  # typing: the player stands still
            return PlayerInput(talk=talk)
        keys = self._pygame.key.get_pressed()
        pg = self._pygame
        move_x = float(keys[pg.K_d] or keys[pg.K_RIGHT]) - float(keys[pg.K_a] or keys[pg.K_LEFT])
        jump = bool(keys[pg.K_SPACE] or keys[pg.K_w] or keys[pg.K_UP])
        return PlayerInput(move_x=move_x, jump=jump, talk=talk)

    # ------------------------------------------------------------------ talking
    def _ask(self, slot: int, line: str) -> None:
        """Say ``line`` to friendly NPC ``slot``; its reply streams into the NPC's bubble."""
        self._talks[slot] = self.link.ask_friendly(self.game, slot, line)
        self._ended.pop(slot, None)

    def _autopilot_greets(self) -> bool:
        """The autopilot says hello once to each friendly NPC it passes, as a person might."""
        slot = self.game.nearest_friendly()
        if slot is None or slot in self._greeted:
            return False
        self._greeted.add(slot)
        self._ask(slot, GREETING)
        return True

    def _autopilot_asks(self) -> None:
        """Once a greeting's reply has ended and been read, the autopilot asks that NPC its question."""
        for slot in sorted(self._greeted - self._asked):
            ended = self._reply_ended(slot)
            if ended is not None and self.frames - ended >= QUESTION_AFTER_S * self.game.tick_rate:
                self._asked.add(slot)
                card_id = self.game.friendlies[slot].card_id
                self._ask(slot, AUTOPILOT_QUESTIONS.get(card_id, QUESTIONS[0]))

    def _reply_ended(self, slot: int) -> int | None:
        """The frame slot ``slot``'s latest reply was first seen done, or None while it streams."""
        talk = self._talks.get(slot)
        if talk is None or not talk.reply.done:
            return None
        return self._ended.setdefault(slot, self.frames)

    def _draw_replies(self) -> None:
        """Each friendly NPC's latest reply over its head: as it streams, then for a few seconds."""
        state = self.game.sim.state
        camera, scale = self.renderer.camera_left(state), self.renderer.scale
        for slot, talk in self._talks.items():
            reply = talk.reply
            ended = self._reply_ended(slot)
            if reply.error:
                text, stays = f"(no answer: {reply.error})", FAILURE_SECONDS
            else:
                text, stays = reply.text.strip() or "...", REPLY_SECONDS
            if ended is not None and (text == "..." or self.frames - ended > stays * self.game.tick_rate):
                continue  # ended with nothing to say, or shown long enough
            npc = self.game.friendlies[slot]
            x = round((npc.x - camera) * scale)
            if not -NPC_HALF_WIDTH_PX <= x <= WINDOW_SIZE[0] + NPC_HALF_WIDTH_PX:
                continue  # the NPC is off screen
            anchor = (x, round((npc.y - BUBBLE_ABOVE_FEET) * scale))
            self.hud.draw_reply(self.window, text, anchor, below=round(npc.y * scale))

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
