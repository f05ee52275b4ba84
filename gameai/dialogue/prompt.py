"""The structured prompt our dialogue model is trained on and served with.

A prompt is one line of marked fields, ending where the NPC's reply begins::

    <|name|>Brann<|role|>blacksmith<|traits|>gruff, honest<|speech|>short, blunt sentences
    <|mood|>grumpy<|behaviour|>You charge at every enemy you see.<|events|>hurt low_health
    <|f1|>A new shield costs 40 gold.<|f2|>The old mine is east of the village.
    <|f3|>your coins is 12.<|player|>Hi.<|npc|>Hm. You again.<|end|>
    <|player|>How much for a new shield?<|npc|>

(one line; wrapped here). The first fields are the NPC's card; the behaviour field is a sentence
about how the player plays (:mod:`~gameai.dialogue.behaviour_text`), which a reply points at
with :data:`BEHAVIOUR_REF`; the facts are the
:data:`~gameai.dialogue.npc_card.PROMPT_FACTS` sentences of the NPC's knowledge (card facts,
description, goals, game state) that share the most with the player's line
(:func:`~gameai.dialogue.npc_card.relevant_knowledge`), each after its own marker
(:data:`FACTS`). The reply is generated after ``<|npc|>`` and ends with :data:`END`; a reply
states a fact by naming its marker (``Aye. <|f1|>``), which the backend expands into the
sentence (:func:`expand_references`): the model points at what it knows, it never retypes it.
Earlier turns with the same NPC come before the current player line, each closed by
:data:`END`. The markers are special tokens of our tokenizer, so neither the player nor a card
can forge one: :func:`clean_text` removes anything that looks like a marker from every field.

Events are the context's events followed by conditions derived from the game state
(:func:`derived_conditions`), deduplicated, most recent last, at most :data:`MAX_EVENTS` of
them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from typing import Any, Final

from gameai.dialogue.behaviour_text import MAX_BEHAVIOUR_TEXT, behaviour_text
from gameai.dialogue.npc_card import knowledge, relevant_knowledge
from gameai.dialogue.types import DialogueContext

NAME: Final = "<|name|>"
ROLE: Final = "<|role|>"
TRAITS: Final = "<|traits|>"
SPEECH: Final = "<|speech|>"
MOOD: Final = "<|mood|>"
BEHAVIOUR: Final = "<|behaviour|>"
EVENTS: Final = "<|events|>"
#: One marker before each knowledge sentence of the prompt; a reply that states a sentence
#: holds its marker, which :func:`expand_references` turns back into the sentence.
FACTS: Final[tuple[str, ...]] = ("<|f1|>", "<|f2|>", "<|f3|>")
BEHAVIOUR_REF: Final = "<|b|>"
"""A reply's pointer at the behaviour field's sentence (:mod:`gameai.dialogue.behaviour_text`),
expanded like a fact marker."""
#: The markers a reply may hold, each standing for a sentence of its prompt: ordinary tokens of
#: our tokenizer (they survive decoding), expanded by :func:`expand_references`.
REFERENCES: Final[tuple[str, ...]] = (*FACTS, BEHAVIOUR_REF)
PLAYER: Final = "<|player|>"
NPC: Final = "<|npc|>"
END: Final = "<|end|>"
"""Closes every NPC reply: the end-of-reply token."""
PAD: Final = "<|pad|>"

#: Every marker, in prompt order; they are the tokenizer's special tokens.
MARKERS: Final[tuple[str, ...]] = (
    NAME,
    ROLE,
    TRAITS,
    SPEECH,
    MOOD,
    BEHAVIOUR,
    EVENTS,
    *REFERENCES,
    PLAYER,
    NPC,
    END,
    PAD,
)

#: Written into the prompt when a field is unknown.
UNKNOWN: Final = "unknown"
#: Written into the events field when nothing happened.
NO_EVENTS: Final = "none"

#: NPC moods the shipped model is trained on.
MOODS: Final[tuple[str, ...]] = ("cheerful", "grumpy", "worried", "calm", "smug")

#: Conditions a game state can imply, besides the raw :data:`gameai.vocabulary.EVENTS`.
CONDITIONS: Final[tuple[str, ...]] = ("low_health", "rich", "idle_long")

MAX_EVENTS: Final = 4
MAX_HISTORY: Final = 1
MAX_LINE_CHARS: Final = 160
"""Player and history lines are cut to this many characters."""

LOW_HEALTH_FRACTION: Final = 0.3
RICH_COINS: Final = 25
IDLE_LONG_SECONDS: Final = 20.0

_NEXT_MARKER = re.compile(r"<\|[a-z0-9_]+\|>")
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
    name: str,
    role: str,
    traits: list[str] | tuple[str, ...],
    speech: str,
    mood: str | None,
    behaviour: str | None,
    events: list[str],
    facts: list[str],
    player_line: str,
    history: list[tuple[str, str]] = [],  # noqa: B006 (never mutated)
) -> str:
    """Render the prompt from already-chosen field values (the corpus uses this too).

    Args:
        name: The NPC's name (``unknown`` when empty).
        role: What the NPC is (``unknown`` when empty).
        traits: Personality traits.
        speech: How the NPC talks.
        mood: The NPC's mood, or None for unknown.
        behaviour: The sentence about the player's recognised behaviour
            (:func:`~gameai.dialogue.behaviour_text.behaviour_text`), or None for none known.
        events: Event and condition tags, most recent last; empty for none.
        facts: The knowledge sentences to show, best first (at most ``len(FACTS)``).
        player_line: What the player said (may be empty).
        history: Earlier (player line, NPC line) pairs, oldest first; the last
            :data:`MAX_HISTORY` are kept.

    Returns:
        The prompt text, ending with :data:`NPC`.
    """
    parts = [
        NAME,
        clean_text(name, 40) or UNKNOWN,
        ROLE,
        clean_text(role, 40) or UNKNOWN,
        TRAITS,
        clean_text(", ".join(traits), 80) or UNKNOWN,
        SPEECH,
        clean_text(speech, 80) or UNKNOWN,
        MOOD,
        _field(mood),
        BEHAVIOUR,
        clean_text(behaviour or "", MAX_BEHAVIOUR_TEXT) or UNKNOWN,
        EVENTS,
        " ".join(events) if events else NO_EVENTS,
    ]
    for marker, fact in zip(FACTS, facts, strict=False):
        parts += [marker, clean_text(fact, 160)]
    for said, answered in history[-MAX_HISTORY:] if MAX_HISTORY else []:
        parts += [PLAYER, clean_text(said), NPC, clean_text(answered), END]
    parts += [PLAYER, clean_text(player_line), NPC]
    return "".join(parts)


def format_prompt(context: DialogueContext) -> str:
    """The prompt for ``context``: the card, mood, behaviour, events, relevant knowledge,
    history, player line. A missing mood becomes the card's own; the behaviour is the context's
    sentence about it, else the generic one for its label.

    This is the function the Hugging Face backend imports when a model directory carries
    ``gameai_dialogue.json``; generation continues the returned text and stops at :data:`END`.
    """
    card = context.npc
    sentences = knowledge(card, context.game_state)
    return format_fields(
        name=card.name,
        role=card.role,
        traits=card.traits,
        speech=card.speech,
        mood=context.mood or card.mood,
        behaviour=context.behaviour_text or behaviour_text(context.behaviour, {}),
        events=event_tags(context.events, context.game_state),
        facts=relevant_knowledge(context.player_line, sentences),
        player_line=context.player_line,
        history=[(turn.player_line, turn.npc_line) for turn in context.history],
    )


def facts_in_prompt(prompt: str) -> tuple[str, ...]:
    """The knowledge sentences of a prompt made by :func:`format_fields`, in marker order."""
    found = []
    for marker in FACTS:
        if marker not in prompt:
            break
        found.append(_NEXT_MARKER.split(prompt.split(marker, 1)[1], 1)[0])
    return tuple(found)


def behaviour_in_prompt(prompt: str) -> str:
    """The behaviour sentence of a prompt made by :func:`format_fields` ("" when none is known)."""
    if BEHAVIOUR not in prompt:
        return ""
    text = _NEXT_MARKER.split(prompt.split(BEHAVIOUR, 1)[1], 1)[0]
    return "" if text == UNKNOWN else text


def expand_references(text: str, facts: tuple[str, ...] | list[str], behaviour: str = "") -> str:
    """``text`` with each fact marker (``<|f1|>``...) replaced by its sentence, and
    :data:`BEHAVIOUR_REF` by ``behaviour``, first letter upper case.

    A marker with no sentence (the prompt had fewer facts, or no behaviour) is removed.
    """
    sentences = [*itertools.zip_longest(FACTS, facts[: len(FACTS)], fillvalue=""), (BEHAVIOUR_REF, behaviour)]
    for marker, sentence in sentences:
        if marker in text:
            text = text.replace(marker, sentence[:1].upper() + sentence[1:])
    return text
