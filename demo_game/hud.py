"""The demo's text layer: side panel, names, prompts, title and match-over screens.

Drawn on top of the arena (see :mod:`demo_game.render`); it never feeds the model's
frames, which are taken from the arena surface alone.
"""

from __future__ import annotations

import dataclasses
import math

import pygame

from demo_game.game import ArenaGame
from demo_game.render import Colour
from demo_game.sim import ARENA_HEIGHT, ARENA_WIDTH, ActorField, FriendlyField
from demo_game.speech import printable

WHITE = (236, 239, 244)
GREY = (150, 158, 176)
DIM = (96, 104, 122)
PANEL = (20, 23, 34)
PANEL_EDGE = (48, 54, 72)
ACCENT = (79, 195, 247)
GOOD = (102, 187, 106)
BAD = (239, 83, 80)
GOLD = (255, 213, 79)

CONTROLS = (
    ("WASD / arrows", "move"),
    ("mouse", "aim"),
    ("left click / space", "shoot"),
    ("shift / right click", "dash"),
    ("E", "talk to a friend nearby"),
    ("Esc", "quit"),
)


@dataclasses.dataclass
class ServiceStatus:
    """What the game knows of the gameai service, for the panel.

    Until a service is connected every field stays at its default and the panel says so.
    """

    connection: str = "not connected (local play)"
    """One line on the link to the service."""
    online: bool = False
    behaviour: str | None = None
    """The recognised player behaviour, if any."""
    confidence: float = 0.0
    probabilities: dict[str, float] = dataclasses.field(default_factory=dict)
    difficulty: float | None = None
    latency_ms: float | None = None
    """Round-trip time to the service, milliseconds."""
    notes: list[str] = dataclasses.field(default_factory=list)
    """Short lines about services that are unavailable, shown as they are."""


