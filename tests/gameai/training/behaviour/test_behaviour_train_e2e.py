"""A tiny end-to-end run through the CLI (record, fit, export, eval, calibrate), and resuming after a kill."""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from gameai.behaviour.calibration import CALIBRATION_KEY
from gameai.behaviour.model import (
    ensemble_of,
    fine_keypoint_xy,
    load_behaviour_model,
    member_of,
    save_behaviour_model,
    set_behaviour_metadata,
)
from gameai.cli import main
from gameai.errors import StepOrderError
from gameai.training.behaviour.calibrate import CALIBRATION_MINIMA
from gameai.training.behaviour.config import BehaviourTrainConfig
from gameai.training.behaviour.evaluate import guard_report
from gameai.training.behaviour.export import stored_copy
from gameai.training.behaviour.fit import fine_tune_start
from gameai.training.behaviour.record import manifest_sha256, read_manifest

# One xdist worker runs the whole module (`make test` passes `--dist loadgroup`), so the `trained`
# fixture below is built once, not once per worker.
pytestmark = pytest.mark.xdist_group("behaviour_train_e2e")

TINY_DATA = ["--train-players", "60", "--val-players", "3", "--test-players", "4", "--heldout-players", "3",
             "--frames-per-player", "20", "--warmup-seconds", "20", "--calibration-players", "3",
             "--calibration-frames-per-player", "40"]  # fmt: skip
# The shipped design (fine keypoints with the position loss, motion features) with one fine keypoint,
# one network (a test of its own fits an ensemble). Clips of 12 frames hold 5 windows of 8: each frame
# is encoded for 5 windows, not 1 (clips of 8), which makes the fits here 2.6x faster.
TINY_MODEL = ["--frames-per-window", "8", "--conv-channels", "8", "16", "16", "--hidden", "64",
              "--fine-keypoints", "1", "--batch-size", "80", "--clip-frames", "12", "--lr", "3e-3",
              "--warmup-steps", "5", "--val-windows", "512", "--threads", "1", "--device", "cpu",
              "--ensemble-members", "1"]  # fmt: skip


