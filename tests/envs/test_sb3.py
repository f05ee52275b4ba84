"""The Stable-Baselines3 adapter of the native vector env."""

from __future__ import annotations

import numpy as np
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecMonitor

from envs.sb3 import ArenaSB3VecEnv
from envs.vector_env import ArenaVectorEnv


def test_terminal_observations_reach_sb3() -> None:
    venv = ArenaSB3VecEnv(ArenaVectorEnv(4, match_ticks=40))
    venv.seed(3)
    obs = venv.reset()
    assert obs.shape == (4, 44)
    finished = 0
    for _ in range(20):
        obs, rewards, dones, infos = venv.step(np.zeros((4, 3), dtype=np.int64))
        assert rewards.dtype == np.float32 and len(infos) == 4
        for done, info in zip(dones, infos, strict=True):
            if done:
                finished += 1
                assert info["terminal_observation"].shape == (44,)
                assert info["TimeLimit.truncated"] is False
                assert "outcome" in info
    # 40 ticks are too few for anyone to die, so every match ends by time, at step 20 (2 ticks a step).
    assert finished == 4 and dones.all()


def test_seeded_resets_repeat() -> None:
    venv = ArenaSB3VecEnv(ArenaVectorEnv(2))
    venv.seed(5)
    first = venv.reset()
    venv.seed(5)
    np.testing.assert_array_equal(venv.reset(), first)


def test_ppo_trains_on_it() -> None:
    venv = VecMonitor(ArenaSB3VecEnv(ArenaVectorEnv(8, match_ticks=120)))
    model = PPO("MlpPolicy", venv, n_steps=32, batch_size=64, n_epochs=1, seed=0, device="cpu")
    model.learn(512)
    assert model.num_timesteps >= 512
    assert len(model.ep_info_buffer) > 0  # episodes completed and were recorded
