"""The behaviour model's serving format: save, load, shapes, and clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.behaviour.model import (
    BehaviourNet,
    BehaviourNetConfig,
    frames_to_input,
    load_behaviour_model,
    save_behaviour_model,
)
from gameai.model_files import ModelLoadError
from gameai.vocabulary import BEHAVIOURS

SMALL = BehaviourNetConfig(conv_channels=(8, 8, 8), hidden=16)


def test_default_config_matches_the_contract() -> None:
    config = BehaviourNetConfig()
    assert config.frame_size == (84, 84) and config.frames_per_window == 4 and config.channels == 3
    assert config.class_names == BEHAVIOURS
    assert config.in_channels == 12


def test_forward_maps_uint8_windows_to_logits() -> None:
    net = BehaviourNet(SMALL).eval()
    x = torch.randint(0, 256, (5, 12, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        logits = net(x)
        same = net(x.float() / 255.0)
    assert logits.shape == (5, len(BEHAVIOURS))
    assert torch.allclose(logits, same, atol=1e-5)  # uint8 is scaled to [0, 1] inside


@pytest.mark.parametrize("architecture", ["keypoints", "nature"])
def test_a_big_cpu_batch_classified_in_pieces_equals_each_window_alone(architecture: str) -> None:
    config = BehaviourNetConfig(
        conv_channels=(8, 8, 8), hidden=16, architecture=architecture, batch_norm=True
    )
    net = BehaviourNet(config).eval()
    n = 2 * BehaviourNet.CPU_INFERENCE_CHUNK + 1
    x = torch.randint(0, 256, (n, 12, 84, 84), dtype=torch.uint8)
    with torch.inference_mode():
        batched = net(x)
        alone = torch.cat([net(x[i : i + 1]) for i in range(n)])
    assert batched.shape == (n, len(BEHAVIOURS))
    torch.testing.assert_close(batched, alone, atol=1e-5, rtol=1e-5)


def test_frames_to_input_puts_each_frame_rgb_in_consecutive_channels() -> None:
    windows = np.zeros((2, 4, 84, 84, 3), dtype=np.uint8)
    windows[1, 2, :, :, 1] = 200  # window 1, frame 2, green
    x = frames_to_input(windows)
    assert x.shape == (2, 12, 84, 84) and x.dtype == np.uint8
    assert x[1, 2 * 3 + 1].min() == 200
    assert x.sum() == 200 * 84 * 84


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    net = BehaviourNet(SMALL).eval()
    save_behaviour_model(tmp_path, net, metadata={"accuracy": 0.9})
    assert {p.name for p in tmp_path.iterdir()} == {"model.safetensors", "config.json"}
    loaded = load_behaviour_model(tmp_path)
    assert loaded.config == SMALL
    assert loaded.metadata == {"accuracy": 0.9}
    assert len(loaded.version) == 12
    x = torch.randint(0, 256, (2, 12, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        assert torch.equal(net(x), loaded.net(x))
    assert not loaded.net.training


def test_version_changes_with_the_weights(tmp_path: Path) -> None:
    torch.manual_seed(0)
    save_behaviour_model(tmp_path / "a", BehaviourNet(SMALL))
    torch.manual_seed(1)
    save_behaviour_model(tmp_path / "b", BehaviourNet(SMALL))
    assert load_behaviour_model(tmp_path / "a").version != load_behaviour_model(tmp_path / "b").version


def _saved(tmp_path: Path) -> Path:
    save_behaviour_model(tmp_path, BehaviourNet(SMALL))
    return tmp_path


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"config\.json: file not found"):
        load_behaviour_model(tmp_path / "nothing")


def test_missing_weights(tmp_path: Path) -> None:
    (_saved(tmp_path) / "model.safetensors").unlink()
    with pytest.raises(ModelLoadError, match=r"model\.safetensors: file not found"):
        load_behaviour_model(tmp_path)


def test_corrupt_weights(tmp_path: Path) -> None:
    path = _saved(tmp_path) / "model.safetensors"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelLoadError, match="corrupt"):
        load_behaviour_model(tmp_path)


def test_weights_of_another_shape(tmp_path: Path) -> None:
    _saved(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    data["config"]["hidden"] = 32
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match="do not fit"):
        load_behaviour_model(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, "not a gameai-behaviour config"),
        ({"format_version": 99}, "format_version 99 unsupported"),
        ({"config": {"frames_per_window": "four"}}, "invalid config"),
        ({"config": {"colour": 3}}, "unknown config keys"),
        ({"config": {"frame_size": [10, 10]}}, "invalid config"),
    ],
)
def test_bad_config(tmp_path: Path, change: dict[str, object], message: str) -> None:
    _saved(tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    data.update(change)
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ModelLoadError, match=message):
        load_behaviour_model(tmp_path)


def test_config_that_is_not_json(tmp_path: Path) -> None:
    (_saved(tmp_path) / "config.json").write_text("{oops")
    with pytest.raises(ModelLoadError, match="not valid JSON"):
        load_behaviour_model(tmp_path)
