"""The natively vectorised env: registration, autoreset, and equality with single envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import envs  # noqa: F401  (registers the ids)
from envs.arena_env import ArenaEnv
from envs.vector_env import ArenaVectorEnv


def test_make_vec_uses_the_native_vector_env() -> None:
    vec = gym.make_vec("gameai/Arena-v0", num_envs=8, vectorization_mode="vector_entry_point")
    assert isinstance(vec.unwrapped, ArenaVectorEnv)
    assert vec.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, info = vec.reset(seed=0)
    assert obs.shape == (8, 44) and info == {}
    assert vec.action_space.shape == (8, 3)


def _compare(kwargs: dict[str, object], num_envs: int, steps: int, seed: int) -> int:
    """Step the native vector env and SyncVectorEnv side by side; return how many episodes ended."""
    native = ArenaVectorEnv(num_envs, **kwargs)  # type: ignore[arg-type]
    reference = SyncVectorEnv(
        [lambda: ArenaEnv(**kwargs) for _ in range(num_envs)],  # type: ignore[arg-type]
        autoreset_mode=AutoresetMode.SAME_STEP,
    )
    obs_n, _ = native.reset(seed=seed)
    obs_r, _ = reference.reset(seed=seed)
    np.testing.assert_array_equal(obs_n, obs_r)
    rng = np.random.default_rng(seed)
    episodes = 0
    for _ in range(steps):
        actions = rng.integers(0, [9, 4, 2], size=(num_envs, 3))
        obs_n, rew_n, term_n, trunc_n, info_n = native.step(actions)
        obs_r, rew_r, term_r, trunc_r, info_r = reference.step(actions)
        np.testing.assert_array_equal(obs_n, obs_r)
        np.testing.assert_array_equal(rew_n, rew_r)
        np.testing.assert_array_equal(term_n, term_r)
        np.testing.assert_array_equal(trunc_n, trunc_r)
        assert info_n.keys() == info_r.keys()
        if term_n.any():
            episodes += int(term_n.sum())
            np.testing.assert_array_equal(info_n["_final_obs"], info_r["_final_obs"])
            for i in np.flatnonzero(term_n):
                np.testing.assert_array_equal(info_n["final_obs"][i], info_r["final_obs"][i])
            assert list(info_n["final_info"]) == list(info_r["final_info"])
            for key, value in info_r["final_info"].items():
                np.testing.assert_array_equal(info_n["final_info"][key], value, err_msg=key)
                assert info_n["final_info"][key].dtype == value.dtype, key
    return episodes


def test_native_vector_env_equals_single_envs_through_autoresets() -> None:
    episodes = _compare({}, num_envs=6, steps=700, seed=11)
    assert episodes >= 6, "the comparison must cross several autoresets"


def test_equality_holds_with_scripted_allies_and_a_fixed_layout() -> None:
    assert _compare({"n_enemies": 2, "layout": 2, "match_ticks": 300}, num_envs=3, steps=400, seed=2) >= 3


def test_equality_holds_with_a_drawn_difficulty_and_a_handicap() -> None:
    handicap = {"hold_fire": 0.5, "scramble_aim": 0.8, "slip_move": 0.3}
    kwargs = {"difficulty_range": (0.0, 1.0), "handicap": handicap, "match_ticks": 200}
    assert _compare(kwargs, num_envs=4, steps=300, seed=4) >= 4


def test_pixel_vector_env_equals_single_envs() -> None:
    _compare({"obs_type": "pixels", "frame_stack": 2, "match_ticks": 60}, num_envs=2, steps=40, seed=5)


def test_seed_sequences_and_unseeded_resets() -> None:
    a = ArenaVectorEnv(3)
    b = ArenaVectorEnv(3)
    obs_a, _ = a.reset(seed=[7, 8, 9])
    obs_b, _ = b.reset(seed=7)
    np.testing.assert_array_equal(obs_a, obs_b)
    obs_c, _ = ArenaVectorEnv(3).reset()
    assert not np.array_equal(obs_a, obs_c)  # fresh entropy without a seed


def test_rgb_render_gives_one_frame_per_arena() -> None:
    vec = ArenaVectorEnv(2, render_mode="rgb_array", render_size=(160, 120))
    vec.reset(seed=0)
    frames = vec.render()
    assert frames is not None and len(frames) == 2 and frames[0].shape == (120, 160, 3)
    with pytest.raises(ValueError, match="render_mode"):
        ArenaVectorEnv(2, render_mode="human")
