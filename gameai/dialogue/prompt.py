"""The structured prompt our dialogue model is trained on and served with.

A prompt is one line of marked fields, ending where the NPC's reply begins::

    <|persona|>blacksmith<|mood|>grumpy<|behaviour|>aggressive<|events|>hurt low_health
    <|player|>Hi.<|npc|>Hm. You again.<|end|><|player|>Can you fix my sword?<|npc|>

(one line; wrapped here). The reply is generated after ``<|npc|>`` and ends with
:data:`END`. Earlier turns with the same NPC come before the current player line, each
closed by :data:`END`. The markers are special tokens of our tokenizer, so the player's
text can never forge one: :func:`clean_text` removes anything that looks like a marker,
which keeps player text data (it cannot rewrite the persona).

Events are the context's events followed by conditions derived from the game state
(:func:`derived_conditions`), deduplicated, most recent last, at most
:data:`MAX_EVENTS` of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final

from gameai.dialogue.types import DialogueContext

PERSONA: Final = "<|persona|>"
MOOD: Final = "<|mood|>"
BEHAVIOUR: Final = "<|behaviour|>"
EVENTS: Final = "<|events|>"
PLAYER: Final = "<|player|>"
NPC: Final = "<|npc|>"
END: Final = "<|end|>"
"""Closes every NPC reply: the end-of-reply token."""
PAD: Final = "<|pad|>"

#: Every marker, in prompt order; they are the tokenizer's special tokens.
MARKERS: Final[tuple[str, ...]] = (PERSONA, MOOD, BEHAVIOUR, EVENTS, PLAYER, NPC, END, PAD)

#: Written into the prompt when a field is unknown.
UNKNOWN: Final = "unknown"
#: Written into the events field when nothing happened.
NO_EVENTS: Final = "none"

#: NPC moods the shipped model is trained on.
MOODS: Final[tuple[str, ...]] = ("cheerful", "grumpy", "worried", "calm", "smug")
#: A persona's mood when the request gives none.
DEFAULT_MOODS: Final[dict[str, str]] = {
    "blacksmith": "grumpy",
    "scout": "calm",
    "healer": "cheerful",
    "rival": "smug",
}

#: Conditions a game state can imply, besides the raw :data:`gameai.vocabulary.EVENTS`.
CONDITIONS: Final[tuple[str, ...]] = ("low_health", "rich", "idle_long")

MAX_EVENTS: Final = 4
MAX_HISTORY: Final = 2
MAX_LINE_CHARS: Final = 200
"""Player and history lines are cut to this many characters."""

LOW_HEALTH_FRACTION: Final = 0.3
RICH_COINS: Final = 25
IDLE_LONG_SECONDS: Final = 20.0

_MARKER_LIKE = re.compile(r"<\|[^|>]*\|>|<\||\|>")
_SPACES = re.compile(r"\s+")


def clean_text(text: str, max_chars: int = MAX_LINE_CHARS) -> str:
    """Make free text safe to put in a prompt field.

    Removes marker look-alikes (``<|...|>``), folds whitespace (newlines included) into
    single spaces and cuts to ``max_chars`` characters.
    """
    text = _MARKER_LIKE.sub(" ", text)
    return _SPACES.sub(" ", text).strip()[:max_chars].strip()


def _field(value: str | None, max_chars: int = 80) -> str:
    """A one-word-ish field value: lower case, cleaned, ``unknown`` when empty."""
    text = clean_text(value or "", max_chars).lower()
    return text or UNKNOWN


def _number(state: Mapping[str, Any], key: str) -> float | None:
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def derived_conditions(game_state: Mapping[str, Any]) -> list[str]:
    """Conditions implied by a game state (subset of :data:`CONDITIONS`, in that order).

    Understood keys (all optional, others are ignored):
    ``health`` with ``max_health`` (or a fraction in [0, 1] without it) -> ``low_health`` at or
    below :data:`LOW_HEALTH_FRACTION`; ``coins`` at or above :data:`RICH_COINS` -> ``rich``;
    ``idle_seconds`` at or above :data:`IDLE_LONG_SECONDS` -> ``idle_long``.
    """
    conditions: list[str] = []
    health, max_health = _number(game_state, "health"), _number(game_state, "max_health")
    if health is not None:
        fraction = health / max_health if max_health else health
        if (max_health or fraction <= 1.0) and fraction <= LOW_HEALTH_FRACTION:
            conditions.append("low_health")
    coins = _number(game_state, "coins")
    if coins is not None and coins >= RICH_COINS:
        conditions.append("rich")
    idle = _number(game_state, "idle_seconds")
    if idle is not None and idle >= IDLE_LONG_SECONDS:
        conditions.append("idle_long")
    return conditions


def event_tags(events: tuple[str, ...] | list[str], game_state: Mapping[str, Any]) -> list[str]:
    """The events field's tags: events then derived conditions, deduplicated, last kept.

    A tag seen twice keeps its latest position; at most :data:`MAX_EVENTS` tags, the most
    recent ones.
    """
    tags = [_field(e, 24).replace(" ", "_") for e in events] + derived_conditions(game_state)
    latest: dict[str, int] = {tag: i for i, tag in enumerate(tags) if tag != UNKNOWN}
    ordered = sorted(latest, key=latest.__getitem__)
    return ordered[-MAX_EVENTS:]


def format_fields(
    persona: str,
    mood: str | None,
    behaviour: str | None,
    events: list[str],
    player_line: str,
    history: list[tuple[str, str]] = [],  # noqa: B006 (never mutated)
) -> str:
    """Render the prompt from already-chosen field values (the corpus uses this too).

    Args:
        persona: Persona key or free-text description.
        mood: The NPC's mood, or None for unknown.
        behaviour: Recognised player behaviour, or None for unknown.
        events: Event and condition tags, most recent last; empty for none.
        player_line: What the player said (may be empty).
        history: Earlier (player line, NPC line) pairs, oldest first; the last
            :data:`MAX_HISTORY` are kept.

    Returns:
        The prompt text, ending with :data:`NPC`.
    """
    parts = [
        PERSONA,
        _field(persona, 120),
        MOOD,
        _field(mood),
        BEHAVIOUR,
        _field(behaviour),
        EVENTS,
        " ".join(events) if events else NO_EVENTS,
    ]
    for said, answered in history[-MAX_HISTORY:] if MAX_HISTORY else []:
        parts += [PLAYER, clean_text(said), NPC, clean_text(answered), END]
    parts += [PLAYER, clean_text(player_line), NPC]
    return "".join(parts)


def format_prompt(context: DialogueContext) -> str:
    """The prompt for ``context``: persona, mood, behaviour, events, history, player line.

    A missing mood becomes the persona's default (:data:`DEFAULT_MOODS`).

    This is the function the Hugging Face backend imports when a model directory carries
    ``gameai_dialogue.json``; generation continues the returned text and stops at :data:`END`.
    """
    return format_fields(
        persona=context.persona,
        mood=context.mood or DEFAULT_MOODS.get(context.persona.strip().lower()),
        behaviour=context.behaviour,
        events=event_tags(context.events, context.game_state),
        player_line=context.player_line,
        history=[(turn.player_line, turn.npc_line) for turn in context.history],
    )
