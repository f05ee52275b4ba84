"""Prompts for Hugging Face models that were not trained on our prompt format.

Both shapes describe the NPC's card (:class:`~gameai.protocol.messages.NpcCard`) and the
situation in one *character sheet* (:func:`system_prompt`); they are picked by
:class:`~gameai.dialogue.hf_backend.HuggingFaceBackend`:

* :func:`chat_messages` for models whose tokenizer has a chat template (instruction-tuned
  models): the sheet as the system message, earlier turns as user/assistant messages, then
  the player's line.
* :func:`plain_prompt` for anything else (a base model with neither a chat template nor
  ``gameai_dialogue.json``): a script that the model continues, documented here::

      The following is a conversation in a video game.
      You are Brann, blacksmith in a video game.
      He has kept the forge by the east gate for thirty years.
      Personality: gruff, honest.
      You speak in this way: short, blunt sentences.
      Your goals: find someone to clear the old mine.
      What you know (answer only from these facts and the game state; if they do not hold ...):
      - A new shield costs 40 gold.
      - The old mine is east of the village.
      The player's game state:
      - coins: 12
      Your mood: grumpy.
      The player seems aggressive.
      Recent events: hurt, low_health.
      Answer in character, in one or two short sentences.
      Player: Hi.
      Brann: Hm. You again.
      Player: How much for a new shield?
      Brann:

  Generation stops at the next line break (:data:`PLAIN_STOPS`).

Unlike our own model's prompt, which carries the few facts that match the player's line
(:func:`~gameai.dialogue.npc_card.relevant_knowledge`), the sheet lists *all* of the card's
facts: a general model large enough to follow instructions can read them all. Every card
field and player line goes through :func:`one_line`, so neither a card nor a player can start
a line, a speaker or a chat role of their own.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from gameai.dialogue.behaviour_text import behaviour_text
from gameai.dialogue.prompt import clean_text
from gameai.dialogue.types import DialogueContext
from gameai.protocol.messages import NpcCard

#: Stop sequences of :func:`plain_prompt`: the NPC's line ends at a line break.
PLAIN_STOPS: Final[tuple[str, ...]] = ("\n",)
#: The name of an NPC whose card has none (a free-text persona).
UNNAMED: Final = "NPC"
#: Heads the NPC's facts: the model must answer from them or say it does not know.
KNOWLEDGE_HEADER: Final = (
    "What you know (answer only from these facts and the game state; if they do not hold the "
    "answer, say you do not know, in character; never invent names, places, numbers or prices):"
)
#: The sheet's last line.
ANSWER_RULE: Final = "Answer in character, in one or two short sentences."
_SILENT: Final = "(The player says nothing.)"


def one_line(text: str) -> str:
    """``text`` made safe to put in a prompt: on one line (whitespace, newlines included, folded
    into single spaces) and without chat-marker look-alikes (``<|im_start|>``), which a tokenizer
    would read as its special tokens."""
    return clean_text(text, max_chars=len(text))


def _clause(text: str) -> str:
    """One-lined text without its final full stop, to end a sentence of our own."""
    return one_line(text).rstrip(". ")


def npc_name(card: NpcCard) -> str:
    """The NPC's display name: the card's name, else :data:`UNNAMED`."""
    return one_line(card.name) or UNNAMED


def _state_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return one_line(text)


def _state_lines(game_state: Mapping[str, Any]) -> list[str]:
    lines = [f"- {one_line(str(key))}: {_state_value(value)}" for key, value in game_state.items()]
    return ["The player's game state:", *lines] if lines else []


def system_prompt(context: DialogueContext) -> str:
    """The character sheet: who the NPC is, what it knows, the situation, how to answer.

    One line each: who ("You are Brann, blacksmith in a video game."), the description,
    personality, speech, goals, :data:`KNOWLEDGE_HEADER` and every fact as a ``- `` bullet, the
    game state as ``- key: value`` bullets, mood (the context's, else the card's), the player's
    recognised behaviour, recent events, and :data:`ANSWER_RULE`. Empty fields are left out.
    """
    card = context.npc
    name, role = one_line(card.name), _clause(card.role)
    if name:
        who = f"You are {name}, {role or 'a character'} in a video game."
    else:
        who = f"You are {role or 'a character'} in a video game."
    lines = [who]
    description, speech = one_line(card.description), _clause(card.speech)
    if description:
        lines.append(description)
    traits = [t for t in map(_clause, card.traits) if t]
    if traits:
        lines.append(f"Personality: {', '.join(traits)}.")
    if speech:
        lines.append(f"You speak in this way: {speech}.")
    goals = [g for g in map(_clause, card.goals) if g]
    if goals:
        lines.append(f"Your goals: {'; '.join(goals)}.")
    lines.append(KNOWLEDGE_HEADER)
    lines += [f"- {fact}" for fact in map(one_line, card.facts) if fact]
    lines += _state_lines(context.game_state)
    mood = _clause(context.mood or card.mood or "")
    if mood:
        lines.append(f"Your mood: {mood}.")
    behaviour = one_line(context.behaviour_text or behaviour_text(context.behaviour, {}) or "")
    if behaviour:
        lines.append(f'How the player plays, in words you may say to them: "{behaviour}"')
    events = [e for e in map(_clause, context.events) if e]
    if events:
        lines.append(f"Recent events: {', '.join(events)}.")
    lines.append(ANSWER_RULE)
    return "\n".join(lines)


def chat_messages(context: DialogueContext) -> list[dict[str, str]]:
    """Messages for a tokenizer's chat template: the :func:`system_prompt`, earlier turns as
    user/assistant messages, then the player's line."""
    messages = [{"role": "system", "content": system_prompt(context)}]
    for turn in context.history:
        messages.append({"role": "user", "content": one_line(turn.player_line) or _SILENT})
        messages.append({"role": "assistant", "content": one_line(turn.npc_line)})
    messages.append({"role": "user", "content": one_line(context.player_line) or _SILENT})
    return messages


def plain_prompt(context: DialogueContext) -> str:
    """The plain-text script of the module docstring, ending with ``"<NPC name>:"``."""
    name = npc_name(context.npc)
    lines = ["The following is a conversation in a video game.", system_prompt(context)]
    for turn in context.history:
        lines.append(f"Player: {one_line(turn.player_line) or _SILENT}")
        lines.append(f"{name}: {one_line(turn.npc_line)}")
    lines.append(f"Player: {one_line(context.player_line) or _SILENT}")
    lines.append(f"{name}:")
    return "\n".join(lines)
