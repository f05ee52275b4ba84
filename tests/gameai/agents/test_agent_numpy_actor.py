"""The numpy actor served on the event loop plays what the torch actor plays."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.agents.actor import ActorConfig, ActorNet, load_actor
from gameai.agents.numpy_actor import NumpyActor, small_enough

ARENA = Path(__file__).resolve().parents[3] / "assets" / "agents" / "arena"

CONFIGS = {
    "multidiscrete-arena-handicap": ActorConfig(
        obs_dim=6, action_nvec=(9, 4, 2), difficulty_index=5, hold_fire=0.5, slip_move=0.5, freeze=0.5
    ),
    "discrete-relu": ActorConfig(obs_dim=4, action_space="Discrete", action_nvec=(3,), activation="relu"),
    "multibinary-elu": ActorConfig(
        obs_dim=4, action_space="MultiBinary", action_nvec=(2, 2, 2), activation="elu"
    ),
    "box-clipped-normalised": ActorConfig(
        obs_dim=3,
        action_space="Box",
        action_nvec=(),
        action_low=(-0.5, 0.0),
        action_high=(0.5, 2.0),
        obs_mean=(1.0, 0.0, -1.0),
        obs_var=(4.0, 1.0, 0.25),
        random_action=0.5,
    ),
    "box-squashed-leaky": ActorConfig(
        obs_dim=3,
        action_space="Box",
        action_nvec=(),
        action_low=(-2.0,),
        action_high=(2.0,),
        action_squash=True,
        activation="leaky_relu",
    ),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_numpy_choice_equals_the_torch_choice(name: str) -> None:
    torch.manual_seed(0)
    net = ActorNet(CONFIGS[name]).eval()
    fast = NumpyActor(net)
    rng = np.random.default_rng(0)
    obs = rng.normal(0.0, 2.0, (1000, net.config.obs_dim)).astype(np.float32)
    difficulty = rng.uniform(0.0, 1.0, 1000).astype(np.float32)
    with torch.no_grad():
        expected = net.choose(torch.from_numpy(obs), torch.from_numpy(difficulty)).numpy()
    got = fast.choose(obs, difficulty)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    if net.config.continuous:
        np.testing.assert_allclose(got, expected, atol=1e-5)
    else:
        assert (got == expected).mean() >= 0.999  # a float32 near-tie may break the other way


def test_the_shipped_arena_actor_in_numpy_and_its_handicap_rates() -> None:
    actor = load_actor(ARENA)
    fast = NumpyActor(actor.net)
    assert small_enough(actor.config, 200_000) and fast.parameters < 200_000
    rng = np.random.default_rng(1)
    obs = rng.uniform(-1.0, 1.0, (4000, actor.config.obs_dim)).astype(np.float32)
    for d in (0.0, 0.5, 1.0):
        level = np.full(4000, d, dtype=np.float32)
        with torch.no_grad():
            reference = actor.net.act(
                torch.from_numpy(obs), torch.from_numpy(level), torch.Generator().manual_seed(0)
            ).numpy()
        played = fast.act(obs, level, np.random.default_rng(2))
        # The same rule drawn from another generator: the same rates of frozen and shooting NPCs.
        frozen = (played == 0).all(axis=1).mean(), (reference == 0).all(axis=1).mean()
        shooting = (played[:, 1] > 0).mean(), (reference[:, 1] > 0).mean()
        assert abs(frozen[0] - frozen[1]) < 0.03 and abs(shooting[0] - shooting[1]) < 0.03, (
            d,
            frozen,
            shooting,
        )
        if d == 1.0:
            assert (played == reference).mean() >= 0.999


FROZEN = {
    "Discrete": ActorConfig(
        obs_dim=2, action_space="Discrete", action_nvec=(5,), freeze=1.0, idle_action=(3,)
    ),
    "MultiDiscrete": ActorConfig(
        obs_dim=2, action_nvec=(3, 2), freeze=1.0, idle_action=(1, 0), random_action=0.5
    ),
    "MultiBinary": ActorConfig(
        obs_dim=2, action_space="MultiBinary", action_nvec=(2, 2), freeze=1.0, idle_action=(1, 0)
    ),
    "Box": ActorConfig(
        obs_dim=2,
        action_space="Box",
        action_nvec=(),
        action_low=(-1.0,),
        action_high=(1.0,),
        freeze=1.0,
        idle_action=(0.25,),
    ),
}


@pytest.mark.parametrize("config", list(FROZEN.values()), ids=list(FROZEN))
def test_numpy_freeze_plays_the_idle_action_as_torch_does(config: ActorConfig) -> None:
    torch.manual_seed(0)
    net = ActorNet(config).eval()
    fast = NumpyActor(net)
    rng = np.random.default_rng(0)
    obs = rng.normal(0.0, 1.0, (4000, config.obs_dim)).astype(np.float32)
    idle = np.asarray(config.idle)
    for d in (0.0, 0.5, 1.0):
        level = np.full(4000, d, dtype=np.float32)
        played = fast.act(obs, level, np.random.default_rng(1))
        with torch.no_grad():
            reference = net.act(
                torch.from_numpy(obs), torch.from_numpy(level), torch.Generator().manual_seed(2)
            )
        assert played.dtype == reference.numpy().dtype
        if d == 0.0:
            assert (played == idle).all()
        if d == 1.0:
            np.testing.assert_array_equal(played, fast.choose(obs, level))
        idle_rates = (played == idle).all(axis=1).mean(), (reference.numpy() == idle).all(axis=1).mean()
        assert abs(idle_rates[0] - idle_rates[1]) < 0.03, (d, idle_rates)
