"""The built-in services serve whatever loads and report the rest as unavailable, with the reason."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.agents.actor import ActorConfig
from gameai.behaviour.calibration import CALIBRATION_KEY
from gameai.behaviour.model import BehaviourNetConfig, save_behaviour_model
from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.device import select_device
from gameai.runtime.models import ActRequest, WindowRequest
from gameai.services.agents import AgentsService, ServedAgent
from gameai.services.behaviour import BehaviourService, ServedBehaviourModel
from gameai.services.builtin import load_services
from gameai.services.dialogue import DialogueService
from gameai.services.registry import ServiceRegistry
from gameai.testing.tiny_models import (
    garble_middle,
    write_random_actor,
    write_random_behaviour_model,
    write_tiny_dialogue_model,
)

SMALL_CNN = BehaviourNetConfig(conv_channels=(8, 8, 8), hidden=16)
ASSETS_DIALOGUE = Path(__file__).resolve().parents[3] / "assets" / "dialogue" / "model"


@pytest.fixture(scope="module")
def assets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("assets")
    write_random_behaviour_model(root / "behaviour", SMALL_CNN)
    write_tiny_dialogue_model(root / "dialogue", "plain")
    write_random_actor(root / "agents" / "arena", ActorConfig(obs_dim=6))
    write_random_actor(root / "agents" / "coward", ActorConfig(obs_dim=4, difficulty_index=3))
    return root


def _behaviour(services: ServiceRegistry) -> ServedBehaviourModel | None:
    return services.get(BehaviourService).model


def _dialogue(services: ServiceRegistry) -> object:
    return services.get(DialogueService).worker


def _agents(services: ServiceRegistry) -> dict[str, ServedAgent]:
    return services.get(AgentsService).agents


def _config(root: Path, **changes: str) -> RuntimeConfig:
    paths = {
        "behaviour_model": str(root / "behaviour"),
        "dialogue_model": str(root / "dialogue"),
        "agents_dir": str(root / "agents"),
        "models_dir": str(root),  # no other game than the default set (not the shipped directory's)
    }
    return RuntimeConfig(**{**paths, **changes}, device="cpu")  # type: ignore[arg-type]


def test_everything_loads(assets: Path) -> None:
    metrics = ServiceMetrics()
    runtime = load_services(_config(assets), metrics)
    assert {k: v.status for k, v in runtime.models.items()} == {
        "behaviour": "ready",
        "dialogue": "ready",
        "agent/arena": "ready",
        "agent/coward": "ready",
    }
    assert runtime.models["behaviour"].random_init
    assert runtime.get(AgentsService).default_agent == "arena"
    assert _behaviour(runtime) is not None and _behaviour(runtime).spec.frames_per_window == 4
    assert _agents(runtime)["coward"].spec.difficulty_input
    assert metrics.registry.get_sample_value("gameai_model_up", {"model": "dialogue"}) == 1


def test_missing_models_are_unavailable_with_a_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    runtime = load_services(_config(tmp_path))
    assert _behaviour(runtime) is None and _dialogue(runtime) is None and not _agents(runtime)
    assert runtime.models["behaviour"].status == "unavailable"
    assert "config.json: file not found" in (runtime.models["behaviour"].reason or "")
    assert "no Hugging Face model here" in (runtime.models["dialogue"].reason or "")
    assert "no agent directories" in (runtime.models["agent"].reason or "")
    assert runtime.get(AgentsService).default_agent is None
    assert "model behaviour unavailable" in caplog.text


def test_one_corrupt_agent_leaves_the_others_up(assets: Path, tmp_path: Path) -> None:
    agents = tmp_path / "agents"
    write_random_actor(agents / "good", ActorConfig(obs_dim=3))
    write_random_actor(agents / "bad", ActorConfig(obs_dim=3))
    (agents / "bad" / "actor.safetensors").write_bytes(b"garbage")
    runtime = load_services(_config(assets, agents_dir=str(agents)))
    assert runtime.models["agent/good"].status == "ready"
    assert runtime.models["agent/bad"].status == "unavailable"
    assert "corrupt" in (runtime.models["agent/bad"].reason or "")
    assert set(_agents(runtime)) == {"good"}
    assert runtime.models["behaviour"].status == "ready"


def test_services_can_be_disabled(assets: Path) -> None:
    runtime = load_services(_config(assets, dialogue_model="", behaviour_model=""))
    assert runtime.models["dialogue"].reason == "disabled"
    assert runtime.models["behaviour"].reason == "disabled"
    assert _agents(runtime)


def test_a_minimum_bot_like_precision_is_served_as_the_models_calibrated_minimum(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calibrated = tmp_path / "calibrated"
    net = write_random_behaviour_model(calibrated, SMALL_CNN)
    rows = [
        {"min_probability": m, "precision": p + 0.01, "precision_low": p, "recall": 0.5}
        for m, p in ((0.0, 0.8), (0.7, 0.97))
    ]
    early = [{**row, "precision_low": row["precision_low"] - 0.1} for row in rows]  # 0.95 not reached
    by_time = [{"from_s": 0.0, "to_s": 5.0, "rows": early}, {"from_s": 5.0, "to_s": None, "rows": rows}]
    calibration = {"rows": rows, "by_time": by_time, "players_per_style": 9}
    save_behaviour_model(calibrated, net, metadata={CALIBRATION_KEY: calibration})
    config = RuntimeConfig(
        behaviour_model=str(calibrated), dialogue_model="", agents_dir="", device="cpu",
        behaviour_process=False, behaviour_bot_like_min_precision=0.95,
    )  # fmt: skip
    with caplog.at_level("INFO"):
        runtime = load_services(config)
    assert _behaviour(runtime) is not None
    assert _behaviour(runtime).smoothing.min_probability_schedule == (
        ("bot_like", 0.0, 1.0),
        ("bot_like", 5.0, 0.7),
    )
    assert "shown: not sent to 5 s, 0.7 after 5 s (calibrated for precision 0.95" in (caplog.text)
    # A model without a calibration cannot say which minimum gives that precision: the server
    # does not start (`gameai serve` exits 2 with the reason) rather than serve without it.
    uncalibrated = tmp_path / "uncalibrated"
    write_random_behaviour_model(uncalibrated, SMALL_CNN)
    with pytest.raises(ValueError, match="gameai train behaviour calibrate"):
        load_services(dataclasses.replace(config, behaviour_model=str(uncalibrated)))


def test_by_default_bot_like_is_held_to_precision_0_97_where_the_calibration_reaches_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calibrated = tmp_path / "calibrated"
    net = write_random_behaviour_model(calibrated, SMALL_CNN)
    rows = [
        {"min_probability": m, "precision": p + 0.01, "precision_low": p, "recall": 0.5}
        for m, p in ((0.0, 0.8), (0.7, 0.95), (0.9, 0.975))
    ]
    by_time = [{"from_s": 0.0, "to_s": 5.0, "rows": rows[:2]}, {"from_s": 5.0, "to_s": None, "rows": rows}]
    save_behaviour_model(
        calibrated,
        net,
        metadata={CALIBRATION_KEY: {"rows": rows, "by_time": by_time, "players_per_style": 9}},
    )
    config = RuntimeConfig(
        behaviour_model=str(calibrated),
        dialogue_model="",
        agents_dir="",
        device="cpu",
        behaviour_process=False,
    )
    with caplog.at_level("INFO"):
        runtime = load_services(config)
    assert _behaviour(runtime) is not None
    assert _behaviour(runtime).smoothing.min_probability_schedule == (
        ("bot_like", 0.0, 1.0),
        ("bot_like", 5.0, 0.9),
    )
    assert (
        "not sent to 5 s, 0.9 after 5 s (calibrated for precision 0.97 on 9 players per style; the default"
        in (caplog.text)
    )
    # The game is told too (welcome.behaviour).
    spec = _behaviour(runtime).spec
    assert spec.bot_like_min_precision == 0.97
    assert [(m.from_s, m.min_probability) for m in spec.bot_like_minimums] == [(0.0, 1.0), (5.0, 0.9)]
    # 0 turns it off.
    off = load_services(dataclasses.replace(config, behaviour_bot_like_min_precision=0.0))
    assert _behaviour(off) is not None and _behaviour(off).smoothing.min_probability_schedule == ()
    assert (
        _behaviour(off).spec.bot_like_min_precision is None and _behaviour(off).spec.bot_like_minimums == ()
    )
    # A model without a calibration is served all the same, with a warning that says why.
    uncalibrated = tmp_path / "uncalibrated"
    write_random_behaviour_model(uncalibrated, SMALL_CNN)
    caplog.clear()
    with caplog.at_level("INFO"):
        plain = load_services(
            dataclasses.replace(
                config, behaviour_model=str(uncalibrated), behaviour_bot_like_min_probability=0.8
            )
        )
    assert _behaviour(plain) is not None and plain.models["behaviour"].status == "ready"
    assert _behaviour(plain).spec.bot_like_min_precision is None
    assert [(m.from_s, m.min_probability) for m in _behaviour(plain).spec.bot_like_minimums] == [(0.0, 0.8)]
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        "not held to precision 0.97 (the default)" in m
        and "gameai train behaviour calibrate" in m
        and "only at a smoothed probability of at least 0.8" in m
        for m in warnings
    ), warnings


def test_device_selection() -> None:
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            select_device("cuda")
    with pytest.raises(ValueError):
        select_device("toaster")


async def test_started_workers_serve_batched_requests(assets: Path) -> None:
    runtime = load_services(_config(assets, dialogue_model=""))
    runtime.start()
    try:
        assert _behaviour(runtime) is not None
        windows = [
            np.random.default_rng(i).integers(0, 256, (4, 84, 84, 3), dtype=np.uint8) for i in range(5)
        ]
        requests = [WindowRequest(w, last_frame=3) for w in windows]
        probabilities = await asyncio.gather(*(_behaviour(runtime).worker.submit(r) for r in requests))
        for p, window in zip(probabilities, windows, strict=True):
            assert p.shape == (6,) and abs(float(p.sum()) - 1.0) < 1e-5
            direct = _behaviour(runtime).classifier.classify_windows([window])[
                0
            ]  # the model, called directly
            assert np.allclose(p, direct, atol=1e-5)
        agent = _agents(runtime)["coward"]
        action = await agent.worker.submit(ActRequest(np.zeros(4, dtype=np.float32), difficulty=0.3))
        assert len(action) == 3 and all(0 <= a < n for a, n in zip(action, (9, 4, 2), strict=True))
    finally:
        await runtime.stop()


def test_weights_garbled_behind_an_intact_header_are_unavailable_with_the_reason(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "assets"
    write_random_behaviour_model(root / "behaviour", SMALL_CNN)
    write_random_actor(root / "agents" / "good", ActorConfig(obs_dim=4))
    write_random_actor(root / "agents" / "bad", ActorConfig(obs_dim=4))
    shutil.copytree(ASSETS_DIALOGUE, root / "dialogue")
    for weights in (root / "behaviour" / "model.safetensors", root / "agents" / "bad" / "actor.safetensors",
                    root / "dialogue" / "model.safetensors"):  # fmt: skip
        garble_middle(weights)
    services = load_services(_config(root))
    models = services.models
    for key in ("behaviour", "agent/bad", "dialogue"):
        assert models[key].status == "unavailable"
        assert "corrupt or was replaced" in (models[key].reason or ""), key
    assert models["agent/good"].status == "ready"


def test_a_weights_hash_that_is_not_a_hash_is_refused(tmp_path: Path) -> None:
    from gameai.model_files import ModelLoadError, check_weights_hash

    weights = tmp_path / "w.bin"
    weights.write_bytes(b"abc")
    check_weights_hash(weights, None)  # nothing recorded: a model of one's own, not checked
    check_weights_hash(weights, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    with pytest.raises(ModelLoadError, match="not a sha256"):
        check_weights_hash(weights, "abc")
    with pytest.raises(ModelLoadError, match="corrupt or was replaced"):
        check_weights_hash(weights, "0" * 64)
