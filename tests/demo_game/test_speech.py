"""Typing a line to an NPC and drawing its streamed reply."""

from __future__ import annotations

import numpy as np
import pygame
import pytest

from demo_game.render import surface_to_array
from demo_game.speech import ChatInput, SpeechBubble, wrap_text


@pytest.fixture(scope="module")
def font() -> pygame.font.Font:
    pygame.font.init()
    return pygame.font.Font(None, 20)


def key(code: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code)


def test_chat_input_types_edits_and_sends() -> None:
    chat = ChatInput(max_length=10)
    assert not chat.active
    chat.open(npc_slot=1)
    for text in ("Hel", "lo!!", " there friend"):
        assert chat.handle(pygame.event.Event(pygame.TEXTINPUT, text=text)) is None
    assert chat.text == "Hello!! th"  # capped at max_length
    chat.handle(key(pygame.K_BACKSPACE))
    assert chat.text == "Hello!! t"
    assert chat.handle(key(pygame.K_RETURN)) == "Hello!! t"
    assert not chat.active and chat.text == ""


def test_escape_abandons_the_line() -> None:
    chat = ChatInput()
    chat.open(npc_slot=0)
    chat.handle(pygame.event.Event(pygame.TEXTINPUT, text="never mind"))
    assert chat.handle(key(pygame.K_ESCAPE)) is None
    assert not chat.active


def test_wrap_text_respects_the_width(font: pygame.font.Font) -> None:
    text = "the quick brown fox jumps over the lazy dog " * 4
    lines = wrap_text(text, font, 120)
    assert len(lines) > 3
    assert all(font.size(line)[0] <= 120 for line in lines)
    assert " ".join(lines) == text.strip()


def test_bubble_is_drawn_inside_its_bounds(font: pygame.font.Font) -> None:
    surface = pygame.Surface((400, 300))
    bounds = pygame.Rect(0, 0, 400, 300)
    bubble = SpeechBubble(font, max_width=200)
    bubble.draw(surface, "Well met, traveller. Mind the pillars.", (390, 20), bounds)
    pixels = surface_to_array(surface)
    drawn = np.argwhere(pixels.sum(axis=2) > 0)
    assert len(drawn) > 500
    assert drawn[:, 0].min() >= 0 and drawn[:, 1].max() < 400


def test_bubble_hangs_below_a_speaker_at_the_top_edge(font: pygame.font.Font) -> None:
    surface = pygame.Surface((400, 300))
    SpeechBubble(font, max_width=200).draw(surface, "Hello there.", (200, 10), surface.get_rect(), below=60)
    rows = np.flatnonzero(surface_to_array(surface).sum(axis=(1, 2)) > 0)
    assert rows.min() >= 60, "the bubble must not cover the speaker above y=60"


def test_text_from_the_network_with_control_characters_is_drawn(font: pygame.font.Font) -> None:
    """A reply holding a NUL (pygame's fonts raise on it) or other control characters still shows."""
    reply = "Well\x00 met,\x07 traveller.\x1b"
    assert wrap_text(reply, font, 300) == ["Well met, traveller."]
    surface = pygame.Surface((400, 300))
    SpeechBubble(font, max_width=300).draw(surface, reply, (200, 200), surface.get_rect())
    assert (surface_to_array(surface).sum(axis=2) > 0).sum() > 300
