"""What an NPC may say about how the player plays: the recognised behaviour as a sentence.

The behaviour service names a class of the game's own (``aggressive``, ``stomper``...). The
dialogue model never sees the label: the prompt carries a sentence about it (the ``behaviour``
field), and a reply that remarks on the player's play points at that sentence with
:data:`~gameai.dialogue.prompt.BEHAVIOUR_REF`, which the backend expands as it expands a fact.
So an NPC can remark on any game's classes, in the game's words, and a model trained on
made-up classes needs no retraining for a new game.

The sentence is the game's own when its NPC file has one for the label (a ``behaviours`` table
of label -> sentence, beside ``npcs``; :func:`load_behaviour_texts`), else
:func:`generic_behaviour_text`'s::

    [behaviours]
    aggressive = "You charge at every enemy you see."
    bot_like = "You move with a machine's perfect regularity."
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from gameai.dialogue.npc_card import CardFileError, read_card_file

#: Longest behaviour sentence (the prompt field's limit).
MAX_BEHAVIOUR_TEXT: Final = 160
#: Most labels one file may describe.
MAX_BEHAVIOUR_TEXTS: Final = 256

_LABEL: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$")
_MARKER_LIKE: Final = re.compile(r"<\||\|>")


class BehaviourTextError(CardFileError):
    """A ``behaviours`` table is invalid (the message names the file and the entry); an NPC
    file error like any other."""


def generic_behaviour_text(label: str) -> str:
    """The sentence for a label its game did not describe: ``I'd call your play style bot-like.``"""
    words = " ".join(label.replace("_", "-").split())
    return f"I'd call your play style {words}."


def behaviour_text(label: str | None, texts: Mapping[str, str]) -> str | None:
    """The sentence about ``label`` (None for no known behaviour): the game's, else the generic one."""
    if not label:
        return None
    return texts.get(label) or generic_behaviour_text(label)


def parse_behaviour_texts(value: Any, where: str) -> dict[str, str]:
    """Validate a ``behaviours`` table: label (1-64 letters, digits, ``_`` or ``-``) -> a
    sentence of 1-:data:`MAX_BEHAVIOUR_TEXT` characters with no prompt marker.

    Raises:
        BehaviourTextError: What is wrong, naming ``where`` and the label.
    """
    if not isinstance(value, dict):
        raise BehaviourTextError(f"{where}: expected a table of behaviour label -> sentence")
    if len(value) > MAX_BEHAVIOUR_TEXTS:
        raise BehaviourTextError(f"{where}: {len(value)} labels, at most {MAX_BEHAVIOUR_TEXTS}")
    texts: dict[str, str] = {}
    for label, text in value.items():
        if not _LABEL.match(label):
            raise BehaviourTextError(
                f"{where}: label {label[:70]!r} must be 1-64 letters, digits, '_' or '-'"
            )
        if not isinstance(text, str) or not text.strip():
            raise BehaviourTextError(f"{where}.{label}: expected a non-empty sentence")
        sentence = " ".join(text.split())
        if len(sentence) > MAX_BEHAVIOUR_TEXT:
            raise BehaviourTextError(
                f"{where}.{label}: {len(sentence)} characters, at most {MAX_BEHAVIOUR_TEXT}"
            )
        if _MARKER_LIKE.search(sentence):
            raise BehaviourTextError(f"{where}.{label}: '<|' and '|>' are reserved for prompt markers")
        texts[label] = sentence
    return texts


def load_behaviour_texts(path: str | Path) -> dict[str, str]:
    """The ``behaviours`` table of an NPC file (TOML or JSON); empty when the file has none.

    Raises:
        CardFileError: The file cannot be read or parsed (:func:`~gameai.dialogue.npc_card.read_card_file`),
            or the table is invalid (:class:`BehaviourTextError`).
    """
    path = Path(path)
    data = read_card_file(path)
    table = data.get("behaviours") if isinstance(data, dict) else None
    return {} if table is None else parse_behaviour_texts(table, f"{path}: behaviours")
