"""``gameai agents import``: plain-SB3 zips of every algorithm and action space, read without unpickling."""

from __future__ import annotations

import base64
import json
import os
import pickle
import zipfile
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.running_mean_std import RunningMeanStd
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from gameai.agents.actor import load_actor
from gameai.cli import main
from gameai.training.agents.deploy_config import ImportAgentConfig
from gameai.training.agents.importing import import_zip, parse_action_space
from gameai.training.agents.sb3_zip import Sb3ZipError, read_sb3_zip


class _FlatEnv(gym.Env[np.ndarray, Any]):
    """A do-nothing env with a chosen action space (for spaces no classic-control env has)."""

    observation_space = spaces.Box(-1.0, 1.0, (5,), np.float32)

    def __init__(self, action_space: spaces.Space[Any]) -> None:
        self.action_space = action_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        return self.observation_space.sample(), 0.0, False, False, {}


CASES: dict[str, tuple[type[BaseAlgorithm], Any, dict[str, Any]]] = {
    "ppo-discrete": (PPO, "CartPole-v1", {}),
    "a2c-box": (A2C, "Pendulum-v1", {}),
    "dqn-discrete": (DQN, "CartPole-v1", {}),
    "sac-box": (SAC, "Pendulum-v1", {"policy_kwargs": {"net_arch": [32, 32]}}),
    "td3-box": (TD3, "Pendulum-v1", {"policy_kwargs": {"net_arch": [32, 32]}}),
    "ppo-multibinary": (PPO, _FlatEnv(spaces.MultiBinary(3)), {}),
    "ppo-multidiscrete": (PPO, _FlatEnv(spaces.MultiDiscrete([9, 4, 2])), {}),
    "ppo-relu-gsde-squashed": (
        PPO,
        "Pendulum-v1",
        {"use_sde": True, "policy_kwargs": {"activation_fn": torch.nn.ReLU, "squash_output": True}},
    ),
}


def _saved_model(tmp_path: Path, case: str) -> tuple[BaseAlgorithm, Path]:
    algorithm, env, kwargs = CASES[case]
    model = algorithm("MlpPolicy", env, seed=0, device="cpu", **kwargs)
    with torch.no_grad():  # an untrained policy's choices are nearly constant: shake the weights
        for parameter in model.policy.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.3)
    path = tmp_path / f"{case}.zip"
    model.save(path)
    return model, path


def _observations(model: BaseAlgorithm, n: int = 1000) -> np.ndarray:
    space = model.observation_space
    assert isinstance(space, spaces.Box)
    rng = np.random.default_rng(0)
    low, high = np.maximum(space.low, -5.0), np.minimum(space.high, 5.0)
    return rng.uniform(low, high, (n, *space.shape)).astype(np.float32)


@pytest.mark.parametrize("case", list(CASES))
def test_an_imported_zip_serves_what_sb3_predicts(tmp_path: Path, case: str) -> None:
    model, path = _saved_model(tmp_path, case)
    directory = import_zip(path, ImportAgentConfig(agents_dir=str(tmp_path / "agents")))
    actor = load_actor(directory)
    obs = _observations(model)
    expected, _ = model.predict(obs, deterministic=True)
    with torch.no_grad():
        served = actor.net.choose(torch.from_numpy(obs)).numpy()
    expected = np.asarray(expected).reshape(served.shape)
    if actor.config.continuous:
        np.testing.assert_allclose(served, expected, atol=1e-5)
    else:
        assert (served == expected).all()
    assert actor.metadata["imported_from"] == str(path.resolve())


def test_the_zip_is_never_unpickled(tmp_path: Path) -> None:
    """A zip whose pickled JSON objects run code when SB3 loads it imports without running it."""
    _, path = _saved_model(tmp_path, "ppo-discrete")
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    with zipfile.ZipFile(path) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    data = json.loads(files["data"])
    data["policy_class"][":serialized:"] = base64.b64encode(pickle.dumps(Payload())).decode()
    files["data"] = json.dumps(data).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    directory = import_zip(path, ImportAgentConfig(agents_dir=str(tmp_path / "agents")))
    assert load_actor(directory).config.action_space == "Discrete"
    assert not marker.exists()
    with pytest.raises(Exception):  # noqa: B017 - what plain SB3 does with it: runs it, then fails
        PPO.load(path)
    assert marker.exists()  # proof that the payload was live


