"""``gameai train dialogue`` and ``gameai eval dialogue`` through the real command line."""

import json
import shutil
from pathlib import Path

import pytest

from gameai.cli import main

ASSETS = Path(__file__).parents[4] / "assets" / "dialogue"
TINY_MODEL = [
    "--vocab-size",
    "400",
    "--n-layer",
    "2",
    "--d-model",
    "64",
    "--n-head",
    "2",
    "--d-ff",
    "128",
    "--block-size",
    "96",
    "--batch-size",
    "16",
    "--finetune-steps",
    "6",
    "--warmup-steps",
    "2",
    "--eval-every",
    "3",
    "--eval-examples",
    "16",
    "--checkpoint-every",
    "3",
]


def copy_assets(assets: Path) -> None:
    """What the corpus step reads: voices, the player's lines, the shipped cards."""
    shutil.copytree(ASSETS / "voices", assets / "voices")
    (assets / "lines").mkdir()
    shutil.copy(ASSETS / "lines" / "player.txt", assets / "lines" / "player.txt")
    shutil.copy(ASSETS / "npcs.toml", assets / "npcs.toml")


def dirs(root: Path) -> list[str]:
    return [
        "--assets-dir",
        str(root / "assets"),
        "--work-dir",
        str(root / "work"),
        "--data-dir",
        str(root / "data"),
        "--runs-dir",
        str(root / "runs"),
    ]


def test_train_dialogue_corpus_step(tmp_path: Path) -> None:
    copy_assets(tmp_path / "assets")
    args = [
        "train",
        "dialogue",
        "corpus",
        *dirs(tmp_path),
        "--train-examples",
        "120",
        "--heldout-examples",
        "40",
    ]
    assert main(args) == 0
    assert sorted(p.name for p in (tmp_path / "work" / "corpus").iterdir()) == ["train.jsonl.gz"]
    shipped = tmp_path / "assets" / "corpus"
    assert sorted(p.name for p in shipped.iterdir()) == ["heldout.jsonl.gz", "manifest.json"]
    manifest = json.loads((shipped / "manifest.json").read_text())
    assert manifest["config"]["train_examples"] == manifest["train_examples"] == 120
    assert manifest["config"]["heldout_examples"] == manifest["heldout_examples"] == 40
    assert not (tmp_path / "data").exists()


def test_train_dialogue_rejects_unknown_step() -> None:
    with pytest.raises(SystemExit):
        main(["train", "dialogue", "everything"])


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model trained by ``gameai train dialogue all`` on a tiny corpus."""
    root = tmp_path_factory.mktemp("dialogue_cli")
    copy_assets(root / "assets")
    args = ["train", "dialogue", "all", *dirs(root), "--train-examples", "600", "--heldout-examples", "200"]
    assert main(args + TINY_MODEL) == 0
    assert (root / "assets" / "model" / "model.safetensors").exists()
    return root


def test_eval_dialogue_prints_and_writes_card_figures(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    out = tmp_path / "eval.json"
    args = ["eval", "dialogue", "--model", str(tiny_model / "assets" / "model")]
    args += ["--assets-dir", str(tiny_model / "assets"), "--work-dir", str(tiny_model / "work")]
    args += ["--samples", "12", "--perplexity-examples", "16", "--max-new-tokens", "12"]
    args += ["--speed-prompts", "1", "--json-out", str(out)]
    assert main(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(out.read_text())
    assert printed["perplexity"]["heldout"] > 1.0
    cards = printed["cards"]
    assert cards["samples"] == 12 and cards["answerable"] > 0 and cards["unanswerable"] > 0
    for key in ("fact_accuracy", "abstention", "false_abstention", "invention_rate", "well_formed", "ended"):
        assert isinstance(cards[key], float) and 0.0 <= cards[key] <= 1.0, key
    assert 0.0 <= cards["reference_voice"] <= 1.0
    assert cards["reference_intact_chat"] in (None, 1.0)  # the corpus's chit-chat is whole lines
    assert isinstance(cards["invented_examples"], list)
    assert printed["speed"]["ttft_ms"] > 0 and printed["speed"]["tokens_per_s"] > 0
    behaviour = printed["behaviour"]
    assert behaviour["examples"] > 0 and behaviour["heldout_sentences"]["sentences"] == 20
    assert behaviour["game_sentences"]["sentences"] == 12  # the arena's and the platformer's
    for sentences in ("heldout_sentences", "game_sentences"):
        for phrasing in ("heldout_phrasing", "training_phrasing"):
            assert 0.0 <= behaviour[sentences][phrasing]["adherence"] <= 1.0
    assert "baseline" not in printed


def test_eval_dialogue_says_the_training_split_is_missing(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GAMEAI_TRACEBACK", raising=False)
    args = ["eval", "dialogue", "--model", str(tiny_model / "assets" / "model")]
    args += ["--assets-dir", str(tiny_model / "assets"), "--work-dir", str(tmp_path / "elsewhere")]
    assert main([*args, "--samples", "2", "--perplexity-examples", "2", "--speed-prompts", "1"]) == 2
    error = capsys.readouterr().err
    assert str(tmp_path / "elsewhere" / "corpus" / "train.jsonl.gz") in error
    assert "gameai train dialogue corpus" in error
