"""A game's own labels: a toy game's dataset through `gameai train behaviour all --dataset` and `eval`.

The toy game (:mod:`gameai.testing.toy_game`): a dot on a flat background that stays still,
drifts slowly or moves fast (the classes), one colour scheme per player. Only the motion tells
the classes apart.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.calibration import CALIBRATION_KEY, checked_calibration
from gameai.behaviour.dataset import read_dataset
from gameai.behaviour.look import load_frame_look
from gameai.behaviour.model import load_behaviour_model
from gameai.cli import main
from gameai.testing.toy_game import SIZE, write_toy_dataset
from gameai.training.behaviour.calibrate import CALIBRATION_MINIMA
from gameai.training.behaviour.dataset_splits import split_players

pytestmark = pytest.mark.xdist_group("behaviour_dataset_e2e")

SHARES = ("0.5", "0.1", "0.2", "0.2")
TINY_MODEL = ["--frames-per-window", "8", "--conv-channels", "8", "16", "16", "--hidden", "64",
              "--fine-keypoints", "1", "--batch-size", "80", "--clip-frames", "12", "--lr", "3e-3",
              "--warmup-steps", "5", "--val-windows", "512", "--threads", "1", "--device", "cpu",
              "--ensemble-members", "1", "--split-shares", *SHARES]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`all --dataset` run in a fresh directory, with the default models and checkpoints directories."""
    root = tmp_path_factory.mktemp("dataset")
    write_toy_dataset(root / "data")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        options = ["--dataset", "data", *TINY_MODEL, "--max-epochs", "6", "--patience", "6",
                   "--windows-per-epoch", "2000"]  # fmt: skip
        assert main(["train", "behaviour", "all", *options]) == 0
    return root


def test_the_model_has_the_games_classes_and_goes_to_its_models_directory(trained: Path) -> None:
    model_dir = trained / "assets" / "toy" / "behaviour"
    model = load_behaviour_model(model_dir)
    assert model.config.class_names == ("still", "slow", "fast")
    assert model.config.frame_size == (SIZE, SIZE) and model.config.sample_fps == 5.0
    metadata = model.metadata
    dataset = read_dataset(trained / "data")
    assert metadata["game_id"] == "toy" and metadata["accusation_classes"] == ["fast"]
    assert metadata["dataset"] == {"path": "data", "manifest_sha256": dataset.manifest_sha256(),
                                   "split_shares": [0.5, 0.1, 0.2, 0.2]}  # fmt: skip
    players = split_players(dataset.players, (0.5, 0.1, 0.2, 0.2))
    assert {split: entry["players"] for split, entry in metadata["data"].items()} == {
        split: len(ids) for split, ids in players.items()
    }
    assert (trained / "checkpoints" / "behaviour-toy" / "last" / "state.json").is_file()
    state = json.loads((trained / "checkpoints" / "behaviour-toy" / "last" / "state.json").read_text())
    assert state["config"]["position_weight"] == 0.0 and "train_position_pixels" not in state["history"][0]


def test_it_tells_the_classes_apart_on_held_out_players(trained: Path) -> None:
    model_dir = trained / "assets" / "toy" / "behaviour"
    report = json.loads((model_dir / "eval.json").read_text())
    assert set(report["splits"]) == {"test"} and report["goals"] == {}
    test = report["splits"]["test"]
    test_players = split_players(read_dataset(trained / "data").players, (0.5, 0.1, 0.2, 0.2))["test"]
    assert test["players"] == len(test_players) >= 3
    for view in ("window", "served"):  # chance is 1/3
        assert test[view]["macro_f1"] >= 0.8, (view, test[view]["confusion"])
        assert set(test[view]["per_class"]) == {"still", "slow", "fast"}
        assert np.array(test[view]["confusion"]).shape == (3, 3)
    assert [row["threshold"] for row in test["served"]["accusation_thresholds"]["fast"]] == [
        0.5,
        0.7,
        0.8,
        0.9,
    ]
    assert (
        load_behaviour_model(model_dir).metadata["eval"]["splits"]["test"]["served"]["macro_f1"]
        == (test["served"]["macro_f1"])
    )
    assert (model_dir / "confusion_test_served.png").stat().st_size > 1000


