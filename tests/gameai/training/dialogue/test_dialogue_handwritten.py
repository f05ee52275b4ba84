"""The hand-written evaluation set: a valid file apart from the corpus, scored as the service answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gameai.dialogue.npc_card import knowledge, relevant_knowledge
from gameai.dialogue.types import DialogueContext, GenerationParams
from gameai.training.dialogue.handwritten import HANDWRITTEN_FILE, handwritten_figures, load_handwritten

ASSETS = Path(__file__).parents[4] / "assets" / "dialogue"
REPO = Path(__file__).parents[4]


class FirstShownFactBackend:
    """Answers with the first fact the ranking shows, or "I don't know." when none is shown."""

    name = "first-shown-fact"
    version = "0"

    def stream(
        self, context: DialogueContext, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        assert context.npc is not None
        shown = relevant_knowledge(context.player_line, knowledge(context.npc))
        yield shown[0] if shown else "I don't know."


def test_the_shipped_set_has_both_splits_and_questions_of_both_kinds() -> None:
    cards, questions = load_handwritten(ASSETS / HANDWRITTEN_FILE)
    assert len(cards) >= 12
    for split in ("dev", "test"):
        asked = [q for q in questions if q.split == split]
        assert sum(bool(q.answer) for q in asked) >= 25 and sum(not q.answer for q in asked) >= 10
    for q in questions:  # every answer is written on its card
        if q.answer:
            assert q.answer.lower() in " ".join(knowledge(cards[q.card_id])).lower(), q


def test_the_corpus_never_reads_the_set() -> None:
    for module in (REPO / "gameai" / "training" / "dialogue" / "corpus").glob("*.py"):
        text = module.read_text()
        assert "freeform" not in text and "HANDWRITTEN" not in text, module


def test_figures_score_answers_and_abstentions_per_split() -> None:
    figures = handwritten_figures(FirstShownFactBackend(), ASSETS / HANDWRITTEN_FILE, seeds=2)
    cards, questions = load_handwritten(ASSETS / HANDWRITTEN_FILE)
    for split in ("dev", "test"):
        asked = [q for q in questions if q.split == split]
        answerable = [q for q in asked if q.answer]
        expected = []
        for q in answerable:
            shown = relevant_knowledge(q.line, knowledge(cards[q.card_id]))
            expected.append(bool(shown) and q.answer.lower() in shown[0].lower())
        assert figures[split]["answerable"] == len(answerable)
        assert figures[split]["fact_accuracy"] == pytest.approx(sum(expected) / len(expected))
        assert 0 < figures[split]["abstention"] < 1  # some unanswerable lines share a word with a fact
        assert all(m["reply"] for m in figures[split]["misses"])


def test_a_question_to_a_missing_card_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "set.toml"
    path.write_text('[cards.a]\nsplit = "dev"\nname = "A"\n[[questions]]\ncard = "b"\nline = "Hi?"\n')
    with pytest.raises(ValueError, match="names no card"):
        load_handwritten(path)
    path.write_text('[cards.a]\nname = "A"\n')
    with pytest.raises(ValueError, match="split"):
        load_handwritten(path)
