"""The platformer's text layer: hearts, score, gems, clock, the AI's view, the NPCs' replies,
the question box, title and level-over screens.

Drawn on the window over the world (see :mod:`demo_game.platformer.render`); it never feeds
the model's frames, which are taken from the world surface alone. The reply bubble and the
question box are the arena's (:mod:`demo_game.speech`).
"""

from __future__ import annotations

import pygame

from demo_game.colour import Colour
from demo_game.platformer.game import PlatformerGame
from demo_game.platformer.service_link import LinkStatus
from demo_game.speech import ChatInput, SpeechBubble

INK = (24, 32, 48)
WHITE = (255, 255, 255)
HEART = (230, 40, 60)
EMPTY_HEART = (120, 120, 130)
GOLD = (255, 196, 0)
GOOD = (46, 160, 67)
BAD = (200, 40, 40)
PANEL = (255, 255, 255, 200)

CONTROLS = (
    ("left / right, A / D", "run"),
    ("space, up, W", "jump (hold to jump higher)"),
    ("E", "talk to a friend nearby, then type a question"),
    ("Tab", "a suggested question (while typing)"),
    ("Esc", "quit"),
)


class PlatformerHud:
    """Draws the HUD onto the window.

    Args:
        size: (width, height) of the window, pixels.
    """

    def __init__(self, size: tuple[int, int]) -> None:
        if not pygame.font.get_init():
            pygame.font.init()
        self.size = size
        self.font = pygame.font.Font(None, 26)
        self.large = pygame.font.Font(None, 44)
        self.huge = pygame.font.Font(None, 96)
        self.bubble = SpeechBubble(self.font, max_width=360)

    def draw(self, surface: pygame.Surface, game: PlatformerGame, status: LinkStatus, fps: float) -> None:
        """The always-on layer: the player's numbers at the top left, the AI at the top right."""
        state = game.sim.state
        box = pygame.Rect(10, 10, 330, 96)
        self._panel(surface, box)
        for k in range(game.sim.rules.player_hearts):
            self._heart(surface, (box.x + 22 + 30 * k, box.y + 22), HEART if k < game.hearts else EMPTY_HEART)
        self._text(surface, f"Level {game.level_number}", self.font, INK, (box.x + 200, box.y + 12))
        self._text(surface, f"Score {game.total_score}", self.large, INK, (box.x + 12, box.y + 40))
        gems = f"Gems {state.gems_collected}/{state.level.n_gems}   Time {int(game.seconds_left)} s"
        self._text(surface, gems, self.font, INK, (box.x + 12, box.y + 72))

        lines = [status.connection]
        if status.behaviour is not None:
            lines.append(f"you play like: {status.behaviour} ({status.confidence:.0%})")
        if status.models:
            lines.append(status.models)
        lines.append(f"goblins: {status.goblins}   {fps:.0f} fps")
        width = max(self.font.size(line)[0] for line in lines) + 24
        right = pygame.Rect(self.size[0] - width - 10, 10, width, 14 + 24 * len(lines))
        self._panel(surface, right)
        for i, line in enumerate(lines):
            colour = GOOD if i == 0 and status.online else INK
            self._text(surface, line, self.font, colour, (right.x + 12, right.y + 8 + 24 * i))

    def draw_reply(self, surface: pygame.Surface, text: str, anchor: tuple[int, int], below: int) -> None:
        """An NPC's reply (as far as it has streamed) in a bubble pointing at ``anchor``.

        Args:
            surface: The window.
            text: What to show.
            anchor: The point above the NPC's head the bubble's tail points at, pixels.
            below: The NPC's feet, pixels: the bubble hangs below them when there is no room above.
        """
        self.bubble.draw(surface, text, anchor, surface.get_rect(), below=below)

    def draw_question_box(self, surface: pygame.Surface, chat: ChatInput, name: str) -> None:
        """The open question box at the bottom of the window, with its keys."""
        if not chat.active:
            return
        width, height = self.size
        box = pygame.Rect(0, 0, min(900, width - 40), 40)
        box.midbottom = (width // 2, height - 16)
        chat.draw(surface, self.font, box, name)
        hint = "Enter: ask   Tab: a suggested question   Esc: close"
        rendered = self.font.render(hint, True, WHITE)
        back = rendered.get_rect(midbottom=(box.centerx, box.top - 6)).inflate(16, 6)
        self._panel(surface, back, (16, 24, 48, 170))
        surface.blit(rendered, rendered.get_rect(center=back.center))

    def draw_title(self, surface: pygame.Surface) -> None:
        """The title screen: what the game is and its controls."""
        self._veil(surface)
        centre = self.size[0] // 2
        self._centred(surface, "SKYLINE", self.huge, GOLD, centre, 160)
        pitch = "Run, jump, grab the gems, stomp the goblins, reach the flag."
        self._centred(surface, pitch, self.font, WHITE, centre, 230)
        y = 300
        for key, action in CONTROLS:
            self._centred(surface, f"{key}  -  {action}", self.font, WHITE, centre, y)
            y += 32
        self._centred(surface, "Press Enter to start", self.large, GOLD, centre, y + 36)

    def draw_level_over(self, surface: pygame.Surface, game: PlatformerGame) -> None:
        """The level-over screen with the outcome and the score."""
        self._veil(surface)
        centre = self.size[0] // 2
        titles = {
            "win": ("Level complete!", GOLD),
            "loss": ("Out of hearts", BAD),
            "timeout": ("Time's up", WHITE),
        }
        title, colour = titles.get(game.outcome.name.lower(), ("Level over", WHITE))
        self._centred(surface, title, self.huge, colour, centre, 250)
        state = game.sim.state
        tally = (
            f"Score {game.total_score}   gems {state.gems_collected}/{state.level.n_gems}   "
            f"goblins stomped {state.stomps}"
        )
        self._centred(surface, tally, self.large, WHITE, centre, 330)
        self._centred(surface, "Enter: next level    Esc: quit", self.font, WHITE, centre, 390)

    # ------------------------------------------------------------------ pieces
    def _panel(
        self, surface: pygame.Surface, rect: pygame.Rect, colour: tuple[int, int, int, int] = PANEL
    ) -> None:
        panel = pygame.Surface(rect.size, pygame.SRCALPHA)
        pygame.draw.rect(panel, colour, panel.get_rect(), border_radius=10)
        surface.blit(panel, rect.topleft)

    @staticmethod
    def _heart(surface: pygame.Surface, centre: tuple[int, int], colour: Colour) -> None:
        x, y = centre
        pygame.draw.circle(surface, colour, (x - 6, y - 3), 7)
        pygame.draw.circle(surface, colour, (x + 6, y - 3), 7)
        pygame.draw.polygon(surface, colour, [(x - 13, y), (x + 13, y), (x, y + 13)])

    @staticmethod
    def _text(
        surface: pygame.Surface, text: str, font: pygame.font.Font, colour: Colour, topleft: tuple[int, int]
    ) -> None:
        surface.blit(font.render(text, True, colour), topleft)

    def _veil(self, surface: pygame.Surface) -> None:
        veil = pygame.Surface(self.size, pygame.SRCALPHA)
        veil.fill((16, 24, 48, 170))
        surface.blit(veil, (0, 0))

    @staticmethod
    def _centred(
        surface: pygame.Surface, text: str, font: pygame.font.Font, colour: Colour, x: int, y: int
    ) -> None:
        rendered = font.render(text, True, colour)
        surface.blit(rendered, (x - rendered.get_width() // 2, y - rendered.get_height() // 2))
