"""``gameai demo --game platformer`` against the real service (a child ``gameai serve``).

The models directory holds random-initialised models in the serving formats (the wiring is
checked, not the models): the arena (the default game) and, in the first test, a platformer
entry with a behaviour model of the platformer's classes and a goblin agent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_game.platformer import GAME_ID
from demo_game.platformer.sim.actions import ACTION_NVEC
from demo_game.platformer.sim.observation import OBSERVATION_SIZE
from demo_game.platformer.sim.styles import STYLES
from demo_game.sim.observation import OBSERVATION_SIZE as ARENA_OBSERVATION_SIZE
from gameai.agents.actor import ActorConfig
from gameai.behaviour.model import BehaviourNetConfig
from gameai.cli import main
from gameai.server.process import ServerProcess
from gameai.testing.tiny_models import write_random_actor, write_random_behaviour_model


def _models(root: Path, with_platformer: bool) -> Path:
    models = root / "models"
    (models / "arena").mkdir(parents=True)
    (models / "games.toml").write_text('default = "arena"\n')
    write_random_behaviour_model(
        models / "arena" / "behaviour", BehaviourNetConfig(conv_channels=(8, 16, 16), hidden=32)
    )
    write_random_actor(models / "arena" / "agents" / "arena", ActorConfig(obs_dim=ARENA_OBSERVATION_SIZE))
    if with_platformer:
        config = BehaviourNetConfig(class_names=tuple(STYLES), conv_channels=(8, 16, 16), hidden=32)
        write_random_behaviour_model(models / GAME_ID / "behaviour", config)
        actor = ActorConfig(obs_dim=OBSERVATION_SIZE, action_nvec=ACTION_NVEC)
        write_random_actor(models / GAME_ID / "agents" / "goblin", actor)
    return models


def _service(models: Path) -> ServerProcess:
    return ServerProcess(["--models", str(models), "--dialogue-model", "", "--device", "cpu"])


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with _service(_models(tmp_path_factory.mktemp("with-platformer"), with_platformer=True)) as process:
        yield process


def _demo(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    args = ["demo", "--game", "platformer", "--headless", "--seconds", "5", "--server", url,
            "--screenshot-dir", str(tmp_path), "--seed", "4"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    summary: dict[str, Any] = json.loads(out[out.index("{") :])
    return summary


def test_gameai_demo_game_platformer_uses_the_services_platformer_models(
    service: ServerProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary = _demo(service.url, tmp_path, capsys)
    served = summary["service"]
    assert served["game_id"] == "platformer" and served["connected_at_end"] and served["errors"] == []
    assert served["frames_sent"] > 10 and served["behaviour_results"] > 3
    assert set(served["behaviour_labels"]) <= set(STYLES), "the platformer's model, with its classes"
    assert served["agent"] == "goblin" and served["actions_served"] > 10
    assert summary["goblin_ticks_served_by_agent"] > 20, "the served agent drove the goblins"
    assert Path(summary["screenshots"][-1]).exists()
    # this service has no dialogue model: Odo's bubble says so, and nothing is asked of it
    assert served["dialogue_lines"] and served["dialogue_lines"][0]["npc"] == "shopkeeper"
    assert {line["error"] for line in served["dialogue_lines"]} == {"dialogue unavailable (disabled)"}


def test_without_platformer_models_it_gets_the_default_set_and_keeps_its_goblins_scripted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with _service(_models(tmp_path, with_platformer=False)) as process:
        summary = _demo(process.url, tmp_path / "shots", capsys)
    served = summary["service"]
    assert served["connected_at_end"] and served["errors"] == [] and served["frames_sent"] > 10
    assert served["agent"] is None, "the arena's agent does not fit a goblin"
    assert summary["goblin_ticks_served_by_agent"] == 0 and served["actions_served"] == 0
