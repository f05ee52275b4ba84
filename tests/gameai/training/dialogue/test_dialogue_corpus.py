"""The corpus: line banks parse, expansion is deterministic, the split never leaks a combination."""

from pathlib import Path

import numpy as np
import pytest

from gameai.dialogue.prompt import MOODS
from gameai.training.dialogue.corpus.generate import (
    BEHAVIOUR_VALUES,
    INTENT_WEIGHTS,
    SITUATIONS,
    CorpusConfig,
    all_combos,
    build_corpus,
    generate,
    load_examples,
    split_combos,
)
from gameai.training.dialogue.corpus.lines import load_banks, parse_lines
from gameai.training.dialogue.metrics import is_well_formed
from gameai.vocabulary import BEHAVIOURS, PERSONAS

LINES = Path(__file__).parents[4] / "assets" / "dialogue" / "lines"
SMALL = CorpusConfig(examples_per_combo=2)


@pytest.fixture(scope="module")
def small_corpus() -> tuple[list, list]:
    return generate(load_banks(LINES), SMALL)


def test_parse_lines_sections_slots_and_errors() -> None:
    bank = parse_lines("# c\n[slot item]\naxe\n\n[reply greeting]\nHi, {item}.\n[player silence]\n", "x")
    assert bank.get("reply", "greeting") == ["Hi, {item}."]
    assert bank.get("player", "silence") == []
    assert bank.fill("Hi, {item}.", np.random.default_rng(0)) == "Hi, axe."
    with pytest.raises(ValueError, match="before any"):
        parse_lines("orphan\n", "x")
    with pytest.raises(ValueError, match="bad section"):
        parse_lines("[just one]word\n", "x")


def test_every_persona_bank_covers_every_condition() -> None:
    banks = load_banks(LINES)
    for persona in PERSONAS:
        bank = banks[persona]
        for mood in MOODS:
            assert len(bank.get("mood", mood)) >= 4, (persona, mood)
        for behaviour in BEHAVIOUR_VALUES:
            assert len(bank.get("behaviour", behaviour)) >= 4, (persona, behaviour)
        for situation in set(SITUATIONS) - {"none"}:
            assert len(bank.get("event", situation)) >= 4, (persona, situation)
        for intent in INTENT_WEIGHTS:
            assert len(bank.get("reply", intent)) >= 5, (persona, intent)
        for line in (line for (kind, _), lines in bank.sections.items() if kind != "slot" for line in lines):
            bank.fill(line, np.random.default_rng(0))  # every slot used has fillers


def test_split_has_no_condition_combination_in_both(small_corpus: tuple[list, list]) -> None:
    train, heldout = small_corpus
    train_combos = {e.combo for e in train}
    heldout_combos = {e.combo for e in heldout}
    assert heldout_combos and not train_combos & heldout_combos
    assert len(train_combos | heldout_combos) == len(all_combos())
    # Each single value is still seen in training: only the combination is new.
    for values, index in ((PERSONAS, 0), (MOODS, 1), (BEHAVIOUR_VALUES, 2), (SITUATIONS, 3)):
        assert {c.split("/")[index] for c in train_combos} == set(values)


def test_split_is_seeded() -> None:
    assert split_combos(0.1, 0) == split_combos(0.1, 0)
    assert split_combos(0.1, 0)[1] != split_combos(0.1, 1)[1]


def test_examples_carry_their_conditions(small_corpus: tuple[list, list]) -> None:
    train, _ = small_corpus
    for example in train[:500]:
        assert example.prompt.startswith(f"<|persona|>{example.persona}<|mood|>{example.mood}<|behaviour|>")
        behaviour_field = example.prompt.split("<|behaviour|>")[1].split("<|")[0]
        assert behaviour_field == example.behaviour
        assert example.prompt.endswith("<|npc|>")
        assert is_well_formed(example.reply), example.reply
        if example.intent == "status" and example.behaviour in BEHAVIOURS:
            assert "behaviour" in example.parts


def test_build_corpus_is_reproducible(tmp_path: Path) -> None:
    first = build_corpus(LINES, tmp_path / "a", SMALL)
    second = build_corpus(LINES, tmp_path / "b", SMALL)
    assert first["sha256"] == second["sha256"]
    assert first["train_examples"] == len(load_examples(tmp_path / "a" / "train.jsonl.gz")) > 1000


def test_shipped_corpus_matches_its_manifest() -> None:
    corpus = LINES.parent / "corpus"
    if not (corpus / "manifest.json").exists():
        pytest.skip("corpus not built (gameai train dialogue corpus)")
    import json

    from gameai.model_files import sha256_of

    manifest = json.loads((corpus / "manifest.json").read_text())
    for name, digest in manifest["sha256"].items():
        assert sha256_of(corpus / name) == digest
    train = load_examples(corpus / "train.jsonl.gz")
    heldout = load_examples(corpus / "heldout.jsonl.gz")
    assert len(train) >= 10_000 and len(heldout) >= 1000
    assert not {e.combo for e in train} & {e.combo for e in heldout}
