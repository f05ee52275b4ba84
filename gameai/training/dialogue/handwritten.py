"""Cards and questions written by hand, apart from the corpus: how a model does on cards it was not made from.

The generated held-out split (``corpus/heldout.jsonl.gz``) has unseen words in the generator's
sentence forms. The hand-written set (``assets/dialogue/eval/freeform.toml``) has what game
developers write: facts in free sentences ("Wolves were seen on the north road last week.") and
questions in a player's own words, for twelve NPCs of as many genres. Its cards are split into
``dev`` (may be looked at while changing the corpus) and ``test`` (for figures only).

Each question is asked through a dialogue backend's ``stream``, exactly as the service asks it
(the card's knowledge ranked against the line, the prompt, the expansion of fact markers), at
several seeds. A question with an ``answer`` is right when the reply contains it; one without
is right when the reply says the NPC does not know (:func:`~gameai.training.dialogue.metrics.abstains`).
"""

from __future__ import annotations

import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from gameai.dialogue.npc_card import parse_card
from gameai.dialogue.types import DialogueBackend, DialogueContext, GenerationParams
from gameai.protocol.messages import NpcCard
from gameai.training.dialogue.metrics import abstains

#: The hand-written set, relative to the dialogue assets directory.
HANDWRITTEN_FILE: Final = Path("eval") / "freeform.toml"
#: The splits of the set.
SPLITS: Final = ("dev", "test")


@dataclass(frozen=True)
class HandwrittenQuestion:
    """One question to one hand-written card."""

    card_id: str
    line: str
    answer: str
    """What a right reply contains; empty when the card cannot answer (the NPC should say so)."""
    split: str
    """``dev`` or ``test``: the split of its card."""


def load_handwritten(path: Path) -> tuple[dict[str, NpcCard], list[HandwrittenQuestion]]:
    """Read the hand-written set: card id -> card, and the questions.

    Raises:
        ValueError: A card is invalid, has no split, or a question names a missing card.
    """
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    cards: dict[str, NpcCard] = {}
    splits: dict[str, str] = {}
    for card_id, raw in data.get("cards", {}).items():
        split = raw.get("split")
        if split not in SPLITS:
            raise ValueError(f"{path}: card {card_id!r} needs split = 'dev' or 'test'")
        cards[card_id] = parse_card({k: v for k, v in raw.items() if k != "split"}, f"cards.{card_id}")
        splits[card_id] = split
    questions = []
    for i, raw in enumerate(data.get("questions", [])):
        if raw.get("card") not in cards:
            raise ValueError(f"{path}: questions[{i}] names no card of the file: {raw.get('card')!r}")
        questions.append(
            HandwrittenQuestion(raw["card"], raw["line"], raw.get("answer", ""), splits[raw["card"]])
        )
    return cards, questions


def handwritten_figures(
    backend: DialogueBackend,
    path: Path,
    *,
    seeds: int = 3,
    temperature: float = 0.8,
    top_p: float = 0.95,
    max_new_tokens: int = 48,
) -> dict[str, Any]:
    """Fact accuracy and abstention on the hand-written set, per split.

    Args:
        backend: Any dialogue backend (ours, or SmolLM2's with the card as its system prompt).
        path: The set's TOML file.
        seeds: Replies sampled per question (seeds 0..seeds-1).
        temperature: Sampling temperature (0: greedy, one seed is enough).
        top_p: Nucleus sampling mass.
        max_new_tokens: Token limit of each reply.

    Returns:
        Per split: ``fact_accuracy`` (answerable questions whose reply holds the answer),
        ``false_abstention``, ``abstention`` (unanswerable questions declined), the counts,
        and ``misses``: the first wrong replies (seed 0), to read.
    """
    cards, questions = load_handwritten(path)
    out: dict[str, Any] = {"file": str(path), "seeds": seeds, "temperature": temperature}
    for split in SPLITS:
        right: list[bool] = []
        declined_answerable: list[bool] = []
        declined: list[bool] = []
        misses: list[dict[str, str]] = []
        for q in (q for q in questions if q.split == split):
            context = DialogueContext(npc_id=q.card_id, npc=cards[q.card_id], player_line=q.line)
            for seed in range(seeds):
                params = GenerationParams(
                    max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, seed=seed
                )
                reply = " ".join(
                    "".join(map(str, backend.stream(context, params, threading.Event()))).split()
                )
                ok = q.answer.lower() in reply.lower() if q.answer else abstains(reply)
                if q.answer:
                    right.append(ok)
                    declined_answerable.append(abstains(reply))
                else:
                    declined.append(ok)
                if not ok and seed == 0 and len(misses) < 12:
                    misses.append({"card": q.card_id, "player": q.line, "reply": reply, "answer": q.answer})
        mean = lambda xs: float(np.mean(xs)) if xs else None  # noqa: E731
        out[split] = {
            "answerable": len(right) // max(seeds, 1),
            "fact_accuracy": mean(right),
            "false_abstention": mean(declined_answerable),
            "unanswerable": len(declined) // max(seeds, 1),
            "abstention": mean(declined),
            "misses": misses,
        }
    return out
