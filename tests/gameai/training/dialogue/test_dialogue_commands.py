"""``gameai train dialogue`` and ``gameai eval dialogue`` through the real command line."""

import json
import shutil
from pathlib import Path

import pytest

from gameai.cli import main

ASSETS = Path(__file__).parents[4] / "assets" / "dialogue"


def test_train_dialogue_corpus_step(tmp_path: Path) -> None:
    shutil.copytree(ASSETS / "lines", tmp_path / "lines")
    args = ["train", "dialogue", "corpus", "--assets-dir", str(tmp_path), "--examples-per-combo", "1"]
    assert main(args) == 0
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert manifest["config"]["examples_per_combo"] == 1
    assert manifest["train_examples"] > manifest["heldout_examples"] > 0


def test_train_dialogue_rejects_unknown_step() -> None:
    with pytest.raises(SystemExit):
        main(["train", "dialogue", "everything"])


def test_eval_dialogue_prints_and_writes_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "eval.json"
    args = [
        "eval",
        "dialogue",
        "--samples",
        "6",
        "--perplexity-examples",
        "32",
        "--freeform-per-persona",
        "1",
    ]
    args += ["--speed-prompts", "1", "--data-dir", str(tmp_path / "none"), "--json-out", str(out)]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert 1.0 < printed["perplexity"]["heldout"] < 50.0 and "chat" not in printed["perplexity"]
    heldout = printed["heldout"]
    assert heldout["samples"] == 6
    for key in (
        "persona_adherence",
        "behaviour_adherence",
        "distinct_1",
        "distinct_2",
        "copied_from_training",
    ):
        assert 0.0 <= heldout[key] <= 1.0
    assert heldout["reference_persona_adherence"] > 0.8
    assert printed["freeform"]["samples"] == 4
    assert printed["speed"]["ttft_ms"] > 0 and printed["speed"]["tokens_per_s"] > 0
