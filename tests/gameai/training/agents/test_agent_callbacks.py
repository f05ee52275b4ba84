"""Callback schedules, self-play snapshots and the TensorBoard groups of an agent run."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from stable_baselines3.common.logger import configure

from demo_game.sim.observation import OBSERVATION_SIZE
from gameai.agents.actor import ActorConfig, ActorNet, load_actor, save_actor
from gameai.training.agents.arena import SelfPlayCallback, restore_pool
from gameai.training.agents.callbacks import Every
from gameai.training.agents.opponents import FrozenPolicyPool
from gameai.training.agents.run_log import grouped_key


def test_every_fires_once_per_crossed_multiple() -> None:
    every = Every(100)
    fired = [step for step in range(0, 450, 30) if every.due(step)]
    assert fired == [120, 210, 300, 420]
    resumed = Every(100, start=250)  # after a resume at step 250, next due at 300
    assert not resumed.due(280) and resumed.due(300)
    assert not Every(0).due(10**9)


def test_sb3_keys_are_grouped_the_cleanrl_way() -> None:
    assert grouped_key("rollout/ep_rew_mean") == "charts/episodic_return"
    assert grouped_key("time/fps") == "charts/SPS"
    assert grouped_key("train/value_loss") == "losses/value_loss"
    assert grouped_key("train/policy_gradient_loss") == "losses/policy_loss"
    assert grouped_key("eval/win_rate_d1.00") == "eval/win_rate_d1.00"
    assert grouped_key("time/iterations") is None


def _actor(seed: int) -> ActorNet:
    torch.manual_seed(seed)
    return ActorNet(ActorConfig(obs_dim=OBSERVATION_SIZE, difficulty_index=40)).eval()


def test_a_snapshot_appears_whole_and_replaces_one_of_the_same_step(tmp_path: Path) -> None:
    pool = FrozenPolicyPool(4, np.random.default_rng(0))
    actors = iter([_actor(1), _actor(2)])
    callback = SelfPlayCallback(pool, lambda: next(actors), 100, tmp_path)
    callback.init_callback(SimpleNamespace(logger=configure(None, [])))  # type: ignore[arg-type]
    callback._snapshot(4096)
    callback._snapshot(4096)  # a resumed run passes the same step again
    assert [p.name for p in tmp_path.iterdir()] == ["000000004096"]  # nothing half-written left
    restored = load_actor(tmp_path / "000000004096").net
    assert torch.equal(next(restored.parameters()), next(_actor(2).parameters()))


def test_a_killed_runs_pool_comes_back_without_its_half_written_snapshot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for step, seed in ((1024, 1), (2048, 2), (4096, 3)):
        save_actor(tmp_path / f"{step:012d}", _actor(seed), {"timesteps": step})
    (tmp_path / "000000004096" / "actor.json").unlink()  # killed between its two files
    (tmp_path / ".000000008192.partial").mkdir()  # killed while staging
    pool = FrozenPolicyPool(4, np.random.default_rng(0))
    restore_pool(pool, tmp_path, size=6)
    assert pool.labels == ["000000001024", "000000002048"]  # oldest first, as the run added them
    assert "000000004096 skipped" in caplog.text
    newest = FrozenPolicyPool(4, np.random.default_rng(0))
    restore_pool(newest, tmp_path, size=1)
    assert newest.labels == ["000000002048"]
