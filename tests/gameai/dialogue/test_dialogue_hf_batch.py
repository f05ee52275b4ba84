"""Batched generation gives each reply exactly what it gets alone: same tokens, text, stops and counts."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch

from gameai.dialogue.hf_backend import HuggingFaceBackend
from gameai.dialogue.hf_batch import HuggingFaceBatch, can_batch
from gameai.dialogue.types import (
    DialogueBatch,
    DialogueContext,
    FinishReason,
    GenerationParams,
    ReplyProgress,
    TextDelta,
)
from gameai.paths import resolve_path
from gameai.protocol.messages import NpcCard
from gameai.testing.tiny_models import write_tiny_dialogue_model

CONTEXTS = [
    DialogueContext(npc_id="n", npc=NpcCard(name=name, role=role), player_line=line)
    for role, name in (("blacksmith", "Brann"), ("scout", "Kestrel"), ("healer", "Mira"), ("rival", "Vex"))
    for line in ("Hi.", "Can you fix my sword, please? I need it before the match tonight.")
]
PARAMS = [
    GenerationParams(max_new_tokens=max_new, temperature=temperature, top_p=top_p, seed=seed)
    for seed, (max_new, temperature, top_p) in enumerate(
        [(20, 0.8, 0.95), (12, 0.0, 1.0), (24, 1.0, 1.0), (6, 0.8, 0.9),
         (20, 1.2, 0.95), (16, 0.0, 1.0), (24, 0.7, 0.5), (3, 1.0, 0.95)]
    )
]  # fmt: skip

Reply = tuple[str, int, FinishReason | None]
"""Text, tokens and finish reason (where the text is cut into deltas may differ: the last one can
carry two pieces)."""


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("batch")
    dirs = {style: write_tiny_dialogue_model(root / style, style) for style in ("plain", "chat", "gameai")}
    dirs["short"] = write_tiny_dialogue_model(root / "short", "chat", n_positions=48)
    dirs["llama"] = write_tiny_dialogue_model(root / "llama", "gameai", architecture="llama")
    return dirs


def _alone(backend: HuggingFaceBackend, context: DialogueContext, params: GenerationParams) -> Reply:
    deltas = list(backend.stream(context, params, threading.Event()))
    assert all(d.finish_reason is None for d in deltas[:-1])
    return "".join(d.text for d in deltas), sum(d.tokens for d in deltas), deltas[-1].finish_reason


def _run(
    batch: DialogueBatch, jobs: list[tuple[DialogueContext, GenerationParams]], join_per_step: int
) -> tuple[list[Reply], int]:
    """Add ``join_per_step`` jobs before each step until all joined; step until all ended.

    Returns:
        Each job's reply, and the largest number of replies in the batch at once.
    """
    keys: dict[int, int] = {}
    texts = [""] * len(jobs)
    tokens = [0] * len(jobs)
    reasons: list[FinishReason | None] = [None] * len(jobs)
    ended: list[int] = []
    waiting = list(enumerate(jobs))
    widest = 0
    while waiting or len(batch):
        for index, (context, params) in waiting[:join_per_step]:
            keys[batch.add(context, params, threading.Event())] = index
        waiting = waiting[join_per_step:]
        widest = max(widest, len(batch))
        for progress in batch.step():
            index = keys[progress.key]
            assert index not in ended, "a reply came back after it ended"
            texts[index] += progress.delta.text
            tokens[index] += progress.delta.tokens
            if progress.done:
                reasons[index] = progress.delta.finish_reason
                ended.append(index)
    assert sorted(ended) == list(range(len(jobs)))
    return list(zip(texts, tokens, reasons, strict=True)), widest


@pytest.mark.parametrize("style", ["plain", "chat", "gameai", "llama"])
@pytest.mark.parametrize("join_per_step", [8, 3, 1])
def test_a_reply_is_the_same_alone_or_in_a_batch(
    model_dirs: dict[str, Path], style: str, join_per_step: int
) -> None:
    backend = HuggingFaceBackend.load(model_dirs[style])
    jobs = list(zip(CONTEXTS, PARAMS, strict=True))
    batch = backend.open_batch()
    assert isinstance(batch, HuggingFaceBatch)
    replies, widest = _run(batch, jobs, join_per_step)
    assert widest > 1  # they really ran together
    expected = [_alone(backend, context, params) for context, params in jobs]
    assert replies == expected
    for (_, tokens, reason), params in zip(replies, PARAMS, strict=True):
        assert tokens <= params.max_new_tokens  # 0 when a stop sequence comes first
        assert reason == "length" if tokens == params.max_new_tokens else reason == "stop"


def test_the_shipped_model_batches_sampled_replies_exactly() -> None:
    directory = resolve_path("assets/dialogue/model")
    if not (directory / "model.safetensors").is_file():
        pytest.skip("the shipped dialogue model is not present")
    backend = HuggingFaceBackend.load(directory)
    jobs = list(zip(CONTEXTS, PARAMS, strict=True))
    batch = backend.open_batch()
    assert batch is not None
    replies, _ = _run(batch, jobs, 3)
    assert replies == [_alone(backend, c, p) for c, p in jobs]
    assert all(text for text, _, _ in replies)  # the trained model says something to everyone


def test_stop_sequences_cut_each_row_like_the_single_stream(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    greedy = GenerationParams(max_new_tokens=24, temperature=0.0)
    full = _alone(backend, CONTEXTS[0], greedy)[0]
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    assert stop and len(full) > 6
    jobs = [
        (CONTEXTS[0], GenerationParams(max_new_tokens=24, temperature=0.0, stop=(stop,))),
        (CONTEXTS[1], greedy),
    ]
    batch = backend.open_batch()
    assert batch is not None
    replies, _ = _run(batch, jobs, 2)
    assert replies[0][0] == full[: full.index(stop)] and replies[0][2] == "stop"
    assert replies[1] == _alone(backend, CONTEXTS[1], greedy)


def test_long_prompts_are_cut_to_the_context_in_a_batch(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["short"])  # 48 positions
    long = DialogueContext(npc_id="n", npc=NpcCard(name="Kestrel", role="scout"), player_line="word " * 300)
    params = GenerationParams(max_new_tokens=40, temperature=1.0, seed=1)
    jobs = [
        (long, params),
        (CONTEXTS[0], params),
        (long, GenerationParams(max_new_tokens=8, temperature=0.0)),
    ]
    batch = backend.open_batch()
    assert batch is not None
    replies, _ = _run(batch, jobs, 1)
    assert replies == [_alone(backend, c, p) for c, p in jobs]
    assert replies[0][1] <= 24 and replies[2][1] <= 8  # at most half the context for a long prompt
    assert replies[0][1:] == (24, "length")  # the prompt's room, not the 40 asked for, ended it


def test_cancel_ends_only_its_row(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    batch = backend.open_batch()
    assert batch is not None
    # A seed whose reply runs past the cancel (three steps), so the cancel is what ends it.
    seeded = [GenerationParams(max_new_tokens=40, temperature=1.0, seed=seed) for seed in range(50)]
    params = next(p for p in seeded if _alone(backend, CONTEXTS[2], p)[1] > 4)
    cancel = threading.Event()
    cancelled = batch.add(CONTEXTS[2], params, cancel)
    other = batch.add(CONTEXTS[3], params, threading.Event())
    steps = [batch.step(), batch.step()]
    cancel.set()
    steps.append(batch.step())
    assert ReplyProgress(cancelled, TextDelta("", 0, "cancelled")) in steps[-1]
    while len(batch):
        steps.append(batch.step())
    assert all(p.key == other for step in steps[3:] for p in step)
    text = "".join(p.delta.text for step in steps for p in step if p.key == other)
    assert text == _alone(backend, CONTEXTS[3], params)[0]


def test_a_reply_cancelled_before_it_joins_never_runs(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    batch = backend.open_batch()
    assert batch is not None
    cancel = threading.Event()
    cancel.set()
    key = batch.add(CONTEXTS[0], GenerationParams(max_new_tokens=10), cancel)
    assert batch.step() == [ReplyProgress(key, TextDelta("", 0, "cancelled"))]
    assert len(batch) == 0


def test_models_with_a_plain_kv_cache_can_batch(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["plain"])
    assert can_batch(backend.model)
    assert not can_batch(object())


def test_a_reply_cannot_point_at_a_fact_its_prompt_does_not_show() -> None:
    """The markers of facts a prompt does not show, and the behaviour's when it names none, are
    banned on both paths (the shipped model)."""
    from gameai.dialogue.prompt import BEHAVIOUR_REF, FACTS

    backend = HuggingFaceBackend.load(resolve_path("assets/dialogue/model"), "cpu")
    card = NpcCard(
        name="Rosa", facts=("A room costs 5 silver a night.", "Wolves were seen on the north road.")
    )
    marker_ids = [backend.tokenizer.convert_tokens_to_ids(m) for m in FACTS]
    none_shown = backend.encode(
        DialogueContext(npc_id="r", npc=card, player_line="Where is the lair?"), GenerationParams()
    )
    one_shown = backend.encode(
        DialogueContext(npc_id="r", npc=card, player_line="How much is a room?"), GenerationParams()
    )
    behaviour_id = backend.tokenizer.convert_tokens_to_ids(BEHAVIOUR_REF)
    assert none_shown.banned_token_ids == (*marker_ids, behaviour_id) and not none_shown.facts
    assert one_shown.banned_token_ids == (*marker_ids[1:], behaviour_id) and len(one_shown.facts) == 1
    aims = DialogueContext(npc_id="r", npc=card, player_line="Hi", behaviour="x", behaviour_text="You aim.")
    described = backend.encode(aims, GenerationParams())
    assert behaviour_id not in described.banned_token_ids and described.behaviour == "You aim."
    logits = torch.zeros((2, len(backend.tokenizer)))
    logits[:, marker_ids[0]] = 50.0  # both rows would point at f1
    batch = HuggingFaceBatch(backend)
    for context in ("Where is the lair?", "How much is a room?"):
        batch.add(
            DialogueContext(npc_id="r", npc=card, player_line=context),
            GenerationParams(temperature=0.0),
            threading.Event(),
        )
    rows = batch._joining
    assert HuggingFaceBatch._pick(rows, logits.clone())[1] == marker_ids[0]
    assert HuggingFaceBatch._pick(rows, logits.clone())[0] != marker_ids[0]
