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


def test_difficulty_is_an_extra_input_when_configured() -> None:
    net = ActorNet(ActorConfig(obs_dim=3, action_nvec=(4,), difficulty_input=True))
    assert net.body[0].in_features == 4
    obs = torch.zeros(2, 3)
    with torch.no_grad():
        easy = net(obs, torch.zeros(2))
        hard = net(obs, torch.ones(2))
    assert not torch.allclose(easy, hard)
    with pytest.raises(ValueError, match="difficulty"):
        net(obs)


def test_difficulty_is_ignored_without_difficulty_input() -> None:
    net = ActorNet(ActorConfig(obs_dim=3))
    obs = torch.randn(2, 3)
    with torch.no_grad():
        assert torch.equal(net(obs, torch.zeros(2)), net(obs, torch.ones(2)))


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
