"""``gameai/Arena-v0`` and ``gameai/ArenaPixels-v0`` as single envs."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import envs  # noqa: F401  (registers the ids)
from demo_game.sim import ActorField
from demo_game.sim.observation import OBSERVATION_SIZE, ObservationField
from envs.arena_env import ArenaEnv
from envs.matches import AGENT
from gameai.testing.env_checks import assert_seeded_determinism

ENV_IDS = ["gameai/Arena-v0", "gameai/ArenaPixels-v0"]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_gymnasium_env_checker_passes(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any checker warning fails the test
        gymnasium_check_env(env.unwrapped, skip_render_check=False)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_stable_baselines3_env_checker_passes(env_id: str) -> None:
    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_check_env(env.unwrapped, warn=True)


def test_spaces() -> None:
    env = gym.make("gameai/Arena-v0")
    assert env.observation_space.shape == (OBSERVATION_SIZE,) and env.observation_space.dtype == np.float32
    assert list(env.action_space.nvec) == [9, 4, 2]
    pixels = gym.make("gameai/ArenaPixels-v0", frame_stack=4)
    assert pixels.observation_space.shape == (84, 84, 12) and pixels.observation_space.dtype == np.uint8
    obs, _ = pixels.reset(seed=0)
    assert obs.shape == (84, 84, 12)
    np.testing.assert_array_equal(obs[..., :3], obs[..., 9:])  # a fresh stack repeats the first frame
    for _ in range(3):
        obs, *_ = pixels.step(pixels.action_space.sample())
    assert np.any(obs[..., :3] != obs[..., 9:]), "the stack holds different frames once play starts"


def test_same_seed_same_trajectory_and_another_seed_differs() -> None:
    assert_seeded_determinism("gameai/Arena-v0", steps=400)


def test_episode_ends_with_an_outcome_and_rewards_follow_damage() -> None:
    env = ArenaEnv(opponent_styles=("idle",), match_ticks=600, layout=1)
    env.reset(seed=0)
    # Fire at the idle player without moving: damage dealt is rewarded, and the agent wins.
    total, info, terminated = 0.0, {}, False
    while not terminated:
        _, reward, terminated, truncated, info = env.step(np.array([0, 2, 0]))
        assert not truncated
        total += float(reward)
    dealt = env.matches.sim.state.actors[0, 0, ActorField.HEALTH]
    assert info["agent_won"] and info["opponent_style"] == "idle"
    assert dealt == 0.0
    assert total == pytest.approx(
        1.0 + 0.02 * 100 - 0.02 * (60 - env.matches.sim.state.actors[0, AGENT, ActorField.HEALTH])
    )


def test_observation_is_bounded_and_shows_the_difficulty() -> None:
    env = ArenaEnv(difficulty=0.25)
    obs, _ = env.reset(seed=1)
    assert obs[ObservationField.DIFFICULTY] == pytest.approx(0.25)
    for _ in range(300):
        obs, _, terminated, _, _ = env.step(env.action_space.sample())
        assert np.all(obs >= -1.0) and np.all(obs <= 1.0)
        if terminated:
            env.reset()


def test_rgb_render_is_a_window_sized_frame() -> None:
    env = gym.make("gameai/Arena-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert isinstance(frame, np.ndarray) and frame.shape == (480, 640, 3) and frame.std() > 5


def test_opponent_policy_plays_the_player() -> None:
    seen = []

    def stand_still(obs: np.ndarray) -> np.ndarray:
        seen.append(obs.shape)
        return np.zeros((obs.shape[0], 3), dtype=np.int64)

    env = ArenaEnv(opponent_policy=stand_still)
    env.reset(seed=0)
    start = env.matches.sim.state.actors[0, 0, :2].copy()
    for _ in range(10):
        env.step(np.array([0, 0, 0]))
    assert seen == [(1, OBSERVATION_SIZE)] * 10
    np.testing.assert_allclose(env.matches.sim.state.actors[0, 0, :2], start)


def test_bad_options_are_refused_clearly() -> None:
    with pytest.raises(TypeError, match="unknown arena env options"):
        gym.make("gameai/Arena-v0", not_an_option=1)
    with pytest.raises(ValueError, match="opponent_styles"):
        gym.make("gameai/Arena-v0", opponent_styles=("ninja",))
    with pytest.raises(ValueError, match="render_mode"):
        ArenaEnv(render_mode="vr")
