"""The difficulty of the arena envs: drawn per episode at reset, and the handicap that spoils actions."""

from __future__ import annotations

import numpy as np
import pytest

from demo_game.sim import ArenaField
from demo_game.sim.actions import ActionHandicap, handicap_actions
from demo_game.sim.observation import ObservationField
from envs.arena_env import ArenaEnv
from envs.matches import ArenaEnvConfig
from envs.vector_env import ArenaVectorEnv

_ALL_ON = ActionHandicap(hold_fire=0.5, scramble_aim=0.7, slip_move=0.4)


def _spoil(actions: np.ndarray, difficulty: float, handicap: ActionHandicap, seed: int = 0) -> np.ndarray:
    n = actions.shape[0]
    rng = np.random.default_rng(seed)
    arena = np.zeros((n, len(ArenaField)))
    arena[:, ArenaField.TICK] = rng.integers(0, 900, size=n)
    keys = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    out = np.zeros_like(actions)
    handicap_actions(1, actions, np.full(n, difficulty), handicap.as_array(), arena, keys, out)
    return out


def test_no_handicap_at_full_difficulty() -> None:
    actions = np.random.default_rng(1).integers(0, [9, 4, 2], size=(2000, 3))
    np.testing.assert_array_equal(_spoil(actions, 1.0, _ALL_ON), actions)


def test_handicap_rates_at_zero_difficulty() -> None:
    n = 40_000
    actions = np.tile([[3, 2, 1]], (n, 1))  # move 3, fire straight, dash
    played = _spoil(actions, 0.0, _ALL_ON)
    assert (played[:, 2] == 1).all()  # dash untouched
    slipped = played[:, 0] != 3
    assert slipped.mean() == pytest.approx(0.4 * 8 / 9, abs=0.01)  # a slip may land on the same move
    held = played[:, 1] == 0
    assert held.mean() == pytest.approx(0.5, abs=0.01)
    shots = played[~held, 1]
    assert (shots != 2).mean() == pytest.approx(0.7 * 2 / 3, abs=0.015)
    assert set(np.unique(shots)) == {1, 2, 3}


def test_chances_scale_with_one_minus_difficulty_and_holding_fire_leaves_no_shot() -> None:
    n = 40_000
    actions = np.tile([[0, 1, 0]], (n, 1))
    half = _spoil(actions, 0.5, ActionHandicap(hold_fire=0.8))
    assert (half[:, 1] == 0).mean() == pytest.approx(0.4, abs=0.01)
    idle = np.tile([[0, 0, 0]], (n, 1))
    assert (_spoil(idle, 0.0, ActionHandicap(hold_fire=1.0, scramble_aim=1.0))[:, 1] == 0).all()


def test_handicap_chances_are_validated() -> None:
    with pytest.raises(ValueError, match="hold_fire"):
        ActionHandicap(hold_fire=1.5)
    assert not ActionHandicap().active and _ALL_ON.active


def test_difficulty_range_draws_a_difficulty_per_episode_shown_in_the_observation() -> None:
    env = ArenaVectorEnv(64, difficulty_range=(0.2, 0.6), match_ticks=30)
    obs, _ = env.reset(seed=0)
    shown = obs[:, ObservationField.DIFFICULTY]
    assert ((shown >= 0.2) & (shown <= 0.6)).all() and np.unique(shown).size == 64
    np.testing.assert_allclose(shown, env.matches.difficulty, rtol=1e-6)
    for _ in range(20):  # the 30-tick matches end and restart with new draws
        obs, _, terminated, _, infos = env.step(np.zeros((64, 3), dtype=np.int64))
        if terminated.any():
            i = int(np.flatnonzero(terminated)[0])
            assert infos["final_info"]["difficulty"][i] == pytest.approx(float(shown[i]), abs=1e-6)
            assert obs[i, ObservationField.DIFFICULTY] != shown[i]
            break
    else:
        pytest.fail("no episode ended")


def test_fixed_difficulty_without_a_range() -> None:
    obs, _ = ArenaVectorEnv(4, difficulty=0.3).reset(seed=0)
    np.testing.assert_allclose(obs[:, ObservationField.DIFFICULTY], 0.3, rtol=1e-6)
    with pytest.raises(ValueError, match="difficulty_range"):
        ArenaEnvConfig(difficulty_range=(0.8, 0.2))


def test_handicap_from_gym_make_keywords() -> None:
    env = ArenaEnv(handicap={"hold_fire": 0.5}, difficulty_range=(0.0, 1.0))
    assert env.config.handicap == ActionHandicap(hold_fire=0.5)


def test_a_handicapped_agent_is_weaker() -> None:
    """Same seeds, same (always firing, chasing) actions: at d = 0 the agent deals less damage."""
    rewards = {}
    for difficulty in (0.0, 1.0):
        env = ArenaVectorEnv(
            32, difficulty=difficulty, handicap=_ALL_ON, opponent_styles=("idle",), match_ticks=300
        )
        obs, _ = env.reset(seed=3)
        total = 0.0
        for _ in range(150):
            dx, dy = obs[:, ObservationField.TARGET_DX], obs[:, ObservationField.TARGET_DY]
            move = 1 + np.round(np.arctan2(dy, dx) / (np.pi / 4)).astype(np.int64) % 8
            actions = np.stack([move, np.full(32, 2), np.zeros(32, dtype=np.int64)], axis=1)
            obs, reward, _, _, _ = env.step(actions)
            total += float(reward.sum())
        rewards[difficulty] = total
    assert rewards[1.0] > rewards[0.0] + 1.0
