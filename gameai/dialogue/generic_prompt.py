"""Prompts for Hugging Face models that were not trained on our prompt format.

Two shapes, picked by :class:`~gameai.dialogue.hf_backend.HuggingFaceBackend`:

* :func:`chat_messages` for models whose tokenizer has a chat template (instruction-tuned
  models): a system message describing the NPC and the situation, earlier turns as
  user/assistant messages, then the player's line.
* :func:`plain_prompt` for anything else (a base model with neither a chat template nor
  ``gameai_dialogue.json``): a short script that the model continues, documented here::

      The following is a conversation in a video game.
      Brann is the blacksmith. Mood: grumpy. The player seems aggressive.
      Recent events: hurt, low_health.
      Player: Hi.
      Brann: Hm. You again.
      Player: Can you fix my sword?
      Brann:

  Generation stops at the next line break (:data:`PLAIN_STOPS`).
"""

from __future__ import annotations

import json
from typing import Final

from gameai.dialogue.types import DialogueContext
from gameai.vocabulary import PERSONAS

#: Stop sequences of :func:`plain_prompt`: the NPC's line ends at a line break.
PLAIN_STOPS: Final[tuple[str, ...]] = ("\n",)
_SILENT: Final = "(The player says nothing.)"


def npc_name(persona: str) -> str:
    """The NPC's display name: the persona's name for a persona key, else "NPC"."""
    return PERSONAS.get(persona, "NPC")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def describe_situation(context: DialogueContext) -> str:
    """One paragraph about who the NPC is and what is going on."""
    if context.persona in PERSONAS:
        who = f"{PERSONAS[context.persona]} is the {context.persona}."
    else:
        who = f"The NPC: {_one_line(context.persona)}."
    parts = [who]
    if context.mood:
        parts.append(f"Mood: {_one_line(context.mood)}.")
    if context.behaviour:
        parts.append(f"The player seems {_one_line(context.behaviour)}.")
    if context.events:
        parts.append(f"Recent events: {', '.join(_one_line(e) for e in context.events)}.")
    if context.game_state:
        state = json.dumps(dict(context.game_state), sort_keys=True, default=str)
        parts.append(f"Game state: {state}.")
    return " ".join(parts)


def chat_messages(context: DialogueContext) -> list[dict[str, str]]:
    """Messages for a tokenizer's chat template (system, history, player line)."""
    name = npc_name(context.persona)
    system = (
        f"You are {name}, a character in a video game. {describe_situation(context)} "
        "Answer in character, in one or two short sentences."
    )
    messages = [{"role": "system", "content": system}]
    for turn in context.history:
        messages.append({"role": "user", "content": turn.player_line or _SILENT})
        messages.append({"role": "assistant", "content": turn.npc_line})
    messages.append({"role": "user", "content": context.player_line or _SILENT})
    return messages


def plain_prompt(context: DialogueContext) -> str:
    """The plain-text script of the module docstring, ending with ``"<NPC name>:"``."""
    name = npc_name(context.persona)
    lines = ["The following is a conversation in a video game.", describe_situation(context)]
    for turn in context.history:
        lines.append(f"Player: {_one_line(turn.player_line) or _SILENT}")
        lines.append(f"{name}: {_one_line(turn.npc_line)}")
    lines.append(f"Player: {_one_line(context.player_line) or _SILENT}")
    lines.append(f"{name}:")
    return "\n".join(lines)
