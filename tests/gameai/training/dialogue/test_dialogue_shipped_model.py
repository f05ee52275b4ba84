"""The shipped model in assets/dialogue/model: loads offline, replies in persona, deterministic.

Replies are sampled for held-out condition combinations (never seen in training) and
scored with the same persona classifier ``gameai eval dialogue`` uses.
"""

import json
import threading
from pathlib import Path

import pytest
import torch

from gameai.dialogue.hf_backend import MODEL_CARD_FILE
from gameai.dialogue.prompt import END
from gameai.dialogue.types import DialogueContext, GenerationParams
from gameai.training.dialogue.corpus.generate import Example, load_examples
from gameai.training.dialogue.evaluate import adherence_classifiers, generate_reply, load_dialogue_model
from gameai.training.dialogue.metrics import NaiveBayesClassifier, is_well_formed
from gameai.vocabulary import PERSONAS

ASSETS = Path(__file__).parents[4] / "assets" / "dialogue"
MODEL = ASSETS / "model"


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def loaded() -> tuple[torch.nn.Module, object]:
    return load_dialogue_model(MODEL, torch.device("cpu"))


@pytest.fixture(scope="module")
def corpus() -> tuple[list[Example], list[Example]]:
    return load_examples(ASSETS / "corpus" / "train.jsonl.gz"), load_examples(
        ASSETS / "corpus" / "heldout.jsonl.gz"
    )


@pytest.fixture(scope="module")
def persona_classifier(corpus: tuple[list[Example], list[Example]]) -> NaiveBayesClassifier:
    return adherence_classifiers(corpus[0])[0]


def heldout_sample(heldout: list[Example], per_persona: int) -> list[Example]:
    """The first examples of distinct held-out combinations, ``per_persona`` for each persona."""
    chosen: dict[str, list[Example]] = {p: [] for p in PERSONAS}
    combos: set[str] = set()
    for example in heldout:
        if example.combo not in combos and len(chosen[example.persona]) < per_persona:
            combos.add(example.combo)
            chosen[example.persona].append(example)
    return [e for examples in chosen.values() for e in examples]


def test_shipped_files_are_transformers_format_half_precision_and_small() -> None:
    card = json.loads((MODEL / MODEL_CARD_FILE).read_text())
    assert card["format"] == 1 and card["eos_token"] == END
    assert card["weights_dtype"] in ("float16", "bfloat16")
    config = json.loads((MODEL / "config.json").read_text())
    assert config["model_type"] == "llama"
    assert (MODEL / "model.safetensors").exists() and (MODEL / "tokenizer.json").exists()
    assert not [p for p in MODEL.iterdir() if p.suffix in (".bin", ".pt", ".pkl", ".pth")]
    total = sum(p.stat().st_size for p in ASSETS.rglob("*") if p.is_file())
    assert total < 15 * 1024 * 1024, f"assets/dialogue is {total / 2**20:.1f} MiB"


def test_replies_to_heldout_combinations_are_well_formed_and_in_persona(
    loaded: tuple, corpus: tuple[list[Example], list[Example]], persona_classifier: NaiveBayesClassifier
) -> None:
    model, tokenizer = loaded
    sample = heldout_sample(corpus[1], per_persona=6)
    replies = [generate_reply(model, tokenizer, e.prompt, seed=i) for i, e in enumerate(sample)]
    assert all(r.text for r in replies)
    well_formed = sum(is_well_formed(r.text, r.ended) for r in replies) / len(replies)
    in_persona = persona_classifier.accuracy([r.text for r in replies], [e.persona for e in sample])
    assert well_formed >= 0.9, [r.text for r in replies]
    assert in_persona >= 0.85, [(e.persona, r.text) for e, r in zip(sample, replies, strict=True)]


def test_same_seed_same_reply(loaded: tuple, corpus: tuple[list[Example], list[Example]]) -> None:
    model, tokenizer = loaded
    prompt = corpus[1][0].prompt
    first = generate_reply(model, tokenizer, prompt, seed=7, temperature=1.0)
    assert generate_reply(model, tokenizer, prompt, seed=7, temperature=1.0) == first
    others = {generate_reply(model, tokenizer, prompt, seed=s, temperature=1.0).text for s in range(8, 14)}
    assert others - {first.text}, "sampling ignores the seed"


def test_streams_through_the_hf_backend_in_persona(persona_classifier: NaiveBayesClassifier) -> None:
    from gameai.dialogue.hf_backend import HuggingFaceBackend

    backend = HuggingFaceBackend.load(MODEL)
    assert backend.prompt_style == "gameai"
    hits = 0
    for persona in PERSONAS:
        for seed, line in enumerate(("Hello there.", "Any advice?")):
            context = DialogueContext(
                npc_id=f"npc-{persona}", persona=persona, player_line=line, behaviour="explorer"
            )
            deltas = list(
                backend.stream(context, GenerationParams(seed=seed, max_new_tokens=64), threading.Event())
            )
            text = "".join(d.text for d in deltas)
            assert len(deltas) > 1, "not streamed"
            assert deltas[-1].finish_reason in ("stop", "length")
            assert is_well_formed(text), text
            hits += persona_classifier.predict(text) == persona
    assert hits >= 7
