"""``gameai train agent`` through its environment interface: any Gymnasium id, the registry, the layering."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.vec_env import VecEnv

from gameai.agents.actor import load_actor
from gameai.cli import main
from gameai.training.agents.config import AgentTrainConfig
from gameai.training.agents.environment import AgentEnvironment, RunInfo
from gameai.training.agents.environments import ENVIRONMENTS, environment_for, register_environment
from gameai.training.agents.export import action_nvec
from gameai.training.agents.gymnasium_env import GymnasiumEnvironment, make_sb3_vec_env
from gameai.training.agents.train import export, final_checkpoint, learn


def _cartpole(tmp_path: Path, **changes: object) -> AgentTrainConfig:
    base = AgentTrainConfig(
        env="CartPole-v1",
        total_timesteps=1024,
        num_envs=4,
        n_steps=64,
        batch_size=64,
        n_epochs=1,
        hidden_sizes=(16, 16),
        eval_every=512,
        eval_matches=2,
        checkpoint_every=512,
        progress_bar=False,
        runs_dir=str(tmp_path / "runs"),
        checkpoints_dir=str(tmp_path / "checkpoints"),
        assets_dir=str(tmp_path / "assets"),
        agent_name="cartpole",
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class _StopAt(BaseCallback):
    """Stops training at ``steps`` env steps (as a killed run would stop)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps

    def _on_step(self) -> bool:
        return self.model.num_timesteps < self.steps


def test_a_gymnasium_id_trains_resumes_and_exports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _cartpole(tmp_path)
    assert isinstance(environment_for(config), GymnasiumEnvironment)
    first = learn(config, extra_callbacks=[_StopAt(600)])  # a run cut short at 600 steps
    directory = tmp_path / "checkpoints" / "CartPole-v1__ppo__1"
    state = json.loads((directory / "state.json").read_text())
    assert not state["finished"] and state["timesteps"] == first["timesteps"] == 600
    assert [r["timesteps"] for r in first["history"]] == [512, 600]  # every 512 steps, and at the end
    assert all(r["mean_return"] > 0 and r["mean_length"] > 0 for r in first["history"])

    # The same command again: it resumes from the checkpoint with its step count.
    second = learn(config)
    assert "at 600 steps" in capsys.readouterr().out
    state = json.loads((directory / "state.json").read_text())
    assert state["finished"] and state["timesteps"] == second["timesteps"] >= 1024
    assert second["run_name"] == first["run_name"] and [r["timesteps"] for r in second["history"]] == [
        second["timesteps"]
    ]
    assert len(list((tmp_path / "runs").iterdir())) == 1  # the same TensorBoard run, continued
    model = PPO.load(final_checkpoint(config), device="cpu")
    assert model.num_timesteps == second["timesteps"]

    # The policy acts in the env's action space; the exported actor chooses as SB3 predicts.
    venv = make_sb3_vec_env("CartPole-v1", 8)
    venv.seed(3)
    obs = venv.reset()
    assert isinstance(obs, np.ndarray)
    for _ in range(20):
        assert isinstance(obs, np.ndarray)
        obs, *_ = venv.step(model.predict(obs, deterministic=True)[0])
    assert isinstance(obs, np.ndarray)
    actions = model.predict(obs, deterministic=True)[0]
    assert all(venv.action_space.contains(int(a)) for a in actions)
    directory = export(config)
    actor = load_actor(directory)
    assert actor.config.obs_dim == 4 and actor.config.action_nvec == (2,)
    assert not actor.config.difficulty_input and actor.metadata["env_id"] == "CartPole-v1"
    with torch.no_grad():
        served = actor.net.choose(torch.from_numpy(np.asarray(obs, dtype=np.float32))).numpy()
    np.testing.assert_array_equal(served[:, 0], actions)
    venv.close()


