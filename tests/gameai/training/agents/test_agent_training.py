"""Training the arena agent: a short run learns, the export matches SB3, a killed run resumes."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from stable_baselines3 import PPO

from demo_game.sim.actions import ActionHandicap
from demo_game.sim.observation import ObservationField
from envs.vector_env import ArenaVectorEnv
from gameai.agents.actor import load_actor
from gameai.training.agents.arena import arena_actor_spec
from gameai.training.agents.config import AgentTrainConfig
from gameai.training.agents.export import actor_from_policy
from gameai.training.agents.sb3_zip import export_checkpoint
from gameai.training.agents.train import final_checkpoint, learn

ROOT = Path(__file__).resolve().parents[4]


def _tiny(tmp_path: Path, **changes: object) -> AgentTrainConfig:
    base = AgentTrainConfig(
        total_timesteps=60_000,
        num_envs=32,
        n_steps=64,
        batch_size=512,
        n_epochs=4,
        learning_rate=1e-3,
        anneal_lr=False,
        gamma=0.99,
        hidden_sizes=(64, 64),
        self_play_fraction=0.0,
        handicapped_fraction=0.0,
        eval_every=0,
        checkpoint_every=1_000_000,
        progress_bar=False,
        runs_dir=str(tmp_path / "runs"),
        checkpoints_dir=str(tmp_path / "checkpoints"),
        assets_dir=str(tmp_path / "assets"),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def _mean_return(policy: object, episodes: int = 128, seed: int = 1234) -> float:
    """Mean return of ``policy`` over matches against aggressive players (the same seeds every call)."""
    env = ArenaVectorEnv(episodes, opponent_styles=("aggressive",))
    obs, _ = env.reset(seed=seed)
    total = np.zeros(episodes)
    done = np.zeros(episodes, dtype=np.bool_)
    while not done.all():
        obs, reward, terminated, _, _ = env.step(policy(obs))  # type: ignore[operator]
        total += np.where(done, 0.0, reward)
        done |= terminated
    return float(total.mean())


def test_a_short_ppo_run_on_the_vector_env_beats_a_random_policy(tmp_path: Path) -> None:
    """60k steps against aggressive players (the reference style) of every skill."""
    config = _tiny(tmp_path, opponent_styles=("aggressive",))
    summary = learn(config)
    assert summary["timesteps"] >= config.total_timesteps
    model = PPO.load(final_checkpoint(config), device="cpu")
    rng = np.random.default_rng(0)
    random_return = _mean_return(lambda obs: rng.integers(0, [9, 4, 2], size=(len(obs), 3)))
    trained_return = _mean_return(lambda obs: model.predict(obs, deterministic=False)[0])
    assert random_return < -1.5  # a random agent dies almost every match, dealing little damage
    assert trained_return > random_return + 0.1, (trained_return, random_return)
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1 and runs[0].name.startswith(f"Arena-v0__ppo_arena__{config.seed}__")


def test_exported_actor_acts_like_the_sb3_policy(tmp_path: Path) -> None:
    config = _tiny(
        tmp_path, total_timesteps=4096, num_envs=16, self_play_fraction=0.25, handicapped_fraction=0.5,
        eval_every=2048, eval_matches=2, eval_difficulties=(0.0, 1.0), match_ticks=150,
    )  # fmt: skip
    history = learn(config)["history"]
    assert [record["timesteps"] for record in history] == [2048, 4096]  # every 2048 steps, and at the end
    assert set(history[-1]["win_rate"]) == {0.0, 1.0}
    checkpoint = final_checkpoint(config)
    spec = arena_actor_spec(ActionHandicap(hold_fire=0.8, scramble_aim=1.0, slip_move=0.3))
    exported = export_checkpoint(checkpoint, tmp_path / "assets" / "arena", spec)
    loaded = load_actor(tmp_path / "assets" / "arena")
    assert loaded.config == exported.config and loaded.config.difficulty_index == ObservationField.DIFFICULTY
    model = PPO.load(checkpoint, device="cpu")
    env = ArenaVectorEnv(256, difficulty_range=(0.0, 1.0))
    obs, _ = env.reset(seed=7)
    for _ in range(30):  # observations from the middle of matches, at many difficulties
        obs, *_ = env.step(np.random.default_rng(0).integers(0, [9, 4, 2], size=(256, 3)))
    expected = model.predict(obs, deterministic=True)[0]
    difficulty = torch.from_numpy(obs[:, ObservationField.DIFFICULTY].copy())
    with torch.no_grad():
        served_choice = loaded.net.choose(torch.from_numpy(obs), difficulty).numpy()
        at_full_strength = loaded.net.act(torch.from_numpy(obs), None).numpy()
    np.testing.assert_array_equal(served_choice, expected)
    np.testing.assert_array_equal(at_full_strength, expected)  # no handicap without a difficulty
    assert actor_from_policy(model.policy, spec).config == loaded.config


def _run_cli(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "gameai.cli", "train", "agent", "ppo", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_a_killed_run_resumes_from_its_last_checkpoint_with_its_step_count(tmp_path: Path) -> None:
    args = [
        "--total-timesteps", "16000", "--num-envs", "16", "--n-steps", "32", "--batch-size", "256",
        "--n-epochs", "2", "--self-play-fraction", "0.25", "--self-play-every", "2048",
        "--checkpoint-every", "2048", "--eval-every", "0", "--no-progress-bar", "--hidden-sizes", "32", "32",
        "--runs-dir", str(tmp_path / "runs"), "--checkpoints-dir", str(tmp_path / "checkpoints"),
    ]  # fmt: skip
    directory = tmp_path / "checkpoints" / "Arena-v0__ppo_arena__1"
    first = _run_cli(args, ROOT)
    deadline = time.monotonic() + 120
    while not (directory / "state.json").is_file():
        assert first.poll() is None, first.stdout.read() if first.stdout else ""
        assert time.monotonic() < deadline, "no checkpoint within 120 s"
        time.sleep(0.2)
    first.send_signal(signal.SIGKILL)  # a crash: no chance to save anything more
    first.wait()
    killed_at = json.loads((directory / "state.json").read_text())["timesteps"]
    assert 0 < killed_at < 16_000

    second = _run_cli(args, ROOT)
    out, _ = second.communicate(timeout=300)
    assert second.returncode == 0, out
    state = json.loads((directory / "state.json").read_text())
    assert f"at {state_resumed(out)} steps" in out and state_resumed(out) >= killed_at
    assert state["finished"] and state["timesteps"] >= 16_000
    assert PPO.load(directory / state["checkpoint"], device="cpu").num_timesteps == state["timesteps"]
    assert len(list((tmp_path / "runs").iterdir())) == 1  # the same TensorBoard run, continued
    assert (directory / "pool").is_dir() and len(list((directory / "pool").iterdir())) >= 2


def state_resumed(output: str) -> int:
    """The step count a resumed run reported starting from."""
    line = next(line for line in output.splitlines() if line.startswith("resuming "))
    return int(line.rsplit(" at ", 1)[1].split()[0])


@pytest.mark.slow
def test_a_longer_run_learns_to_beat_the_weakest_reference(tmp_path: Path) -> None:
    """500k steps at full strength: the served actor wins most matches against aggressive@0."""
    from gameai.training.agents.matches import Opponent, play_matches

    config = _tiny(
        tmp_path, total_timesteps=500_000, num_envs=64, batch_size=1024, n_epochs=10, learning_rate=3e-4
    )
    learn(config)
    actor = actor_from_policy(PPO.load(final_checkpoint(config), device="cpu").policy, arena_actor_spec())
    (tally,) = play_matches(actor, Opponent("aggressive", 0.0), (1.0,), 100)
    assert tally.win_rate > 0.4