def test_each_accusation_class_is_calibrated_on_the_calibration_players(trained: Path) -> None:
    model_dir = trained / "assets" / "toy" / "behaviour"
    metadata = load_behaviour_model(model_dir).metadata
    calibration = metadata["accusation_calibration"]["fast"]
    assert calibration == json.loads((model_dir / "calibration.json").read_text())["fast"]
    assert checked_calibration({CALIBRATION_KEY: calibration}) is not None  # the arena's structure
    assert [row["min_probability"] for row in calibration["rows"]] == list(CALIBRATION_MINIMA)
    calibration_players = split_players(read_dataset(trained / "data").players, (0.5, 0.1, 0.2, 0.2))
    assert calibration["players"] == len(calibration_players["calibration"]) >= 3
    assert calibration["rows"][0]["recall"] > 0.5
    assert CALIBRATION_KEY not in metadata  # the arena's key stays the arena's
    # The served view holds "fast" to what its calibration gives (the default precision 0.97).
    guard = json.loads((model_dir / "eval.json").read_text())["accusation_guards"]["fast"]
    assert guard["default"] and (guard["min_precision"] == 0.97 or guard["reason"])


def test_eval_command_scores_other_splits_of_the_dataset(
    trained: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = trained / "assets" / "toy" / "behaviour"
    args = ["eval", "behaviour", "--model-dir", str(model_dir), "--dataset", str(trained / "data"),
            "--splits", "test", "calibration", "--output-dir", str(trained / "eval"), "--threads", "1",
            "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["splits"]) == {"test", "calibration"}
    assert report["data"]["directory"] == str(trained / "data")
    assert main([*args[:-6], "--splits", "heldout", "--device", "cpu"]) == 2
    assert "a behaviour dataset has the splits" in capsys.readouterr().err
    every = ["eval", "behaviour", "--model-dir", str(model_dir), "--dataset", str(trained / "data"),
             "--splits", "all", "--output-dir", str(trained / "eval-all"), "--device", "cpu"]  # fmt: skip
    assert main(every) == 0
    windows = json.loads(capsys.readouterr().out)["splits"]["all"]["window"]["windows"]
    scored = sum(report["splits"][split]["window"]["windows"] for split in ("test", "calibration"))
    assert windows > scored  # every player: the train and val players' windows too
    monkeypatch.chdir(trained)  # no --model-dir: the dataset's game's model
    args = ["eval", "behaviour", "--dataset", "data", "--output-dir", "eval-default", "--device", "cpu"]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"]["directory"] == "assets/toy/behaviour" and set(report["splits"]) == {"test"}


def test_record_and_too_few_players_are_refused_clearly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_toy_dataset(tmp_path / "data", players=2, frames=12)
    paths = ["--dataset", str(tmp_path / "data"), "--work-dir", str(tmp_path / "work"),
             "--runs-dir", str(tmp_path / "runs")]  # fmt: skip
    assert main(["train", "behaviour", "record", *paths]) == 2
    assert "record plays the arena" in capsys.readouterr().err
    assert main(["train", "behaviour", "fit", *paths, *TINY_MODEL]) == 2
    error = capsys.readouterr().err
    assert "has no player (2 players: train" in error and "record more players" in error


def test_all_makes_a_look_that_never_calls_the_games_own_players_unknown(trained: Path) -> None:
    """Each toy player has colours of its own, so no colour is the game's: the look cannot tell the
    toy from other scenes and says so (``separated`` false), keeping its threshold above every
    held-out player's windows rather than calling the game's own players unknown."""
    look = load_frame_look(trained / "assets" / "toy" / "behaviour")
    assert look is not None
    assert look.metadata["own_unknown_share"] == 0.0 and not look.metadata["separated"]
    assert set(look.metadata["own_unknown_share_by_split"]) == {"val", "test", "calibration"}
    assert (
        look.metadata["data_manifest_sha256"]
        == load_behaviour_model(trained / "assets" / "toy" / "behaviour").metadata["data_manifest_sha256"]
    )


def test_a_games_model_is_fine_tuned_on_new_play_from_its_exported_weights(trained: Path) -> None:
    """After a game update: new sessions, the same classes; --init-from starts from the shipped model."""
    write_toy_dataset(trained / "data-update", players=20, seed=7)
    model_dir = trained / "assets" / "toy" / "behaviour"
    common = ["--dataset", str(trained / "data-update"), *TINY_MODEL, "--max-epochs", "1",
              "--windows-per-epoch", "400"]  # fmt: skip
    losses = []
    for name, extra in (("new", []), ("tuned", ["--init-from", str(model_dir), "--lr", "1e-4"])):
        work = trained / f"checkpoints-{name}"
        assert main(["train", "behaviour", "fit", *common, "--work-dir", str(work), *extra]) == 0
        losses.append(json.loads((work / "last" / "state.json").read_text())["history"][-1]["val_loss"])
    new_loss, tuned_loss = losses
    assert tuned_loss < 0.7 * new_loss, losses
    state = json.loads((trained / "checkpoints-tuned" / "last" / "state.json").read_text())
    assert state["init_from"]["version"] == load_behaviour_model(model_dir).version
