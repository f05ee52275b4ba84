"""The agent commands end to end on small budgets: train (pixels), eval agent, bench train, eval adapt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_game.sim.observation import OBSERVATION_SIZE, ObservationField
from gameai.agents.actor import ActorConfig
from gameai.cli import main
from gameai.testing.tiny_models import write_random_actor


def _actor(root: Path) -> Path:
    config = ActorConfig(
        obs_dim=OBSERVATION_SIZE,
        difficulty_index=int(ObservationField.DIFFICULTY),
        hold_fire=0.8,
        scramble_aim=1.0,
        slip_move=0.3,
    )
    write_random_actor(root / "arena", config)
    return root


def test_train_agent_on_pixels_with_the_arena_cnn(tmp_path: Path) -> None:
    args = ["train", "agent", "ppo", "--obs-type", "pixels", "--total-timesteps", "256", "--num-envs", "4",
            "--n-steps", "32", "--batch-size", "64", "--n-epochs", "1", "--eval-every", "0",
            "--no-progress-bar", "--runs-dir", str(tmp_path / "runs"),
            "--checkpoints-dir", str(tmp_path / "checkpoints")]  # fmt: skip
    assert main(args) == 0
    state = json.loads((tmp_path / "checkpoints" / "ArenaPixels-v0__ppo_arena__1" / "state.json").read_text())
    assert state["finished"] and state["timesteps"] >= 256
    assert next((tmp_path / "runs").iterdir()).name.startswith("ArenaPixels-v0__ppo_arena__1__")


def test_eval_agent_prints_a_level_per_difficulty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _actor(tmp_path)
    args = [
        "eval",
        "agent",
        "--agent-dir",
        str(root / "arena"),
        "--matches",
        "4",
        "--match-ticks",
        "90",
        "--json",
    ]
    main(args)
    report = json.loads(capsys.readouterr().out)
    assert [level["difficulty"] for level in report["levels"]] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert all(level["matches"] == 4 for level in report["levels"])
    assert report["reference"] == "aggressive@0.2" and not report["blind"]


def test_bench_train_reports_native_and_sync_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "train", "--json", "--num-envs", "8", "--n-steps", "16", "--batch-size", "64",
            "--n-epochs", "1", "--measure-steps", "256", "--target-win-rate", "0", "--repeats", "1",
            "--pixel-steps", "0"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    speed = report["results"]["ppo_speed"]["8"]
    for kind in ("native_vector_env", "gymnasium_sync_vector_env", "sb3_dummy_vec_env"):
        assert speed[kind]["ppo_steps_per_s"] > 0 and speed[kind]["rollout_steps_per_s"] > 0
    assert speed["native_over_sync_ppo"] > 0


@pytest.mark.slow
def test_eval_adapt_runs_both_modes_through_served_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _actor(tmp_path)
    args = ["eval", "adapt", "--agents-dir", str(root), "--matches", "3", "--last", "2",
            "--match-ticks", "120", "--players", "aggressive@0", "idle@0.5", "--json"]  # fmt: skip
    main(args)
    report = json.loads(capsys.readouterr().out)
    for mode in ("adaptive", "fixed"):
        players = report["modes"][mode]["players"]
        assert [p["player"] for p in players] == ["aggressive@0", "idle@0.5"]
        assert all(len(p["outcomes"]) == 3 for p in players)
    assert all(d == 0.5 for p in report["modes"]["fixed"]["players"] for d in p["difficulties"])
