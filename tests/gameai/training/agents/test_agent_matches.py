"""Playing whole matches: tallies, shared seeds across levels, the scripted enemy, the self-play pool."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from demo_game.sim.observation import OBSERVATION_SIZE, ObservationField
from envs.sb3 import ArenaSB3VecEnv
from envs.vector_env import ArenaVectorEnv
from gameai.agents.actor import ActorConfig, ActorNet
from gameai.training.agents.matches import Opponent, Tally, play_matches, play_scripted_enemy
from gameai.training.agents.opponents import FrozenPolicyPool
from gameai.training.agents.vec_env import ConcatVecEnv


def _actor(seed: int = 0, **config: float) -> ActorNet:
    torch.manual_seed(seed)
    return ActorNet(ActorConfig(obs_dim=OBSERVATION_SIZE, difficulty_index=40, **config)).eval()  # type: ignore[arg-type]


def test_opponent_names_and_tallies() -> None:
    assert Opponent.parse("aggressive@0.25") == Opponent("aggressive", 0.25)
    assert Opponent.parse("idle").name == "idle@0.5"
    tally = Tally()
    for outcome in (1, 1, 0, -1):
        tally.add(outcome)
    assert (tally.matches, tally.win_rate, tally.score) == (4, 0.5, 0.625)


def test_play_matches_plays_each_level_once_per_seed() -> None:
    actor = _actor()
    tallies = play_matches(actor, Opponent("idle", 0.5), (0.0, 1.0), 6, seed=3, match_ticks=120)
    assert [t.matches for t in tallies] == [6, 6]
    again = play_matches(actor, Opponent("idle", 0.5), (0.0, 1.0), 6, seed=3, match_ticks=120)
    assert [t.as_dict() for t in tallies] == [t.as_dict() for t in again]  # seeded: repeatable


def test_the_handicap_weakens_a_served_actor_against_the_same_players() -> None:
    """An always-firing, chasing actor: at d = 0 its shots are held back, so it wins less."""
    actor = _actor(hold_fire=1.0, scramble_aim=1.0)
    with torch.no_grad():  # chase the target and fire straight at it, whatever the observation
        actor.head.weight.zero_()
        actor.head.bias.copy_(torch.tensor([0.0] * 9 + [-9.0, -9.0, 9.0, -9.0] + [0.0, -1.0]))
    weak, strong = play_matches(actor, Opponent("idle", 0.5), (0.0, 1.0), 24, match_ticks=600)
    assert strong.win_rate > weak.win_rate and weak.wins == 0


def test_scripted_enemy_matches_end() -> None:
    tally = play_scripted_enemy(Opponent("aggressive", 0.5), 8, match_ticks=300)
    assert tally.matches == 8


def test_pool_draws_a_member_per_match_and_keeps_it_until_the_next_start() -> None:
    pool = FrozenPolicyPool(2, np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="empty"):
        pool(np.zeros((1, OBSERVATION_SIZE), dtype=np.float32))
    for seed in range(3):
        pool.add(_actor(seed), f"m{seed}")
    assert pool.labels == ["m1", "m2"]  # the oldest was dropped
    obs = np.random.default_rng(1).uniform(-1, 1, size=(64, OBSERVATION_SIZE)).astype(np.float32)
    obs[:, ObservationField.TIME_LEFT] = 1.0  # every match starts
    first = pool(obs)
    assignment = pool._assignment.copy()  # type: ignore[union-attr]
    assert set(np.unique(assignment)) == {0, 1}
    later = obs.copy()
    later[:, ObservationField.TIME_LEFT] = 0.5  # mid-match: nobody is redrawn
    pool(later)
    assert (pool._assignment == assignment).all()  # type: ignore[union-attr]
    with torch.no_grad():
        rows = np.flatnonzero(assignment == 1)
        np.testing.assert_array_equal(
            first[rows], pool.members[1].choose(torch.from_numpy(obs[rows])).numpy()
        )


def test_self_play_arenas_run_on_the_pool() -> None:
    pool = FrozenPolicyPool(3, np.random.default_rng(0))
    pool.add(_actor(), "start")
    venv = ConcatVecEnv(
        [
            ArenaSB3VecEnv(ArenaVectorEnv(3)),
            ArenaSB3VecEnv(ArenaVectorEnv(2, opponent_policy=pool, match_ticks=60)),
        ]
    )
    venv.seed(0)
    obs = venv.reset()
    assert obs.shape == (5, OBSERVATION_SIZE) and venv.num_envs == 5
    ended = 0
    for _ in range(40):
        venv.step_async(np.zeros((5, 3), dtype=np.int64))
        obs, _, dones, infos = venv.step_wait()
        assert obs.shape == (5, OBSERVATION_SIZE) and len(infos) == 5
        ended += int(dones[3:].sum())
        for i in np.flatnonzero(dones):
            assert "terminal_observation" in infos[i] and "outcome" in infos[i]
    assert ended >= 2  # the 60-tick self-play matches ended
    assert venv.get_attr("num_envs", [0, 4]) == [3, 2]
