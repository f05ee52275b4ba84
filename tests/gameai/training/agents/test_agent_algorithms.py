"""``gameai train agent learn --algo``: each algorithm on a classic-control env, hyperparameter files,
VecNormalize statistics as JSON, extending a finished run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import VecMonitor, unwrap_vec_normalize

from gameai.cli import main
from gameai.training.agents.algorithms import ALGORITHMS
from gameai.training.agents.config import AgentTrainConfig
from gameai.training.agents.gymnasium_env import make_sb3_vec_env
from gameai.training.agents.hyperparams import HyperparamsError, resolve
from gameai.training.agents.normalization import obs_normalization, stats_path
from gameai.training.agents.train import final_checkpoint, learn, pick_device, prepare

#: Tiny tables per algorithm (over the shipped ones), so each smoke run trains in seconds.
TINY: dict[str, str] = {
    "ppo": "n_steps = 64\nbatch_size = 64\nn_epochs = 2\npolicy_kwargs = {net_arch = [32, 32]}\n",
    "a2c": "n_steps = 16\npolicy_kwargs = {net_arch = [32, 32], activation_fn = 'relu'}\n",
    "dqn": "learning_starts = 64\ntrain_freq = 16\ngradient_steps = 4\nbatch_size = 32\nbuffer_size = 2000\n"
    "target_update_interval = 50\npolicy_kwargs = {net_arch = [32, 32]}\n",
    "sac": "learning_starts = 64\nbatch_size = 32\nbuffer_size = 2000\ngradient_steps = 1\n"
    "policy_kwargs = {net_arch = [32, 32]}\n",
}
ENVS = {"ppo": "CartPole-v1", "a2c": "CartPole-v1", "dqn": "CartPole-v1", "sac": "Pendulum-v1"}


def _config(tmp_path: Path, **changes: Any) -> AgentTrainConfig:
    base = AgentTrainConfig(
        env="CartPole-v1",
        eval_every=0,
        checkpoint_every=128,
        progress_bar=False,
        runs_dir=str(tmp_path / "runs"),
        checkpoints_dir=str(tmp_path / "checkpoints"),
        assets_dir=str(tmp_path / "assets"),
        agent_name="tiny",
    )
    return dataclasses.replace(base, **changes)


def _hyperparams_file(tmp_path: Path, env: str, table: str) -> str:
    path = tmp_path / "mine.toml"
    path.write_text(f'["{env}"]\n{table}', encoding="utf-8")
    return str(path)


class _StopAt(BaseCallback):
    """Stops training at ``steps`` env steps (as a killed run would stop)."""

    def __init__(self, steps: int) -> None:
        super().__init__()
        self.steps = steps

    def _on_step(self) -> bool:
        return self.model.num_timesteps < self.steps


class _AtStart(BaseCallback):
    """Keeps what the model holds when training starts (the resumed replay buffer, normaliser)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[str, Any] = {}

    def _on_training_start(self) -> None:
        self.seen["timesteps"] = self.model.num_timesteps
        if isinstance(self.model, OffPolicyAlgorithm):
            assert self.model.replay_buffer is not None
            self.seen["replay_size"] = self.model.replay_buffer.size()
        env = self.model.get_env()
        normalizer = unwrap_vec_normalize(env) if env is not None else None
        if normalizer is not None:
            assert isinstance(normalizer.obs_rms, RunningMeanStd)
            self.seen["obs_count"] = float(normalizer.obs_rms.count)
            self.seen["obs_mean"] = normalizer.obs_rms.mean.copy()

    def _on_step(self) -> bool:
        return True


