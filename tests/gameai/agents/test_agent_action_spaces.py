"""The actor for every action space: what the head means, the handicap, the config's checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gameai.agents.actor import UNBOUNDED, ActorConfig, ActorNet, load_actor, save_actor
from gameai.model_files import ModelLoadError

BOX = ActorConfig(
    obs_dim=3,
    action_space="Box",
    action_nvec=(),
    action_low=(-2.0, 0.0),
    action_high=(2.0, 1.0),
    hidden_sizes=(),
)


def _head(net: ActorNet, bias: list[float]) -> ActorNet:
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor(bias))
    return net


def test_box_means_are_clipped_to_the_bounds() -> None:
    net = _head(ActorNet(BOX), [5.0, 0.25])
    with torch.no_grad():
        assert net.choose(torch.zeros(2, 3)).tolist() == [[2.0, 0.25]] * 2


def test_squashed_box_means_are_scaled_into_the_bounds() -> None:
    net = _head(ActorNet(ActorConfig(**{**BOX.__dict__, "action_squash": True})), [0.0, 100.0])
    with torch.no_grad():
        low_high = net.choose(torch.zeros(1, 3))[0].tolist()
    assert low_high == pytest.approx([0.0, 1.0])  # tanh(0) -> the middle; tanh(100) -> the top


def test_multi_binary_elements_are_one_where_the_logit_is_positive() -> None:
    config = ActorConfig(obs_dim=2, action_space="MultiBinary", action_nvec=(2, 2, 2), hidden_sizes=())
    net = _head(ActorNet(config), [1.0, -1.0, 0.5])
    assert net.head.out_features == 3
    assert net.choose(torch.zeros(1, 2)).tolist() == [[1, 0, 1]]


@pytest.mark.parametrize(
    "config",
    [
        ActorConfig(obs_dim=2, action_space="Discrete", action_nvec=(5,), random_action=1.0),
        ActorConfig(obs_dim=2, action_space="MultiDiscrete", action_nvec=(3, 4), random_action=1.0),
        ActorConfig(obs_dim=2, action_space="MultiBinary", action_nvec=(2, 2), random_action=1.0),
        ActorConfig(**{**BOX.__dict__, "random_action": 1.0}),
    ],
    ids=["Discrete", "MultiDiscrete", "MultiBinary", "Box"],
)
def test_random_action_spoils_every_action_space_below_difficulty_one(config: ActorConfig) -> None:
    net = ActorNet(config).eval()
    obs = torch.randn(400, config.obs_dim)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        chosen = net.choose(obs)
        at_one = net.act(obs, torch.ones(400), generator)
        at_zero = net.act(obs, torch.zeros(400), generator)
        at_half = net.act(obs, torch.full((400,), 0.5), generator)
    assert torch.equal(at_one, chosen)
    changed_zero = (at_zero != chosen).float().mean().item()
    changed_half = (at_half != chosen).float().mean().item()
    assert changed_zero > changed_half > 0.05  # weaker play the lower the difficulty
    if config.continuous:
        low, high = torch.tensor(config.action_low), torch.tensor(config.action_high)
        assert bool(((at_zero >= low) & (at_zero <= high)).all())
    else:
        assert bool(((at_zero >= 0) & (at_zero < torch.tensor(config.action_nvec))).all())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action_space": "Box", "action_nvec": ()}, "action_low and action_high"),
        ({"action_space": "Box", "action_nvec": (), "action_low": (1.0,), "action_high": (0.0,)}, "<="),
        ({"action_space": "Box", "action_low": (0.0,), "action_high": (1.0,)}, "no action_nvec"),
        ({"action_space": "Discrete", "action_nvec": (2, 3)}, "one branch"),
        ({"action_space": "MultiBinary", "action_nvec": (2, 3)}, "2s"),
        ({"action_space": "MultiDiscrete", "action_squash": True}, "for Box actions"),
        ({"action_space": "Discrete", "action_nvec": (4,), "hold_fire": 0.5}, "random_action"),
        (
            {
                "action_space": "Box",
                "action_nvec": (),
                "action_low": (-UNBOUNDED,),
                "action_high": (1.0,),
                "random_action": 0.5,
            },
            "bounded",
        ),
        ({"action_space": "Tuple"}, "action_space must be"),
        ({"activation": "gelu"}, "activation"),
    ],
)
def test_action_configs_that_cannot_play_are_refused(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ActorConfig(obs_dim=2, **fields)  # type: ignore[arg-type]


def test_a_box_actor_round_trips_and_a_version_1_file_still_loads(tmp_path: Path) -> None:
    net = ActorNet(BOX)
    save_actor(tmp_path / "box", net)
    loaded = load_actor(tmp_path / "box")
    assert loaded.config == BOX and loaded.directory == tmp_path / "box"
    obs = torch.randn(5, 3)
    with torch.no_grad():
        assert torch.equal(loaded.net.choose(obs), net.choose(obs))
    # A version 1 file (MultiDiscrete, before the other spaces) loads as what it was.
    v1 = ActorConfig(obs_dim=3, action_nvec=(4, 2))
    save_actor(tmp_path / "old", ActorNet(v1))
    path = tmp_path / "old" / "actor.json"
    data = json.loads(path.read_text())
    data["format_version"] = 1
    for key in ("action_space", "action_low", "action_high", "action_squash", "random_action"):
        del data["config"][key]
    path.write_text(json.dumps(data))
    assert load_actor(tmp_path / "old").config == v1
    data["format_version"] = 3
    path.write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="format_version 3 unsupported"):
        load_actor(tmp_path / "old")


def test_freeze_makes_the_arena_npc_do_nothing_below_difficulty_one() -> None:
    config = ActorConfig(obs_dim=4, action_nvec=(9, 4, 2), freeze=1.0)
    net = _head(ActorNet(config), [0.0] * 3 + [9.0] + [0.0] * 5 + [0.0, 0.0, 9.0, 0.0] + [0.0, 9.0])
    obs = torch.zeros(1000, 4)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        assert net.act(obs, torch.ones(1000), generator).tolist() == [[3, 2, 1]] * 1000
        at_zero = net.act(obs, torch.zeros(1000), generator)
        at_half = net.act(obs, torch.full((1000,), 0.5), generator)
    assert at_zero.tolist() == [[0, 0, 0]] * 1000  # chance freeze * (1 - d) = 1
    frozen = (at_half == 0).all(dim=1).float().mean().item()
    assert 0.4 < frozen < 0.6


FROZEN = {
    "Discrete": ActorConfig(
        obs_dim=2, action_space="Discrete", action_nvec=(5,), freeze=1.0, idle_action=(3,)
    ),
    "MultiDiscrete": ActorConfig(obs_dim=2, action_nvec=(3, 2), freeze=1.0, idle_action=(1, 0)),
    "MultiBinary": ActorConfig(
        obs_dim=2, action_space="MultiBinary", action_nvec=(2, 2, 2), freeze=1.0, idle_action=(0, 1, 0)
    ),
    "Box": ActorConfig(**{**BOX.__dict__, "freeze": 1.0, "idle_action": (0.5, 1.0)}),
    "Box-default-idle": ActorConfig(**{**BOX.__dict__, "freeze": 1.0}),
}


@pytest.mark.parametrize("name", list(FROZEN))
def test_freeze_plays_the_idle_action_in_every_action_space(name: str) -> None:
    config = FROZEN[name]
    torch.manual_seed(0)
    net = ActorNet(config).eval()
    obs = torch.randn(2000, config.obs_dim)
    idle = torch.tensor(config.idle, dtype=torch.float32 if config.continuous else torch.long)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        chosen = net.choose(obs)
        at_one = net.act(obs, torch.ones(2000), generator)
        at_zero = net.act(obs, torch.zeros(2000), generator)
        at_half = net.act(obs, torch.full((2000,), 0.5), generator)
    assert torch.equal(at_one, chosen)  # d = 1: the network's choice
    assert at_zero.dtype == chosen.dtype and bool((at_zero == idle).all())  # freeze 1 at d = 0: always idle
    already_idle = (chosen == idle).all(dim=1).float().mean().item()
    assert already_idle < 0.9
    changed = (at_half != chosen).any(dim=1).float().mean().item()
    assert changed == pytest.approx(0.5 * (1.0 - already_idle), abs=0.04)  # chance freeze * (1 - d)
    if config.continuous:
        low, high = torch.tensor(config.action_low), torch.tensor(config.action_high)
        assert bool(((at_half >= low) & (at_half <= high)).all())
    else:
        assert bool(((at_half >= 0) & (at_half < torch.tensor(config.action_nvec))).all())


def test_freeze_comes_last_after_random_action() -> None:
    config = ActorConfig(obs_dim=2, action_nvec=(3, 2), random_action=1.0, freeze=1.0, idle_action=(1, 0))
    with torch.no_grad():
        played = ActorNet(config).act(torch.randn(500, 2), torch.zeros(500), torch.Generator().manual_seed(0))
    assert played.tolist() == [[1, 0]] * 500  # a frozen agent is idle, not random


def test_the_arena_idle_action_is_zero_and_an_explicit_zero_plays_alike() -> None:
    arena = ActorConfig(obs_dim=4, hold_fire=0.8, scramble_aim=1.0, slip_move=0.3, freeze=0.5)
    assert arena.idle_action is None and arena.idle == (0, 0, 0)
    explicit = ActorConfig(**{**arena.__dict__, "idle_action": (0, 0, 0)})
    torch.manual_seed(1)
    net = ActorNet(arena).eval()
    twin = ActorNet(explicit).eval()
    twin.load_state_dict(net.state_dict())
    obs, levels = torch.randn(3000, 4), torch.rand(3000)
    with torch.no_grad():
        played = net.act(obs, levels, torch.Generator().manual_seed(5))
        assert torch.equal(played, twin.act(obs, levels, torch.Generator().manual_seed(5)))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"action_nvec": (3, 2), "idle_action": (1,)}, "needs 2 values"),
        ({"action_nvec": (3, 2), "idle_action": (3, 0)}, r"idle_action\[0\] must be an int in \[0, 3\)"),
        ({"action_nvec": (3, 2), "idle_action": (1, 0.5)}, r"idle_action\[1\] must be an int"),
        ({"action_nvec": (3, 2), "idle_action": (1, -1)}, r"idle_action\[1\]"),
        ({"action_space": "Discrete", "action_nvec": (4,), "idle_action": ("1",)}, "must be numbers"),
        ({**BOX.__dict__, "idle_action": (0.0, 2.0)}, r"idle_action\[1\] = 2.0 lies outside"),
        ({**BOX.__dict__, "action_low": (1.0, 0.0), "freeze": 0.5}, "needs an idle_action"),
        ({"action_space": "Discrete", "action_nvec": (4,), "freeze": 1.5}, r"freeze must be in \[0, 1\]"),
    ],
)
def test_idle_actions_that_are_not_one_valid_action_are_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ActorConfig(**{"obs_dim": 2, **fields})  # type: ignore[arg-type]


def test_a_discrete_idle_action_is_stored_as_ints_and_round_trips(tmp_path: Path) -> None:
    config = ActorConfig(obs_dim=2, action_nvec=(3, 2), freeze=0.9, idle_action=(1.0, 0.0))
    assert config.idle_action == (1, 0) and all(type(v) is int for v in config.idle_action)
    save_actor(tmp_path / "goblin", ActorNet(config))
    assert json.loads((tmp_path / "goblin" / "actor.json").read_text())["config"]["idle_action"] == [1, 0]
    assert load_actor(tmp_path / "goblin").config == config
