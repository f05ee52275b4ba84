"""Talking in the demo: the line a player types and the NPC's reply bubble.

:class:`ChatInput` collects what the player types after pressing E near a friendly
NPC; :class:`SpeechBubble` draws a reply that grows as its tokens stream in.
"""

from __future__ import annotations

import dataclasses

import pygame

from demo_game.colour import Colour

BUBBLE = (245, 246, 250)
BUBBLE_TEXT = (24, 27, 38)
INPUT_BACK = (14, 16, 26)
INPUT_EDGE = (255, 213, 79)
INPUT_TEXT = (236, 239, 244)
HINT = (150, 158, 176)


@dataclasses.dataclass
class ChatInput:
    """A one-line text box; open it, feed it pygame events, read what was sent.

    Example:
        >>> chat = ChatInput()
        >>> chat.open(npc_slot=0)
        >>> sent = chat.handle(event)  # the typed line when Enter is pressed, else None
    """

    max_length: int = 120
    """Most characters a line may have."""
    text: str = ""
    npc_slot: int | None = None
    """Which friendly NPC the line is for, while the box is open."""

    @property
    def active(self) -> bool:
        """Whether the box is open (the game then routes key presses to it)."""
        return self.npc_slot is not None

    def open(self, npc_slot: int) -> None:
        """Start typing a line for friendly NPC ``npc_slot``."""
        self.npc_slot = npc_slot
        self.text = ""

    def close(self) -> None:
        """Abandon the line."""
        self.npc_slot = None
        self.text = ""

    def handle(self, event: pygame.event.Event) -> str | None:
        """Apply one event; return the line when Enter sends it (the box then closes)."""
        if event.type == pygame.TEXTINPUT:
            self.text = (self.text + event.text)[: self.max_length]
        elif event.type == pygame.KEYDOWN:
            if event.key == pygame.K_BACKSPACE:
                self.text = self.text[:-1]
            elif event.key == pygame.K_ESCAPE:
                self.close()
            elif event.key in (pygame.K_RETURN, pygame.K_KP_ENTER):
                line = self.text.strip()
                self.close()
                return line
        return None

    def draw(self, surface: pygame.Surface, font: pygame.font.Font, rect: pygame.Rect, name: str) -> None:
        """Draw the open box inside ``rect``."""
        if not self.active:
            return
        pygame.draw.rect(surface, INPUT_BACK, rect, border_radius=6)
        pygame.draw.rect(surface, INPUT_EDGE, rect, 2, border_radius=6)
        prompt = font.render(f"Say to {name}: ", True, HINT)
        surface.blit(prompt, (rect.x + 10, rect.centery - prompt.get_height() // 2))
        typed = font.render(self.text + "_", True, INPUT_TEXT)
        surface.blit(typed, (rect.x + 14 + prompt.get_width(), rect.centery - typed.get_height() // 2))


def printable(text: str) -> str:
    """``text`` with every control or other unprintable character replaced by a space.

    Text from the network (a model's reply, an error message) may hold characters pygame's
    fonts refuse (a NUL raises ``ValueError``); what reaches a font goes through here.
    """
    return "".join(ch if ch.isprintable() else " " for ch in text)


def wrap_text(text: str, font: pygame.font.Font, width: int) -> list[str]:
    """Split ``text`` into lines no wider than ``width`` pixels (long words stay whole)."""
    lines: list[str] = []
    current = ""
    for word in printable(text).split():
        candidate = f"{current} {word}".strip()
        if current and font.size(candidate)[0] > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


class SpeechBubble:
    """An NPC's reply over its head, drawn as it streams in."""

    def __init__(self, font: pygame.font.Font, max_width: int = 300, colour: Colour = BUBBLE) -> None:
        self.font = font
        self.max_width = max_width
        self.colour = colour

    def draw(
        self,
        surface: pygame.Surface,
        text: str,
        anchor: tuple[int, int],
        bounds: pygame.Rect,
        below: int | None = None,
    ) -> None:
        """Draw ``text`` in a bubble whose tail points at ``anchor``, kept inside ``bounds``.

        Args:
            surface: Where to draw.
            text: The reply so far.
            anchor: The point above the speaker the tail points at.
            bounds: The bubble stays inside this rectangle.
            below: Where the speaker's feet are; the bubble hangs from there when there is no
                room above ``anchor`` (default: just under ``anchor``).
        """
        below = anchor[1] + 40 if below is None else below
        lines = wrap_text(text, self.font, self.max_width - 20) or ["..."]
        lines = lines[-5:]  # a long reply shows its latest lines
        height = self.font.get_linesize()
        width = max(self.font.size(line)[0] for line in lines) + 20
        box = pygame.Rect(0, 0, width, height * len(lines) + 14)
        box.midbottom = (anchor[0], anchor[1] - 10)
        if box.top < bounds.top:  # no room above: hang the bubble below, under the speaker
            box.midtop = (anchor[0], below + 10)
            tail = [(anchor[0] - 6, box.top + 1), (anchor[0] + 6, box.top + 1), (anchor[0], below + 2)]
        else:
            tail = [
                (anchor[0] - 6, box.bottom - 1),
                (anchor[0] + 6, box.bottom - 1),
                (anchor[0], anchor[1] - 2),
            ]
        box.clamp_ip(bounds)
        pygame.draw.polygon(surface, self.colour, tail)
        pygame.draw.rect(surface, self.colour, box, border_radius=8)
        for row, line in enumerate(lines):
            surface.blit(self.font.render(line, True, BUBBLE_TEXT), (box.x + 10, box.y + 7 + row * height))