@pytest.mark.parametrize("algo", ["ppo", "a2c", "dqn", "sac"])
def test_each_algorithm_trains_checkpoints_resumes_and_records_its_hyperparameters(
    algo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = ENVS[algo]
    config = _config(
        tmp_path, env=env, algo=algo, total_timesteps=384, num_envs=2,
        hyperparams=_hyperparams_file(tmp_path, env, TINY[algo]), gamma=0.97,
    )  # fmt: skip
    first = learn(config, extra_callbacks=[_StopAt(200)])
    directory = tmp_path / "checkpoints" / f"{env}__{algo}__1"
    state = json.loads((directory / "state.json").read_text())
    assert state["algo"] == algo and not state["finished"] and state["timesteps"] == first["timesteps"] >= 200
    values = state["hyperparams"]
    assert values["gamma"] == 0.97 and values["policy_kwargs"]["net_arch"] == [32, 32]  # option, user file
    assert values["n_envs"] == 2 and state["hyperparams_from"][-2].endswith("mine.toml [" + env + "]")
    events = b"".join(p.read_bytes() for p in (tmp_path / "runs").rglob("events.out.tfevents.*"))
    assert b"_hparams_/experiment" in events and b"policy_kwargs" in events  # TensorBoard's HParams
    off_policy = issubclass(ALGORITHMS[algo], OffPolicyAlgorithm)
    assert (directory / f"ckpt_{state['timesteps']:012d}.replay.pkl").is_file() == off_policy

    at_start = _AtStart()
    second = learn(config, extra_callbacks=[at_start])
    assert f"from ckpt_{state['timesteps']:012d}.zip at {state['timesteps']} steps" in capsys.readouterr().out
    assert at_start.seen["timesteps"] == state["timesteps"]
    if off_policy:  # the replay buffer came back with the checkpoint
        assert at_start.seen["replay_size"] > 0
    model = ALGORITHMS[algo].load(final_checkpoint(config), device="cpu")
    assert model.num_timesteps == second["timesteps"] >= 384 and model.gamma == 0.97  # type: ignore[attr-defined]
    assert len(list((tmp_path / "runs").iterdir())) == 1
    assert len(list(directory.glob("*.replay.pkl"))) == off_policy  # only beside the newest checkpoint


def test_an_algorithm_that_does_not_fit_the_action_space_is_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--no-progress-bar", "--checkpoints-dir", str(tmp_path / "checkpoints"),
              "--runs-dir", str(tmp_path / "runs")]  # fmt: skip
    cases = [
        (["learn", "--env", "Pendulum-v1", "--algo", "dqn"],
         "--algo dqn needs Discrete actions; Pendulum-v1 has Box"),
        (["learn", "--env", "CartPole-v1", "--algo", "sac"],
         "--algo sac needs Box actions; CartPole-v1 has Discrete"),
        (["learn", "--env", "CartPole-v1", "--algo", "td3"], "try --algo ppo / a2c / dqn"),
        (["all", "--algo", "a2c"], "--algo a2c: arena trains with ppo only"),
        (["ppo", "--env", "CartPole-v1", "--algo", "dqn"], "step ppo trains PPO"),
        (["learn", "--env", "CartPole-v1", "--algo", "dqn", "--n-epochs", "3"],
         "--n-epochs does not apply to --algo dqn"),
    ]  # fmt: skip
    for args, message in cases:
        assert main(["train", "agent", *args, *common]) == 2, args
        error = capsys.readouterr().err.strip()
        assert message in error and len(error.splitlines()) == 1, error
    assert not (tmp_path / "checkpoints").exists() and not (tmp_path / "runs").exists()


def test_hyperparameter_precedence_shipped_file_user_file_options(tmp_path: Path) -> None:
    shipped = resolve(_config(tmp_path), ("CartPole-v1",))
    assert shipped.values["n_steps"] == 32 and shipped.values["learning_rate"] == "lin_0.001"  # RL Zoo's
    assert shipped.n_envs == 8 and shipped.n_timesteps == 100_000 and "vf_coef" not in shipped.values

    mine = _hyperparams_file(tmp_path, "CartPole-v1", "n_steps = 16\ngamma = 0.9\nn_envs = 3\n")
    config = _config(tmp_path, hyperparams=mine, gamma=0.95, anneal_lr=False, hidden_sizes=(8,))
    resolved = resolve(config, ("CartPole-v1",))
    assert resolved.values["n_steps"] == 16 and resolved.n_envs == 3  # the user file over the shipped one
    assert resolved.values["gamma"] == 0.95  # an option over the user file
    assert resolved.values["gae_lambda"] == 0.8  # the shipped file where neither says
    assert resolved.values["learning_rate"] == 0.001  # --no-anneal-lr: the shipped start, constant
    assert resolved.values["policy_kwargs"] == {"net_arch": [8]}
    assert resolved.sources == ("defaults", "ppo.toml [CartPole-v1]", f"{mine} [CartPole-v1]", "options")

    arena = prepare(AgentTrainConfig())  # the shipped arena agent's values, as before the files
    assert arena.config.num_envs == 128 and arena.config.total_timesteps == 12_000_000
    assert (
        arena.config.hidden_sizes == (128, 128) and arena.hyperparams.values["learning_rate"] == "lin_0.0003"
    )
    assert pick_device(AgentTrainConfig()) == torch.device("cuda" if torch.cuda.is_available() else "cpu")