def test_command_line_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--no-progress-bar", "--runs-dir", str(tmp_path / "runs"), "--checkpoints-dir",
              str(tmp_path / "checkpoints"), "--assets-dir", str(tmp_path / "assets")]  # fmt: skip
    assert main(["train", "agent", "ppo", "--env", "NoSuchGame-v0", *common]) == 2
    assert "neither a registered name (arena) nor a Gymnasium id" in capsys.readouterr().err

    # The arena agent's name is not taken by another environment's agent, before any training.
    assert main(["train", "agent", "all", "--env", "CartPole-v1", *common]) == 2
    assert "--agent-name" in capsys.readouterr().err
    assert not (tmp_path / "checkpoints").exists()

    # A continuous action space trains and exports; there is no step after export.
    args = ["--env", "Pendulum-v1", "--agent-name", "pendulum", "--total-timesteps", "128",
            "--num-envs", "2", "--n-steps", "64", "--batch-size", "64", "--n-epochs", "1",
            "--eval-every", "0", *common]  # fmt: skip
    assert main(["train", "agent", "ppo", *args]) == 0
    capsys.readouterr()
    assert main(["train", "agent", "export", *args]) == 0
    assert (tmp_path / "assets" / "pendulum" / "actor.json").is_file()
    capsys.readouterr()
    assert main(["train", "agent", "rate", *args]) == 2
    assert "no step after export" in capsys.readouterr().err


def test_served_action_spaces() -> None:
    assert action_nvec(spaces.Discrete(5)) == (5,)
    assert action_nvec(spaces.MultiDiscrete([9, 4, 2])) == (9, 4, 2)
    with pytest.raises(ValueError, match="nonzero start"):
        action_nvec(spaces.Discrete(3, start=1))


class _TwoCartPoles(AgentEnvironment):
    """The smallest environment: two CartPoles without any callbacks."""

    @property
    def env_id(self) -> str:
        return "tests/TwoCartPoles-v0"

    def make_vec_env(self, run: RunInfo) -> VecEnv:
        return make_sb3_vec_env("CartPole-v1", 2)


def test_a_registered_environment_is_trained_through_the_interface(tmp_path: Path) -> None:
    register_environment("two-cartpoles", _TwoCartPoles)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_environment("two-cartpoles", _TwoCartPoles)
        config = _cartpole(tmp_path, env="two-cartpoles", total_timesteps=256, num_envs=2)
        summary = learn(config)
        assert summary["timesteps"] >= 256 and summary["history"] == []
        assert (tmp_path / "checkpoints" / "TwoCartPoles-v0__ppo_two-cartpoles__1" / "state.json").is_file()
    finally:
        del ENVIRONMENTS["two-cartpoles"]


def test_training_a_gymnasium_env_loads_no_arena_code() -> None:
    code = (
        "import sys\n"
        "from gameai.training.agents.config import AgentTrainConfig\n"
        "from gameai.training.agents.environment import RunInfo\n"
        "from gameai.training.agents.environments import environment_for\n"
        "import gameai.training.agents.train\n"
        "env = environment_for(AgentTrainConfig(env='CartPole-v1', num_envs=2))\n"
        "env.make_vec_env(RunInfo(directory=None, start_step=0, resumed=False)).reset()\n"
        "print(sorted(m for m in ('envs', 'demo_game', 'gameai.training.agents.arena') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_the_arena_is_the_default_environment() -> None:
    environment = environment_for(AgentTrainConfig())
    assert type(environment).__name__ == "ArenaEnvironment" and environment.env_id == "gameai/Arena-v0"
    assert environment_for(AgentTrainConfig(obs_type="pixels")).env_id == "gameai/ArenaPixels-v0"
    assert gym.spec("CartPole-v1") is not None


def test_the_shipped_arena_agent_serves_the_default_served_handicap() -> None:
    """A rebuild (``gameai train agent all``) exports what is shipped: the beginner handicap."""
    root = Path(__file__).resolve().parents[4]
    shipped = json.loads((root / "assets" / "agents" / "arena" / "actor.json").read_text())["config"]
    chances = tuple(shipped[name] for name in ("hold_fire", "scramble_aim", "slip_move", "freeze"))
    assert chances == AgentTrainConfig().served_handicap == (1.0, 1.0, 1.0, 0.8)


def test_the_arena_agent_is_exported_with_its_served_handicap_not_the_training_one() -> None:
    from gameai.training.agents.arena import ArenaEnvironment

    config = AgentTrainConfig(served_handicap=(0.9, 0.8, 0.7, 0.6))
    spec = ArenaEnvironment(config).actor_spec()
    assert (spec.hold_fire, spec.scramble_aim, spec.slip_move, spec.freeze) == (0.9, 0.8, 0.7, 0.6)
    assert (config.hold_fire, config.slip_move) != (spec.hold_fire, spec.slip_move)  # training keeps its own
    assert spec.difficulty_index == 40
