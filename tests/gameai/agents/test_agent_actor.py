"""The actor's serving format: deterministic per-branch argmax, normalisation, difficulty input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.agents.actor import ActorConfig, ActorNet, load_actor, save_actor
from gameai.model_files import ModelLoadError


def test_act_is_the_argmax_of_each_branch() -> None:
    net = ActorNet(ActorConfig(obs_dim=4, action_nvec=(3, 2)))
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([0.0, 5.0, 1.0, 2.0, -1.0]))
        actions = net.act(torch.randn(6, 4))
    assert actions.shape == (6, 2)
    assert actions.tolist() == [[1, 0]] * 6


def test_observation_normalisation_matches_vecnormalize() -> None:
    mean = (1.0, -2.0)
    var = (4.0, 0.25)
    net = ActorNet(
        ActorConfig(obs_dim=2, action_nvec=(2,), hidden_sizes=(), obs_mean=mean, obs_var=var, obs_clip=5.0)
    )
    with torch.no_grad():
        net.head.weight.copy_(torch.eye(2))
        net.head.bias.zero_()
        logits = net(torch.tensor([[3.0, 100.0]]))
    expected = [(3.0 - 1.0) / np.sqrt(4.0 + 1e-8), 5.0]  # second value clipped
    assert logits[0].tolist() == pytest.approx(expected, rel=1e-5)


def test_served_difficulty_overwrites_the_observation_feature() -> None:
    net = ActorNet(ActorConfig(obs_dim=3, action_nvec=(4,), difficulty_index=2))
    assert net.body[0].in_features == 3 and net.config.difficulty_input
    obs = torch.randn(5, 3)
    with torch.no_grad():
        served = net(obs, torch.full((5,), 0.25))
        written = obs.clone()
        written[:, 2] = 0.25
        assert torch.equal(served, net(written))  # the same as the observation carrying it
        assert not torch.allclose(served, net(obs, torch.ones(5)))
        assert torch.equal(net(obs), net(obs, None))  # no difficulty: the observation's own value
        assert torch.equal(net(obs, torch.full((5,), 7.0)), net(obs, torch.ones(5)))  # clipped to [0, 1]
    assert obs.abs().max() > 0 and not torch.equal(obs, written)  # the caller's tensor is untouched


def test_difficulty_is_ignored_without_difficulty_index() -> None:
    net = ActorNet(ActorConfig(obs_dim=3))
    obs = torch.randn(2, 3)
    with torch.no_grad():
        assert torch.equal(net(obs, torch.zeros(2)), net(obs, torch.ones(2)))
    assert not net.config.difficulty_input


def test_difficulty_index_must_lie_in_the_observation() -> None:
    with pytest.raises(ValueError, match="difficulty_index"):
        ActorConfig(obs_dim=3, difficulty_index=3)
    with pytest.raises(ValueError, match="hold_fire"):
        ActorConfig(hold_fire=2.0)


def _always(choice: list[int], config: ActorConfig) -> ActorNet:
    """An actor whose choice is ``choice`` whatever it sees."""
    net = ActorNet(config)
    with torch.no_grad():
        net.head.weight.zero_()
        bias = torch.full((sum(config.action_nvec),), -5.0)
        offset = 0
        for branch, n in zip(choice, config.action_nvec, strict=True):
            bias[offset + branch] = 5.0
            offset += n
        net.head.bias.copy_(bias)
    return net


def test_act_is_the_choice_at_full_difficulty_and_spoiled_below() -> None:
    config = ActorConfig(obs_dim=4, hold_fire=0.5, scramble_aim=0.7, slip_move=0.4)
    net = _always([3, 2, 1], config)
    obs = torch.zeros(20_000, 4)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        assert (net.act(obs, torch.ones(20_000), generator) == torch.tensor([3, 2, 1])).all()
        assert (net.act(obs) == torch.tensor([3, 2, 1])).all()  # no difficulty: full strength
        played = net.act(obs, torch.zeros(20_000), generator)
    assert (played[:, 2] == 1).all()
    assert (played[:, 0] != 3).float().mean().item() == pytest.approx(0.4 * 8 / 9, abs=0.015)
    held = played[:, 1] == 0
    assert held.float().mean().item() == pytest.approx(0.5, abs=0.015)
    assert (played[~held, 1] != 2).float().mean().item() == pytest.approx(0.7 * 2 / 3, abs=0.02)


def test_served_handicap_follows_the_training_rule() -> None:
    """The actor's handicap and the env's (``demo_game.sim.actions.handicap_actions``) spoil alike."""
    from demo_game.sim import ArenaField
    from demo_game.sim.actions import ActionHandicap, handicap_actions

    chances = {"hold_fire": 0.8, "scramble_aim": 1.0, "slip_move": 0.3}
    n, d = 30_000, 0.35
    chosen = np.tile(np.array([[5, 1, 0]]), (n, 1))
    rng = np.random.default_rng(0)
    arena = np.zeros((n, len(ArenaField)))
    arena[:, ArenaField.TICK] = rng.integers(0, 900, size=n)
    keys = rng.integers(0, 2**63, size=n, dtype=np.int64).astype(np.uint64)
    trained = np.zeros_like(chosen)
    handicap_actions(1, chosen, np.full(n, d), ActionHandicap(**chances).as_array(), arena, keys, trained)
    config = ActorConfig(obs_dim=2, **chances)  # type: ignore[arg-type]
    served = _always([5, 1, 0], config).act(
        torch.zeros(n, 2), torch.full((n,), d), torch.Generator().manual_seed(1)
    )
    for branch, size in ((0, 9), (1, 4)):
        expected = np.bincount(trained[:, branch], minlength=size) / n
        got = np.bincount(served[:, branch].numpy(), minlength=size) / n
        np.testing.assert_allclose(got, expected, atol=0.012)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    config = ActorConfig(obs_dim=5, action_nvec=(9, 4, 2), hidden_sizes=(16, 8), activation="relu",
                         obs_mean=(0.0,) * 5, obs_var=(1.0,) * 5)  # fmt: skip
    net = ActorNet(config).eval()
    save_actor(tmp_path / "arena", net, metadata={"elo": 1200})
    loaded = load_actor(tmp_path / "arena")
    assert loaded.name == "arena" and loaded.config == config and loaded.metadata == {"elo": 1200}
    obs = torch.randn(7, 5)
    with torch.no_grad():
        assert torch.equal(net.act(obs), loaded.net.act(obs))


def test_sb3_style_state_dict_names() -> None:
    names = set(ActorNet(ActorConfig(obs_dim=3, hidden_sizes=(8, 8))).state_dict())
    assert names == {
        "body.0.weight",
        "body.0.bias",
        "body.2.weight",
        "body.2.bias",
        "head.weight",
        "head.bias",
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"obs_dim": 0}, "obs_dim"),
        ({"action_nvec": []}, "action_nvec"),
        ({"activation": "gelu"}, "activation"),
        ({"obs_mean": [0.0, 0.0]}, "go together"),
        ({"obs_mean": [0.0], "obs_var": [1.0]}, "obs_dim"),
    ],
)
def test_invalid_configs_are_refused(tmp_path: Path, config: dict[str, object], message: str) -> None:
    save_actor(tmp_path, ActorNet(ActorConfig(obs_dim=3)))
    data = json.loads((tmp_path / "actor.json").read_text())
    data["config"].update(config)
    (tmp_path / "actor.json").write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match=message):
        load_actor(tmp_path)


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"actor\.json: file not found"):
        load_actor(tmp_path)
    save_actor(tmp_path, ActorNet(ActorConfig(obs_dim=3)))
    (tmp_path / "actor.safetensors").write_bytes(b"\x00" * 10)
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_actor(tmp_path)
