"""`gameai serve` configuration: defaults < TOML < GAMEAI_* env < flags; bad input is a clear error."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gameai.behaviour.model import BehaviourNetConfig
from gameai.cli import main
from gameai.runtime.config import RuntimeConfig
from gameai.server.config import ServerConfig, build_config, check_known_keys, read_toml
from gameai.testing.tiny_models import write_random_behaviour_model

TOML = """
port = 9001
[server]
max_fps = 12.5
tokens = ["a", "b"]
http = false
[runtime]
device = "cpu"
behaviour_max_batch = 8
"""


def test_precedence(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text(TOML)
    values = read_toml(path)
    check_known_keys(values, ServerConfig, RuntimeConfig)
    environ = {"GAMEAI_PORT": "9002", "GAMEAI_TOKENS": "x, y", "GAMEAI_IDLE_TIMEOUT_S": "5"}
    config = build_config(ServerConfig, values, environ, {"port": 9003})
    assert config.port == 9003  # flag beats env beats file
    assert config.tokens == ("x", "y")  # env beats file
    assert config.max_fps == 12.5 and config.http is False  # file beats defaults
    assert config.idle_timeout_s == 5.0
    assert config.max_sessions == ServerConfig().max_sessions
    runtime = build_config(RuntimeConfig, values, {}, {})
    assert runtime.device == "cpu" and runtime.behaviour_max_batch == 8
    assert runtime.behaviour_bot_like_min_precision is None  # unset: the server's default
    # An optional number is set like any other, from a file or the environment.
    precision = build_config(RuntimeConfig, {"behaviour_bot_like_min_precision": 0}, {}, {})
    assert precision.behaviour_bot_like_min_precision == 0.0
    environ = {"GAMEAI_BEHAVIOUR_BOT_LIKE_MIN_PRECISION": "0.98"}
    assert build_config(RuntimeConfig, {}, environ, {}).behaviour_bot_like_min_precision == 0.98
    with pytest.raises(ValueError, match="GAMEAI_BEHAVIOUR_BOT_LIKE_MIN_PRECISION: expected float"):
        build_config(RuntimeConfig, {}, {"GAMEAI_BEHAVIOUR_BOT_LIKE_MIN_PRECISION": "high"}, {})


def test_bad_values_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GAMEAI_PORT: expected int"):
        build_config(ServerConfig, {}, {"GAMEAI_PORT": "many"}, {})
    with pytest.raises(ValueError, match="GAMEAI_HTTP: expected true or false"):
        build_config(ServerConfig, {}, {"GAMEAI_HTTP": "perhaps"}, {})
    with pytest.raises(ValueError, match="must be one of"):
        build_config(ServerConfig, {"log_format": "xml"}, {}, {})
    with pytest.raises(ValueError, match="unknown config keys: colour"):
        check_known_keys({"colour": 1}, ServerConfig, RuntimeConfig)
    path = tmp_path / "bad.toml"
    path.write_text("[client]\nx = 1\n")
    with pytest.raises(ValueError, match="unknown table"):
        read_toml(path)
    path.write_text("port = \n")
    with pytest.raises(ValueError):
        read_toml(path)


def test_serve_command_refuses_bad_configs_before_loading_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "serve.toml"
    path.write_text("speed = 3\n")
    assert main(["serve", "--config", str(path)]) == 2
    assert "unknown config keys: speed" in capsys.readouterr().err
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "needs at least one token" in capsys.readouterr().err
    monkeypatch.setenv("GAMEAI_EVENT_LOOP", "trio")
    assert main(["serve"]) == 2
    assert "GAMEAI_EVENT_LOOP: must be one of" in capsys.readouterr().err


def test_serve_refuses_a_bot_like_precision_its_model_was_not_calibrated_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_random_behaviour_model(
        tmp_path / "uncalibrated", BehaviourNetConfig(conv_channels=(8, 8, 8), hidden=16)
    )
    args = ["serve", "--behaviour-model", str(tmp_path / "uncalibrated"), "--dialogue-model", "",
            "--agents-dir", "", "--device", "cpu", "--behaviour-bot-like-min-precision", "0.95"]  # fmt: skip
    gameai_logger = logging.getLogger("gameai")
    saved = (gameai_logger.handlers[:], gameai_logger.level, gameai_logger.propagate)
    try:
        assert main(args) == 2  # it sets up logging (to the captured stderr) before loading the models
    finally:
        gameai_logger.handlers[:], gameai_logger.level, gameai_logger.propagate = saved
    err = capsys.readouterr().err
    assert "no bot_like calibration" in err and "gameai train behaviour calibrate" in err