class Hud:
    """Draws the text layer for one window layout.

    Args:
        arena_rect: Where the arena is drawn in the window.
        panel_rect: Where the side panel is drawn.
        names: Display name of each friendly NPC slot.
    """

    def __init__(self, arena_rect: pygame.Rect, panel_rect: pygame.Rect, names: list[str]) -> None:
        pygame.font.init()
        self.arena_rect = arena_rect
        self.panel_rect = panel_rect
        self.names = names
        self.font = pygame.font.Font(None, 22)
        self.small = pygame.font.Font(None, 18)
        self.large = pygame.font.Font(None, 36)
        self.huge = pygame.font.Font(None, 72)
        self.behaviour_rect = pygame.Rect(panel_rect.x, 0, panel_rect.width, 0)
        """Where the last :meth:`draw_panel` drew the player-behaviour block."""

    def _text(
        self,
        surface: pygame.Surface,
        text: str,
        pos: tuple[int, int],
        colour: Colour = WHITE,
        font: pygame.font.Font | None = None,
    ) -> int:
        """Draw one line of text; return the y below it."""
        rendered = (font or self.font).render(printable(text), True, colour)
        surface.blit(rendered, pos)
        return pos[1] + rendered.get_height() + 4

    def _world_to_screen(self, x: float, y: float) -> tuple[int, int]:
        sx = self.arena_rect.width / ARENA_WIDTH
        sy = self.arena_rect.height / ARENA_HEIGHT
        return self.arena_rect.x + int(x * sx), self.arena_rect.y + int(y * sy)

    def draw_overlay(self, surface: pygame.Surface, game: ArenaGame) -> None:
        """Names over the friendly NPCs and the talk prompt."""
        state = game.sim.state
        near = game.nearest_friendly()
        for slot, friendly in enumerate(state.friendlies[0]):
            x, y = self._world_to_screen(friendly[FriendlyField.X], friendly[FriendlyField.Y])
            name = self.names[slot] if slot < len(self.names) else f"friend {slot}"
            label = self.small.render(name, True, WHITE)
            surface.blit(label, (x - label.get_width() // 2, y - 36))
            if slot == near:
                prompt = self.small.render("E: talk", True, GOLD)
                surface.blit(prompt, (x - prompt.get_width() // 2, y + 22))

    def draw_panel(self, surface: pygame.Surface, game: ArenaGame, status: ServiceStatus, fps: float) -> None:
        """The side panel: match, player, service and controls."""
        rect = self.panel_rect
        pygame.draw.rect(surface, PANEL, rect)
        pygame.draw.line(surface, PANEL_EDGE, rect.topleft, rect.bottomleft, 2)
        x = rect.x + 18
        y = self._text(surface, "gameai arena", (x, rect.y + 16), ACCENT, self.large)
        y += 6
        player = game.sim.state.actors[0, 0]
        enemies = game.sim.state.actors[0, 1:]
        y = self._text(surface, f"Score  {game.score}", (x, y), GOLD)
        minutes, seconds = divmod(math.ceil(game.seconds_left), 60)
        y = self._text(surface, f"Time   {minutes}:{seconds:02d}", (x, y))
        alive = int((enemies[:, ActorField.ALIVE] > 0.5).sum())
        y = self._text(surface, f"Enemies left  {alive}/{len(enemies)}", (x, y))
        health = max(0.0, player[ActorField.HEALTH] / game.sim.config.rules.player_health)
        bar = pygame.Rect(x, y + 2, rect.width - 36, 10)
        pygame.draw.rect(surface, (60, 20, 24), bar)
        pygame.draw.rect(
            surface, GOOD if health > 0.35 else BAD, (bar.x, bar.y, int(bar.width * health), bar.height)
        )
        y = bar.bottom + 14

        top = y
        y = self._section(surface, "Player behaviour", x, y)
        if status.behaviour is None:
            y = self._text(surface, "no result yet", (x, y), DIM)
        else:
            y = self._text(surface, f"{status.behaviour}  ({status.confidence:.0%})", (x, y))
            for label, probability in sorted(status.probabilities.items(), key=lambda kv: -kv[1])[:6]:
                pygame.draw.rect(surface, PANEL_EDGE, (x + 84, y + 3, 150, 9))
                pygame.draw.rect(surface, ACCENT, (x + 84, y + 3, int(150 * probability), 9))
                y = self._text(surface, label, (x, y), GREY, self.small)
        self.behaviour_rect = pygame.Rect(rect.x, top, rect.width, y - top)

        y = self._section(surface, "Difficulty", x, y)
        difficulty = "-" if status.difficulty is None else f"{status.difficulty:.2f}"
        win_rate = game.win_rate()
        rate = "-" if win_rate is None else f"{win_rate:.0%} of last {min(len(game.results), 10)}"
        y = self._text(surface, f"level {difficulty}   wins {rate}", (x, y))

        y = self._section(surface, "Service", x, y)
        colour = GOOD if status.online else DIM
        y = self._text(surface, status.connection, (x, y), colour, self.small)
        if status.latency_ms is not None:
            y = self._text(surface, f"round trip {status.latency_ms:.1f} ms", (x, y), GREY, self.small)
        for note in status.notes[:4]:
            y = self._text(surface, note, (x, y), DIM, self.small)
        y = self._text(surface, f"{fps:.0f} fps", (x, y), DIM, self.small)

        y = self._section(surface, "Events", x, y)
        for event in list(game.events)[-5:][::-1]:
            y = self._text(
                surface, f"{event.tick / game.tick_rate:5.1f}s  {event.name}", (x, y), GREY, self.small
            )

        bottom = rect.bottom - 18 * len(CONTROLS) - 10
        for key, action in CONTROLS:
            self._text(surface, key, (x, bottom), DIM, self.small)
            bottom = self._text(surface, action, (x + 140, bottom), GREY, self.small)

    def _section(self, surface: pygame.Surface, title: str, x: int, y: int) -> int:
        y += 8
        pygame.draw.line(surface, PANEL_EDGE, (x, y), (self.panel_rect.right - 18, y))
        return self._text(surface, title.upper(), (x, y + 6), DIM, self.small)

    def draw_title(self, surface: pygame.Surface) -> None:
        """The title screen: what the game is and its controls."""
        self._veil(surface)
        centre = self.arena_rect.centerx
        self._centred(surface, "gameai arena", self.huge, ACCENT, centre, 150)
        self._centred(surface, "Clear the arena. Watch the AI watch you.", self.font, GREY, centre, 215)
        y = 280
        for key, action in CONTROLS:
            self._centred(surface, f"{key}  -  {action}", self.font, WHITE, centre, y)
            y += 30
        self._centred(surface, "Press Enter to start", self.large, GOLD, centre, y + 30)

    def draw_match_over(self, surface: pygame.Surface, game: ArenaGame) -> None:
        """The match-over screen with the outcome and the score."""
        self._veil(surface)
        centre = self.arena_rect.centerx
        titles = {"win": ("Victory!", GOOD), "loss": ("Defeated", BAD), "timeout": ("Time up", GOLD)}
        title, colour = titles.get(game.outcome.name.lower(), ("Match over", WHITE))
        self._centred(surface, title, self.huge, colour, centre, 220)
        self._centred(surface, f"Score {game.score}", self.large, WHITE, centre, 300)
        self._centred(surface, "Enter: play again    Esc: quit", self.font, GREY, centre, 360)

    def _veil(self, surface: pygame.Surface) -> None:
        veil = pygame.Surface(self.arena_rect.size, pygame.SRCALPHA)
        veil.fill((10, 12, 20, 190))
        surface.blit(veil, self.arena_rect.topleft)

    def _centred(
        self, surface: pygame.Surface, text: str, font: pygame.font.Font, colour: Colour, x: int, y: int
    ) -> None:
        rendered = font.render(text, True, colour)
        surface.blit(rendered, (x - rendered.get_width() // 2, y - rendered.get_height() // 2))
