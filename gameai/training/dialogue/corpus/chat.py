"""General conversation for pretraining, from two packages that install offline from PyPI.

- ``chitchat-dataset`` (MIT): 7,168 two-person conversations, one JSON file.
- ``chatterbot-corpus`` (BSD): short English small-talk exchanges in YAML.

Both are optional (the ``dialogue-data`` extra). Each consecutive pair of messages becomes
an example whose prompt has every NPC field unknown (see :func:`chat_prompt`), so
pretraining teaches the same prompt format the NPC corpus uses.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gameai.dialogue.prompt import clean_text, format_fields
from gameai.training.dialogue.corpus.generate import write_jsonl

MAX_CHAT_CHARS = 160
"""Longer messages are skipped: NPC replies are short."""

_LETTER = re.compile(r"[A-Za-z]")


def chat_prompt(player_line: str) -> str:
    """The prompt of a general-conversation example: an empty card, unknown mood and behaviour."""
    return format_fields(
        "", "", [], "", mood=None, behaviour=None, events=[], facts=[], player_line=player_line
    )


def _tidy(text: str) -> str:
    text = clean_text(text, max_chars=10_000)
    return text[:1].upper() + text[1:]


def chitchat_conversations() -> Iterator[list[str]]:
    """Conversations of ``chitchat-dataset``: each a list of messages (a speaker's turn).

    Raises:
        ModuleNotFoundError: If the package is not installed.
    """
    import chitchat_dataset

    path = Path(chitchat_dataset.__file__).with_name("dataset.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    for conversation in data.values():
        yield [" ".join(u["text"] for u in message) for message in conversation["messages"]]


def chatterbot_conversations() -> Iterator[list[str]]:
    """The English conversations of ``chatterbot-corpus``.

    Raises:
        ModuleNotFoundError: If the package (or PyYAML) is not installed.
    """
    import chatterbot_corpus
    import yaml

    root = Path(chatterbot_corpus.__file__).with_name("data") / "english"
    for path in sorted(root.glob("*.yml")):
        for conversation in yaml.safe_load(path.read_text(encoding="utf-8")).get("conversations", []):
            yield [str(message) for message in conversation]


def conversation_pairs(conversation: list[str]) -> Iterator[tuple[str, str]]:
    """Consecutive (said, answered) pairs of a conversation, tidied; too-long or empty ones skipped."""
    messages = [_tidy(m) for m in conversation]
    for said, answered in itertools.pairwise(messages):
        if not _LETTER.search(said) or not _LETTER.search(answered):
            continue
        if len(said) > MAX_CHAT_CHARS or len(answered) > MAX_CHAT_CHARS:
            continue
        yield said, answered


def build_chat_data(out_dir: Path, valid_fraction: float = 0.02, seed: int = 0) -> dict[str, int]:
    """Write ``chat_train.jsonl.gz`` and ``chat_valid.jsonl.gz`` (rows: prompt, reply).

    Whole conversations go to one split or the other.

    Returns:
        Example counts per split.

    Raises:
        ModuleNotFoundError: If the ``dialogue-data`` extra is not installed.
    """
    conversations = list(chitchat_conversations()) + list(chatterbot_conversations())
    rng = np.random.default_rng([seed, 3])
    is_valid = rng.random(len(conversations)) < valid_fraction
    splits: dict[str, list[dict[str, str]]] = {"train": [], "valid": []}
    for conversation, valid in zip(conversations, is_valid, strict=True):
        rows = splits["valid" if valid else "train"]
        rows.extend({"prompt": chat_prompt(a), "reply": b} for a, b in conversation_pairs(conversation))
    order = rng.permutation(len(splits["train"]))
    splits["train"] = [splits["train"][i] for i in order]
    for name, rows in splits.items():
        write_jsonl(out_dir / f"chat_{name}.jsonl.gz", rows)
    return {name: len(rows) for name, rows in splits.items()}