def _paths(root: Path) -> list[str]:
    return ["--data-dir", str(root / "data"), "--work-dir", str(root / "checkpoints"),
            "--runs-dir", str(root / "runs"), "--calibration-dir", str(root / "calibration"),
            "--assets-dir", str(root / "assets")]  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`gameai train behaviour all` on a tiny recording: a few hundred steps of one narrow network
    (an ensemble of two, the default, is fitted in its own test)."""
    root = tmp_path_factory.mktemp("behaviour")
    options = [*TINY_DATA, *TINY_MODEL, *_paths(root), "--max-epochs", "12", "--patience", "12",
               "--windows-per-epoch", "3000"]  # fmt: skip
    assert main(["train", "behaviour", "all", *options]) == 0
    return root


def test_loss_falls_and_accuracy_beats_chance(trained: Path) -> None:
    state = json.loads((trained / "checkpoints" / "last" / "state.json").read_text())
    history = state["history"]
    assert len(history) == 12 and state["done"]
    chance = math.log(6)  # the loss of a uniform guess over the six styles
    assert history[-1]["train_loss"] < 0.5 * chance
    assert history[-1]["train_loss"] < 0.7 * history[0]["train_loss"]
    report = json.loads((trained / "assets" / "eval.json").read_text())
    for split in ("test", "heldout"):  # chance is 1/6 = 0.167
        window = report["splits"][split]["window"]
        assert window["accuracy"] > 0.3, window
    assert list(trained.joinpath("runs").iterdir())  # TensorBoard logs


def test_the_exported_model_is_half_precision_with_its_provenance(trained: Path) -> None:
    assets = trained / "assets"
    with safe_open(str(assets / "model.safetensors"), "pt") as weights:
        dtypes = {str(weights.get_tensor(name).dtype) for name in weights.keys()}  # noqa: SIM118
    assert dtypes == {"torch.float16", "torch.int64"}  # int64: batch norm's counters
    model = load_behaviour_model(assets)
    metadata = model.metadata
    assert metadata["data_manifest_sha256"] == manifest_sha256(trained / "data")
    assert metadata["weights_dtype"] == "float16"
    assert metadata["export_check"]["same_label_share"] >= 0.99
    assert model.config.architecture == "keypoints" and model.config.frame_size == (84, 84)
    assert model.config.sample_fps == 5.0 and len(model.config.pixel_mean) == 3
    evaluation = metadata["eval"]
    assert set(evaluation["splits"]) == {"test", "heldout"}
    # `all` calibrates before it evaluates: the figures are of what a server sends by default.
    assert evaluation["bot_like_guard"] == guard_report(None, metadata)
    assert evaluation["bot_like_guard"]["default"] and "no bot_like calibration" not in str(evaluation)
    assert set(evaluation["goals"]) == {"test_macro_f1", "heldout_macro_f1", "test_bot_like_precision"}
    matrix = np.array(evaluation["splits"]["test"]["window"]["confusion"])
    assert matrix.shape == (6, 6) and matrix.sum() == evaluation["splits"]["test"]["window"]["windows"]
    for name in ("confusion_test_window.png", "confusion_heldout_served.png"):
        assert (assets / name).stat().st_size > 1000


def test_export_sets_mirror_averaging_and_keeps_the_weights(trained: Path) -> None:
    shipped = load_behaviour_model(trained / "assets")
    assert not shipped.config.mirror_average and shipped.config.relative_motion  # the defaults
    mirrored_dir = trained / "assets-mirrored"
    options = [*TINY_DATA, *TINY_MODEL, *_paths(trained)[:-2], "--assets-dir", str(mirrored_dir)]
    assert main(["train", "behaviour", "export", *options, "--mirror-average"]) == 0
    mirrored = load_behaviour_model(mirrored_dir)
    assert mirrored.config.mirror_average
    mirrored_state, plain_state = mirrored.net.state_dict(), shipped.net.state_dict()
    assert all(torch.equal(mirrored_state[name], plain_state[name]) for name in mirrored_state)
    x = torch.randint(0, 256, (2, 3 * shipped.config.frames_per_window, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        expected = 0.5 * (shipped.net(x) + shipped.net(x.flip(-1)))
        assert torch.allclose(mirrored.net(x), expected, atol=1e-5)


def test_an_ensemble_fits_each_member_with_its_seed_and_serves_the_mean_of_their_logits(
    trained: Path, tmp_path: Path
) -> None:
    options = [*TINY_DATA, *TINY_MODEL, *_paths(tmp_path), "--data-dir", str(trained / "data"),
               "--max-epochs", "1", "--windows-per-epoch", "400", "--ensemble-members", "2"]  # fmt: skip
    assert main(["train", "behaviour", "fit", *options]) == 0
    assert main(["train", "behaviour", "export", *options]) == 0
    work = [tmp_path / "checkpoints", tmp_path / "checkpoints" / "member1"]
    states = [json.loads((d / "last" / "state.json").read_text()) for d in work]
    assert [s["config"]["seed"] for s in states] == [0, 1] and all(s["done"] for s in states)
    shipped = load_behaviour_model(tmp_path / "assets")
    assert shipped.config.ensemble_members == 2 and not shipped.config.mirror_average
    assert [entry["seed"] for entry in shipped.metadata["training"]] == [0, 1]
    members = [stored_copy(load_behaviour_model(d / "best").net, torch.float16) for d in work]
    x = torch.randint(0, 256, (2, 3 * shipped.config.frames_per_window, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        each = [m(x) for m in members]
        assert not torch.allclose(each[0], each[1], atol=1e-3)  # other seeds: other networks
        assert torch.allclose(shipped.net(x), 0.5 * (each[0] + each[1]), atol=1e-4)


def test_export_refuses_a_missing_member(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    options = [*TINY_DATA, *TINY_MODEL, *_paths(trained)[:-2], "--assets-dir", str(tmp_path / "assets"),
               "--ensemble-members", "2"]  # fmt: skip
    assert main(["train", "behaviour", "export", *options]) == 2
    assert "gameai train behaviour: no trained model in " in capsys.readouterr().err
    assert not (tmp_path / "assets").exists()
    monkeypatch.setenv("GAMEAI_TRACEBACK", "1")  # the error itself, for its type and whole message
    with pytest.raises(StepOrderError, match="member1: run `gameai train behaviour fit` first"):
        main(["train", "behaviour", "export", *options])


def test_eval_command_prints_the_figures(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = trained / "eval-again"
    args = ["eval", "behaviour", "--model-dir", str(trained / "assets"), "--data-dir", str(trained / "data"),
            "--splits", "test", "--output-dir", str(out), "--threads", "1", "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert set(report["splits"]) == {"test"}
    per_class = report["splits"]["test"]["window"]["per_class"]
    assert set(per_class) == {"aggressive", "explorer", "collector", "evasive", "idle", "bot_like"}
    assert all({"precision", "recall", "f1", "support"} <= set(v) for v in per_class.values())
    thresholds = report["splits"]["test"]["served"]["bot_like_thresholds"]
    assert [row["threshold"] for row in thresholds] == [0.5, 0.7, 0.8, 0.9]
    assert all(0.0 <= row["precision"] <= 1.0 and 0.0 <= row["recall"] <= 1.0 for row in thresholds)
    flagged = [row["flagged"] for row in thresholds]
    assert flagged == sorted(flagged, reverse=True)  # a higher bar flags no more windows
    served = report["splits"]["test"]["served"]
    assert sum(row["windows"] for row in served["by_time"]) == served["windows"]  # every result in one bucket
    assert served["by_time"][0]["from_s"] == 0.0
    assert (out / "eval.json").is_file() and (out / "confusion_test_served.png").is_file()


def test_eval_scores_what_a_server_with_a_bot_like_minimum_sends(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["eval", "behaviour", "--model-dir", str(trained / "assets"), "--data-dir", str(trained / "data"),
            "--splits", "test", "--output-dir", str(trained / "eval-min"), "--threads", "1",
            "--device", "cpu", "--bot-like-min-probability", "0.5",
            "--bot-like-min-precision", "0"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["smoothing"]["min_probabilities"] == [["bot_like", 0.5]]
    served = report["splits"]["test"]["served"]
    bot = len(served["confusion"]) - 1  # bot_like is the last class
    said_bot_like = sum(row[bot] for row in served["confusion"])
    at_half = next(row for row in served["bot_like_thresholds"] if row["threshold"] == 0.5)
    assert said_bot_like == at_half["flagged"]  # every bot_like sent had a probability >= 0.5


def test_calibrate_stores_the_bot_like_precision_at_each_minimum_on_players_of_its_own(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calibration = load_behaviour_model(trained / "assets").metadata[CALIBRATION_KEY]
    assert calibration == json.loads((trained / "assets" / "calibration.json").read_text())
    rows = calibration["rows"]
    assert [row["min_probability"] for row in rows] == list(CALIBRATION_MINIMA)
    flagged = [row["flagged"] for row in rows]
    assert flagged == sorted(flagged, reverse=True) and flagged[0] > 0  # a higher bar flags no more
    assert all(0.0 <= row["precision_low"] <= row["precision"] <= 1.0 for row in rows)
    # By a session's age: 40 frames at 5 fps, 8 s, so results in (0, 5] and (5, 10] s.
    by_time = calibration["by_time"]
    assert [(period["from_s"], period["to_s"]) for period in by_time] == [(0.0, 5.0), (5.0, 10.0)]
    assert sum(period["windows"] for period in by_time) == calibration["windows"]
    for index, row in enumerate(rows):
        assert sum(period["rows"][index]["flagged"] for period in by_time) == row["flagged"]
    assert (calibration["frames_per_player"], calibration["session_seconds"]) == (40, 8.0)
    # Its own players: recorded apart, with seeds no training split has.
    manifest = read_manifest(trained / "calibration")
    assert set(manifest["splits"]) == {"calibration"} and calibration["players_per_style"] == 3
    assert calibration["data_manifest_sha256"] == manifest_sha256(trained / "calibration")
    training_seeds = {player["seed"] for player in read_manifest(trained / "data")["players"]}
    calibration_seeds = {player["seed"] for player in manifest["players"]}
    assert len(calibration_seeds) == 18 and not calibration_seeds & training_seeds
    assert "calibration" not in read_manifest(trained / "data")["splits"]
    # Each row is what `gameai eval behaviour` scores for a server with that minimum.
    for row in (rows[0], rows[CALIBRATION_MINIMA.index(0.8)]):
        args = ["eval", "behaviour", "--model-dir", str(trained / "assets"), "--splits", "calibration",
                "--data-dir", str(trained / "calibration"), "--output-dir", str(trained / "eval-calibration"),
                "--threads", "1", "--device", "cpu",
                "--bot-like-min-probability", str(row["min_probability"]),
                "--bot-like-min-precision", "0"]  # fmt: skip
        assert main(args) == 0
        served = json.loads(capsys.readouterr().out)["splits"]["calibration"]["served"]
        bot_like = served["per_class"]["bot_like"]
        assert (bot_like["precision"], bot_like["recall"]) == (row["precision"], row["recall"])
        assert served["macro_f1"] == row["served_macro_f1"]


def test_eval_scores_what_a_server_asked_for_a_bot_like_precision_sends(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A calibration made up so that its schedule is known: bot_like never in the first 2.5 s.
    model = tmp_path / "model"
    shutil.copytree(trained / "assets", model)

    def rows(low_at_0: float, low_at_09: float) -> list[dict[str, float]]:
        lows = ((0.0, low_at_0), (0.9, low_at_09))
        return [
            {"min_probability": m, "precision": low, "precision_low": low, "recall": 0.5} for m, low in lows
        ]

    early = {"from_s": 0.0, "to_s": 2.5, "rows": rows(0.5, 0.9)}  # 0.95 not reached: never said
    later = {"from_s": 2.5, "to_s": None, "rows": rows(0.99, 1.0)}  # reached with no minimum
    calibration = {"rows": later["rows"], "players_per_style": 3, "by_time": [early, later]}
    set_behaviour_metadata(model, CALIBRATION_KEY, calibration)
    counts, reports = [], []
    for extra in (["--bot-like-min-precision", "0"], [], ["--bot-like-min-precision", "0.95"]):
        args = ["eval", "behaviour", "--model-dir", str(model), "--data-dir", str(trained / "data"),
                "--splits", "test", "--output-dir", str(tmp_path / "eval"), "--threads", "1",
                "--device", "cpu", *extra]  # fmt: skip
        assert main(args) == 0
        reports.append(json.loads(capsys.readouterr().out))
        served = reports[-1]["splits"]["test"]["served"]
        counts.append(sum(row[-1] for row in served["confusion"]))  # sent as bot_like (the last class)
    off, default, asked = reports
    schedule = [["bot_like", 0.0, 1.0], ["bot_like", 2.5, 0.0]]
    assert (
        off["smoothing"]["min_probability_schedule"] == [] and off["bot_like_guard"]["min_precision"] is None
    )
    # Told nothing, eval scores what a server told nothing sends: precision 0.97, here the same schedule.
    assert (
        default["smoothing"]["min_probability_schedule"]
        == schedule
        == asked["smoothing"]["min_probability_schedule"]
    )
    assert default["bot_like_guard"] == {"min_precision": 0.97, "minimums": [[0.0, 1.0], [2.5, 0.0]],
                                         "default": True, "reason": ""}  # fmt: skip
    assert asked["bot_like_guard"]["min_precision"] == 0.95 and not asked["bot_like_guard"]["default"]
    assert counts[1] == counts[2] <= counts[0]


def test_calibrate_keeps_its_recording_and_refuses_no_players(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = tmp_path / "model"
    shutil.copytree(trained / "assets", model)
    options = [*TINY_DATA, *TINY_MODEL, *_paths(trained)[:-2], "--assets-dir", str(model)]
    written = (trained / "calibration" / "calibration.npz").stat().st_mtime_ns
    assert main(["train", "behaviour", "calibrate", *options]) == 0
    assert (
        trained / "calibration" / "calibration.npz"
    ).stat().st_mtime_ns == written  # kept, not played again
    assert (
        load_behaviour_model(model).metadata[CALIBRATION_KEY]["rows"]
        == (load_behaviour_model(trained / "assets").metadata[CALIBRATION_KEY]["rows"])
    )
    capsys.readouterr()
    assert main(["train", "behaviour", "calibrate", *options, "--calibration-players", "0"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("gameai train behaviour: calibrate needs calibration_players >= 1")


def _fit_command(root: Path, data: Path) -> list[str]:
    return [sys.executable, "-m", "gameai.cli", "train", "behaviour", "fit", *TINY_DATA, *TINY_MODEL,
            *_paths(root), "--data-dir", str(data), "--max-epochs", "3",
            "--windows-per-epoch", "1200"]  # fmt: skip


def _weights(directory: Path) -> dict[str, np.ndarray]:
    with safe_open(str(directory / "model.safetensors"), "np") as weights:
        return {name: weights.get_tensor(name) for name in weights.keys()}  # noqa: SIM118


def test_fit_resumes_after_a_kill_exactly_where_it_stopped(trained: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    data = trained / "data"
    straight = subprocess.run(
        _fit_command(tmp_path / "straight", data), env=env, capture_output=True, text=True
    )
    assert straight.returncode == 0, straight.stderr[-2000:]

    killed_root = tmp_path / "killed"
    process = subprocess.Popen(_fit_command(killed_root, data), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    state_file = killed_root / "checkpoints" / "last" / "state.json"
    deadline = time.monotonic() + 120
    while not state_file.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    epochs_before = json.loads(state_file.read_text())["epoch"]
    assert epochs_before < 3  # killed mid-run
    resumed = subprocess.run(_fit_command(killed_root, data), env=env, capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]

    final = json.loads(state_file.read_text())
    assert final["epoch"] == 3 and [h["epoch"] for h in final["history"]] == [1, 2, 3]
    a = _weights(tmp_path / "straight" / "checkpoints" / "last")
    b = _weights(killed_root / "checkpoints" / "last")
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_a_finer_first_conv_is_trained_and_exported_with_its_stride(trained: Path, tmp_path: Path) -> None:
    options = [*TINY_DATA, *TINY_MODEL, *_paths(tmp_path), "--data-dir", str(trained / "data"),
               "--first-conv-stride", "2", "--max-epochs", "1", "--windows-per-epoch", "400"]  # fmt: skip
    assert main(["train", "behaviour", "fit", *options]) == 0
    assert main(["train", "behaviour", "export", *options]) == 0
    model = load_behaviour_model(tmp_path / "assets")
    assert model.config.first_conv_stride == 2
    assert model.net.keypoint_net is not None
    frames = torch.zeros(1, 3, 84, 84, dtype=torch.uint8)
    with torch.no_grad():
        maps = model.net.keypoint_net.frame_features(model.net.normalise(frames))
    assert maps.shape[-2:] == (42, 42)


def test_the_near_enemy_loss_is_fitted_logged_and_exported(trained: Path, tmp_path: Path) -> None:
    """The option reaches the fit through the CLI (its effect is tested in test_behaviour_position)."""
    options = [*TINY_DATA, *TINY_MODEL, *_paths(tmp_path), "--data-dir", str(trained / "data"),
               "--near-player-keypoints", "1", "--near-enemy-weight", "10", "--max-epochs", "1",
               "--windows-per-epoch", "400"]  # fmt: skip
    assert main(["train", "behaviour", "fit", *options]) == 0
    state = json.loads((tmp_path / "checkpoints" / "last" / "state.json").read_text())
    assert state["config"]["near_enemy_weight"] == 10.0
    (epoch,) = state["history"]
    assert 0.0 < epoch["train_near_enemy_pixels"] < 84 * 2**0.5  # within the frame's diagonal
    assert 0.0 < epoch["train_position_pixels"] < 84 * 2**0.5
    assert main(["train", "behaviour", "export", *options]) == 0
    assert load_behaviour_model(tmp_path / "assets").config.near_player_keypoints == 1


def test_the_position_loss_teaches_a_fine_keypoint_where_the_player_is(trained: Path, tmp_path: Path) -> None:
    options = [*TINY_DATA, *TINY_MODEL, *_paths(tmp_path), "--data-dir", str(trained / "data"),
               "--fine-keypoints", "2", "--position-weight", "10", "--motion-features", "--max-epochs", "6",
               "--windows-per-epoch", "1500"]  # fmt: skip
    assert main(["train", "behaviour", "fit", *options]) == 0
    history = json.loads((tmp_path / "checkpoints" / "last" / "state.json").read_text())["history"]
    pixels = [h["train_position_pixels"] for h in history]
    assert pixels[-1] < 0.5 * pixels[0], pixels
    assert main(["train", "behaviour", "export", *options]) == 0
    model = load_behaviour_model(tmp_path / "assets")
    assert model.config.fine_keypoints == 2 and model.config.motion_features
    # On new players: the keypoint follows the player far better than the best fixed guess.
    with np.load(trained / "data" / "test.npz") as data:
        frames, where = data["frames"], data["player_xy"]
    drawn = ~np.isnan(where[:, 0])
    with torch.no_grad():
        points = model.net.encode_frames(torch.from_numpy(np.ascontiguousarray(frames.transpose(0, 3, 1, 2))))
    found = fine_keypoint_xy(points, model.config).numpy()[drawn]
    error = np.sqrt(((found - where[drawn]) ** 2).sum(axis=1).mean())
    guess = np.sqrt(((where[drawn] - where[drawn].mean(axis=0)) ** 2).sum(axis=1).mean())
    assert error < 0.5 * guess, (error, guess)


def test_a_fit_from_an_exported_model_starts_from_its_weights(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--init-from: a fine-tune starts where the exported model is (after one short epoch at a low
    rate its validation loss is far below a new network's), records where it started, and refuses
    a model made for other windows with a one-line error."""
    base = [*TINY_DATA, *TINY_MODEL, "--max-epochs", "1", "--windows-per-epoch", "240"]

    def fit_from(root: Path, *extra: str) -> tuple[list[str], float]:
        options = [*base, *_paths(root), "--data-dir", str(trained / "data"), *extra]
        assert main(["train", "behaviour", "fit", *options]) == 0
        state = json.loads((root / "checkpoints" / "last" / "state.json").read_text())
        return options, state["history"][-1]["val_loss"]

    _, new_loss = fit_from(tmp_path / "new")
    source = load_behaviour_model(trained / "assets")
    options, tuned_loss = fit_from(tmp_path / "tuned", "--init-from", str(trained / "assets"), "--lr", "1e-4")
    assert tuned_loss < 0.7 * new_loss, (tuned_loss, new_loss)
    assert main(["train", "behaviour", "export", *options]) == 0
    (member,) = load_behaviour_model(tmp_path / "tuned" / "assets").metadata["training"]
    assert member["init_from"] == {"path": str(trained / "assets"), "version": source.version, "member": 0}

    capsys.readouterr()
    wrong = [*base, *_paths(tmp_path / "wrong"), "--data-dir", str(trained / "data"),
             "--init-from", str(trained / "assets"), "--frames-per-window", "4"]  # fmt: skip
    assert main(["train", "behaviour", "fit", *wrong]) == 2
    assert "has frames_per_window 8, the recording and options 4" in capsys.readouterr().err


def test_each_member_of_a_fine_tune_starts_from_its_own_member_of_the_model(
    trained: Path, tmp_path: Path
) -> None:
    single = load_behaviour_model(trained / "assets").net
    other = copy.deepcopy(single)
    with torch.no_grad():
        for tensor in other.parameters():
            tensor.add_(0.01)
    save_behaviour_model(tmp_path / "pair", ensemble_of([single, other], mirror_average=False), {})
    recorded = dataclasses.replace(single.config, pixel_mean=(0.0, 0.0, 0.0))  # the model's statistics win
    config = BehaviourTrainConfig(init_from=str(tmp_path / "pair"), ensemble_members=2)
    for index, expected in enumerate((single, other)):
        net, start = fine_tune_start(config.member(index), recorded, index)
        assert start["member"] == index
        assert net.config.ensemble_members == 1 and net.config.pixel_mean == single.config.pixel_mean
        got, want = net.state_dict(), expected.state_dict()
        assert got.keys() == want.keys()
        assert all(torch.equal(got[name], want[name]) for name in got)
    with pytest.raises(ValueError, match="no member 2 in a keypoints network of 2"):
        member_of(load_behaviour_model(tmp_path / "pair").net, 2)
