"""``gameai agents export-onnx``: onnxruntime plays the same actions as the served actor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
import torch

from gameai.agents.actor import ActorConfig, load_actor
from gameai.cli import main
from gameai.testing.tiny_models import write_random_actor

ROOT = Path(__file__).resolve().parents[4]
ARENA = ROOT / "assets" / "agents" / "arena"


def _run(path: Path, obs: np.ndarray, difficulty: np.ndarray | None) -> np.ndarray:
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {"observation": obs}
    if difficulty is not None:
        feeds["difficulty"] = difficulty
    action, _ = session.run(["action", "outputs"], feeds)
    return np.asarray(action)


def test_the_shipped_arena_agent_in_onnx_chooses_as_the_served_actor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "arena.onnx"
    assert (
        main(["agents", "export-onnx", "arena", "--agents-dir", str(ARENA.parent), "--output", str(output)])
        == 0
    )
    assert str(output) in capsys.readouterr().out
    actor = load_actor(ARENA)
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1.0, 1.0, (1000, actor.config.obs_dim)).astype(np.float32)
    difficulty = rng.uniform(0.0, 1.0, 1000).astype(np.float32)
    with torch.no_grad():
        served = actor.net.choose(torch.from_numpy(obs), torch.from_numpy(difficulty)).numpy()
    onnx_actions = _run(output, obs, difficulty)
    assert onnx_actions.dtype == np.int64 and (onnx_actions == served).all()
    metadata = {p.key: p.value for p in onnx.load(str(output)).metadata_props}
    assert metadata["gameai_agent"] == "arena" and '"hold_fire"' in metadata["gameai_actor_config"]


def test_a_box_agent_with_vecnormalize_in_onnx_matches(tmp_path: Path) -> None:
    config = ActorConfig(
        obs_dim=3,
        action_space="Box",
        action_nvec=(),
        action_low=(-2.0, 0.0),
        action_high=(2.0, 1.0),
        action_squash=True,
        obs_mean=(0.5, -1.0, 2.0),
        obs_var=(4.0, 0.5, 9.0),
    )
    write_random_actor(tmp_path / "agents" / "box", config)
    output = tmp_path / "box.onnx"
    assert (
        main(
            [
                "agents",
                "export-onnx",
                "box",
                "--agents-dir",
                str(tmp_path / "agents"),
                "--output",
                str(output),
            ]
        )
        == 0
    )
    obs = np.random.default_rng(1).normal(0.0, 3.0, (1000, 3)).astype(np.float32)
    with torch.no_grad():
        served = load_actor(tmp_path / "agents" / "box").net.choose(torch.from_numpy(obs)).numpy()
    np.testing.assert_allclose(_run(output, obs, None), served, atol=1e-5)


def test_an_unknown_agent_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["agents", "export-onnx", "nobody", "--agents-dir", str(tmp_path)]) == 2
    assert "no agent 'nobody'" in capsys.readouterr().err


def test_the_goblin_in_onnx_carries_its_freeze_and_idle_action_for_the_game(tmp_path: Path) -> None:
    """The handicap is outside the graph: the metadata gives a game what to apply (docs/agents.md)."""
    import json

    from gameai.training.agents.onnx_export import export_onnx

    goblin = ROOT / "assets" / "platformer" / "agents" / "goblin"
    output = export_onnx(goblin, tmp_path / "goblin.onnx")
    config = json.loads(
        {p.key: p.value for p in onnx.load(str(output)).metadata_props}["gameai_actor_config"]
    )
    actor = load_actor(goblin)
    assert config["freeze"] == actor.config.freeze > 0 and config["idle_action"] == [1, 0]
    obs = np.random.default_rng(0).uniform(-1.0, 1.0, (200, actor.config.obs_dim)).astype(np.float32)
    with torch.no_grad():
        assert (_run(output, obs, None) == actor.net.choose(torch.from_numpy(obs)).numpy()).all()