def _rewrite(path: Path, name: str, content: bytes | None) -> None:
    with zipfile.ZipFile(path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    if content is None:
        del files[name]
    else:
        files[name] = content
    with zipfile.ZipFile(path, "w") as archive:
        for n, c in files.items():
            archive.writestr(n, c)


def test_weights_that_are_more_than_tensors_are_refused(tmp_path: Path) -> None:
    _, path = _saved_model(tmp_path, "ppo-discrete")
    buffer = __import__("io").BytesIO()
    torch.save({"mlp_extractor.policy_net.0.weight": Path("not a tensor")}, buffer)
    _rewrite(path, "policy.pth", buffer.getvalue())
    with pytest.raises(Sb3ZipError, match="weights_only"):
        read_sb3_zip(path)


def test_spaces_missing_from_the_zip_can_be_given(tmp_path: Path) -> None:
    _, path = _saved_model(tmp_path, "ppo-discrete")
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    del data["action_space"]
    _rewrite(path, "data", json.dumps(data).encode())
    with pytest.raises(Sb3ZipError, match="--action-space"):
        read_sb3_zip(path)
    config = ImportAgentConfig(agents_dir=str(tmp_path / "agents"), action_space="Discrete(2)")
    assert load_actor(import_zip(path, config)).config.action_nvec == (2,)
    wrong = ImportAgentConfig(agents_dir=str(tmp_path / "agents"), action_space="Discrete(3)", force=True)
    with pytest.raises(ValueError, match="head has 2 outputs"):
        import_zip(path, wrong)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Discrete(5)", spaces.Discrete(5)),
        ("MultiDiscrete(9, 4, 2)", spaces.MultiDiscrete([9, 4, 2])),
        ("MultiBinary(4)", spaces.MultiBinary(4)),
        ("Box(-1, 1, 2)", spaces.Box(-1.0, 1.0, (2,), np.float32)),
    ],
)
def test_action_space_flags(text: str, expected: spaces.Space[Any]) -> None:
    assert parse_action_space(text) == expected


def test_malformed_inputs_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--action-space takes"):
        parse_action_space("Tuple(2)")
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    with pytest.raises(Sb3ZipError, match="not a zip"):
        read_sb3_zip(tmp_path / "junk.zip")
    with zipfile.ZipFile(tmp_path / "empty.zip", "w") as archive:
        archive.writestr("data", "{}")
    with pytest.raises(Sb3ZipError, match=r"no policy\.pth"):
        read_sb3_zip(tmp_path / "empty.zip")


def test_vecnormalize_statistics_are_folded_in_and_pickles_refused(tmp_path: Path) -> None:
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("Pendulum-v1")]), norm_reward=False)
    model = PPO("MlpPolicy", venv, n_steps=256, seed=0, device="cpu")
    model.learn(256)  # moves the running statistics away from 0 and 1
    path = tmp_path / "pendulum.zip"
    model.save(path)
    stats = tmp_path / "vecnormalize.json"
    rms = venv.obs_rms
    assert isinstance(rms, RunningMeanStd)
    stats.write_text(
        json.dumps(
            {"obs_mean": rms.mean.tolist(), "obs_var": rms.var.tolist(), "clip_obs": 10.0, "epsilon": 1e-8}
        )
    )
    config = ImportAgentConfig(agents_dir=str(tmp_path / "agents"), vecnormalize=str(stats))
    actor = load_actor(import_zip(path, config))
    obs = _observations(model)
    expected, _ = model.predict(venv.normalize_obs(obs), deterministic=True)
    with torch.no_grad():
        np.testing.assert_allclose(actor.net.choose(torch.from_numpy(obs)).numpy(), expected, atol=1e-5)
    venv.save(str(tmp_path / "vecnormalize.pkl"))
    pickled = ImportAgentConfig(
        agents_dir=str(tmp_path / "agents"), vecnormalize=str(tmp_path / "vecnormalize.pkl"), force=True
    )
    with pytest.raises(ValueError, match="pickle, which is never loaded"):
        import_zip(path, pickled)


def test_the_command_refuses_to_overwrite_and_lists_what_it_imported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = _saved_model(tmp_path, "dqn-discrete")
    agents = str(tmp_path / "agents")
    assert main(["agents", "import", str(path), "--agents-dir", agents, "--name", "cart"]) == 0
    assert "Discrete(2) from 4 values" in capsys.readouterr().out
    assert main(["agents", "import", str(path), "--agents-dir", agents, "--name", "cart"]) == 2
    assert "exists: give another --name, or --force" in capsys.readouterr().err
    assert main(["agents", "import", str(path), "--agents-dir", agents, "--name", "cart", "--force"]) == 0
    assert main(["agents", "list", "--agents-dir", agents]) == 0
    listed = capsys.readouterr().out
    assert "cart" in listed and str(path.resolve()) in listed


def test_the_freeze_and_its_idle_action_are_import_options(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, path = _saved_model(tmp_path, "ppo-multidiscrete")
    agents = str(tmp_path / "agents")
    args = ["agents", "import", str(path), "--agents-dir", agents, "--name", "md"]
    assert main([*args, "--freeze", "0.8", "--idle-action", "4", "0", "1", "--random-action", "0.2"]) == 0
    assert "random_action 0.2, freeze 0.8 (idle [4, 0, 1])" in capsys.readouterr().out
    config = load_actor(tmp_path / "agents" / "md").config
    assert (config.freeze, config.idle_action, config.random_action) == (0.8, (4, 0, 1), 0.2)
    # An idle action that is not one of the zip's actions: one line, nothing written.
    assert main([*args, "--force", "--name", "bad", "--freeze", "0.8", "--idle-action", "9", "0", "0"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "idle_action[0] must be an int in [0, 9)" in err
    assert not (tmp_path / "agents" / "bad").exists()
