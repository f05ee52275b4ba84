"""Checks any Gymnasium env of this project passes: the same seed plays the same episode."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def random_trajectory(
    env_id: str, seed: int, steps: int, action_seed: int = 99
) -> list[tuple[np.ndarray, float, bool]]:
    """``steps`` uniformly random actions of a ``MultiDiscrete`` env, drawn from ``action_seed``.

    The env is made fresh and reset with ``seed``; each step gives ``(obs, reward, terminated)``,
    and after a termination the env resets and a row ``(obs, 0.0, False)`` marks it.
    """
    env = gym.make(env_id)
    env.reset(seed=seed)
    nvec = env.action_space.nvec  # type: ignore[attr-defined]
    actions = np.random.default_rng(action_seed).integers(0, nvec, size=(steps, len(nvec)))
    out = []
    for action in actions:
        obs, reward, terminated, _, _ = env.step(action)
        out.append((obs, float(reward), terminated))
        if terminated:
            obs, _ = env.reset()
            out.append((obs, 0.0, False))
    env.close()
    return out


def assert_seeded_determinism(env_id: str, steps: int) -> None:
    """Seed 3 twice plays the same observations, rewards and terminations; seed 4 plays others."""
    first, second, other = (random_trajectory(env_id, seed, steps) for seed in (3, 3, 4))
    assert len(first) == len(second)
    for (o1, r1, d1), (o2, r2, d2) in zip(first, second, strict=True):
        np.testing.assert_array_equal(o1, o2)
        assert (r1, d1) == (r2, d2)
    assert any(not np.array_equal(a[0], b[0]) for a, b in zip(first, other, strict=False))