def test_unknown_keys_and_missing_tables_are_one_line_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = _hyperparams_file(tmp_path, "CartPole-v1", "n_step = 16\n")
    with pytest.raises(HyperparamsError, match=r"mine.toml \[CartPole-v1\]: unknown key 'n_step' for ppo"):
        resolve(_config(tmp_path, hyperparams=typo), ("CartPole-v1",))
    nested = _hyperparams_file(tmp_path, "CartPole-v1", "policy_kwargs = {layers = [3]}\n")
    with pytest.raises(HyperparamsError, match=r"unknown key 'policy_kwargs\.layers'"):
        resolve(_config(tmp_path, hyperparams=nested), ("CartPole-v1",))
    other = _hyperparams_file(tmp_path, "Acrobot-v1", "n_steps = 16\n")
    with pytest.raises(HyperparamsError, match=r"no table for CartPole-v1 \(it has: Acrobot-v1\)"):
        resolve(_config(tmp_path, hyperparams=other), ("CartPole-v1",))
    dqn_key = _hyperparams_file(tmp_path, "CartPole-v1", "n_epochs = 3\n")
    assert main(["train", "agent", "--env", "CartPole-v1", "--algo", "dqn", "--hyperparams", dqn_key,
                 "--checkpoints-dir", str(tmp_path / "checkpoints")]) == 2  # fmt: skip
    assert "unknown key 'n_epochs' for dqn" in capsys.readouterr().err
    assert not (tmp_path / "checkpoints").exists()


def test_a_larger_total_extends_a_finished_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mine = _hyperparams_file(tmp_path, "CartPole-v1", TINY["ppo"])
    config = _config(tmp_path, total_timesteps=256, num_envs=2, hyperparams=mine)
    first = learn(config)
    assert first["timesteps"] == 256
    again = learn(config)  # the same total: nothing to do
    assert "already trained to 256 steps" in capsys.readouterr().out and again["timesteps"] == 256
    longer = learn(dataclasses.replace(config, total_timesteps=512))
    assert "extending " + first["run_name"] + " from ckpt_000000000256.zip at 256 steps to 512" in (
        capsys.readouterr().out
    )
    directory = tmp_path / "checkpoints" / "CartPole-v1__ppo__1"
    state = json.loads((directory / "state.json").read_text())
    assert state["finished"] and state["timesteps"] == longer["timesteps"] == 512
    assert state["run_name"] == first["run_name"] and len(list((tmp_path / "runs").iterdir())) == 1


def test_vecnormalize_statistics_are_json_beside_each_checkpoint_and_come_back(tmp_path: Path) -> None:
    mine = _hyperparams_file(tmp_path, "CartPole-v1", TINY["ppo"] + "normalize = {norm_reward = false}\n")
    config = _config(
        tmp_path, total_timesteps=512, num_envs=2, hyperparams=mine, eval_every=256, eval_matches=2
    )
    first = learn(config, extra_callbacks=[_StopAt(300)])
    directory = tmp_path / "checkpoints" / "CartPole-v1__ppo__1"
    checkpoint = directory / json.loads((directory / "state.json").read_text())["checkpoint"]
    saved = json.loads(stats_path(checkpoint).read_text())
    assert saved["norm_obs"] and not saved["norm_reward"] and "ret_rms" not in saved
    assert len(saved["obs_rms"]["mean"]) == 4 and saved["obs_rms"]["count"] > 256
    assert all(record["mean_return"] > 0 for record in first["history"])  # evaluated through the stats
    assert not any(directory.glob("*.pkl"))  # no pickled VecNormalize

    at_start = _AtStart()
    learn(config, extra_callbacks=[at_start])
    # The saved statistics, and the 2 first observations of the resumed run (SB3 resets the envs).
    assert at_start.seen["obs_count"] == pytest.approx(saved["obs_rms"]["count"] + 2)
    np.testing.assert_allclose(at_start.seen["obs_mean"], saved["obs_rms"]["mean"], atol=0.05)

    final = final_checkpoint(config)
    normalization = obs_normalization(final)
    assert normalization is not None and len(normalization.mean) == 4 and normalization.clip == 10.0
    assert stats_path(final).is_file() and len(list(directory.glob("*.vecnormalize.json"))) == 2


def _greedy_return(config: AgentTrainConfig, episodes: int = 10) -> float:
    model = ALGORITHMS[config.algo].load(final_checkpoint(config), device="cpu")
    env = VecMonitor(make_sb3_vec_env(config.env, 1))
    env.seed(123)
    returns, _ = evaluate_policy(
        model, env, n_eval_episodes=episodes, deterministic=True, return_episode_rewards=True
    )
    env.close()
    return float(np.mean(returns))


@pytest.mark.slow
@pytest.mark.timeout(1800)  # SAC: 20k gradient steps, minutes on a shared CPU
@pytest.mark.parametrize(
    ("algo", "env", "goal"), [("ppo", "CartPole-v1", 475.0), ("sac", "Pendulum-v1", -300.0)]
)
def test_the_shipped_hyperparameters_solve_classic_control(
    algo: str, env: str, goal: float, tmp_path: Path
) -> None:
    """PPO on CartPole-v1 (100k steps) and SAC on Pendulum-v1 (20k steps) with the shipped files."""
    config = _config(tmp_path, env=env, algo=algo, checkpoint_every=1_000_000, device="cpu")
    learn(config)
    assert _greedy_return(config, episodes=10) >= goal
