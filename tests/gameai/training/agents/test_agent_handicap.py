"""The handicap as an option: ``train agent export``, and ``agents handicap`` on an exported agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gameai.agents.actor import ActorConfig, ActorNet, load_actor, save_actor
from gameai.cli import main
from gameai.training.agents.config import AgentTrainConfig
from gameai.training.agents.gymnasium_env import GymnasiumEnvironment

GOBLIN_LIKE = ActorConfig(obs_dim=4, action_nvec=(3, 2), hidden_sizes=(8,), random_action=0.5)


def _agent(directory: Path) -> Path:
    torch.manual_seed(0)
    save_actor(directory, ActorNet(GOBLIN_LIKE), {"env_id": "gameai/Platformer-v0", "run_name": "r1"})
    return directory


def test_the_handicap_command_rewrites_only_the_handicap(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = _agent(tmp_path / "goblin")
    weights = (agent / "actor.safetensors").read_bytes()
    before = load_actor(agent)
    args = ["agents", "handicap", str(agent)]
    assert main([*args, "--freeze", "0.9", "--idle-action", "1", "0", "--random-action", "0.25"]) == 0
    out = capsys.readouterr().out
    assert "handicap random_action 0.5 -> random_action 0.25, freeze 0.9 (idle [1, 0])" in out
    after = load_actor(agent)
    assert (after.config.freeze, after.config.idle_action, after.config.random_action) == (0.9, (1, 0), 0.25)
    assert after.config == ActorConfig(**{**GOBLIN_LIKE.__dict__, "freeze": 0.9, "idle_action": (1, 0),
                                          "random_action": 0.25})  # fmt: skip
    assert (agent / "actor.safetensors").read_bytes() == weights and after.version == before.version
    assert after.metadata["run_name"] == "r1"
    exported = {"random_action": 0.5, "hold_fire": 0.0, "scramble_aim": 0.0, "slip_move": 0.0, "freeze": 0.0,
                "idle_action": None}  # fmt: skip
    assert after.metadata["exported_handicap"] == exported
    assert json.loads((agent / "actor.json").read_text())["config"]["idle_action"] == [1, 0]
    # A second change keeps what it was exported with.
    assert main([*args, "--freeze", "0.5"]) == 0
    capsys.readouterr()
    again = load_actor(agent)
    assert again.config.freeze == 0.5 and again.config.idle_action == (1, 0)
    assert again.metadata["exported_handicap"] == exported


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ([], "give at least one of --random-action"),
        (["--freeze", "0.9", "--idle-action", "1", "2"], "idle_action[1] must be an int in [0, 2)"),
        (["--idle-action", "1"], "idle_action needs 2 values"),
        (["--freeze", "2"], "freeze must be in [0, 1]"),
        (["--random-action", "-0.5"], "random_action must be in [0, 1]"),
    ],
)
def test_a_handicap_that_does_not_fit_is_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], words: str
) -> None:
    agent = _agent(tmp_path / "goblin")
    written = (agent / "actor.json").read_bytes()
    assert main(["agents", "handicap", str(agent), *options]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and words in err, err
    assert (agent / "actor.json").read_bytes() == written
    assert main(["agents", "handicap", str(tmp_path / "nobody"), "--freeze", "0.5"]) == 2
    assert "no agent here (no actor.json)" in capsys.readouterr().err


def test_the_export_options_set_freeze_and_idle_action_checked_before_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = AgentTrainConfig(env="CartPole-v1", agent_name="cp", freeze=0.8, idle_action=(1.0,))
    spec = GymnasiumEnvironment(config).actor_spec()
    assert (spec.freeze, spec.idle_action, spec.random_action) == (0.8, (1.0,), 0.5)
    common = ["--env", "CartPole-v1", "--agent-name", "cp", "--no-progress-bar", "--runs-dir",
              str(tmp_path / "runs"), "--checkpoints-dir", str(tmp_path / "checkpoints"), "--assets-dir",
              str(tmp_path / "assets"), "--total-timesteps", "128", "--num-envs", "2", "--n-steps", "64",
              "--batch-size", "64", "--n-epochs", "1", "--eval-every", "0"]  # fmt: skip
    assert main(["train", "agent", "all", *common, "--freeze", "0.8", "--idle-action", "2"]) == 2
    assert "idle_action[0] must be an int in [0, 2)" in capsys.readouterr().err
    assert not (tmp_path / "checkpoints").exists()  # refused before any training
    assert main(["train", "agent", "learn", *common]) == 0
    assert main(["train", "agent", "export", *common, "--freeze", "0.8", "--idle-action", "1"]) == 0
    capsys.readouterr()
    exported = load_actor(tmp_path / "assets" / "cp").config
    assert (exported.freeze, exported.idle_action, exported.random_action) == (0.8, (1,), 0.5)
