"""`gameai bench serve` runs end to end on a tiny setting and reports every figure it promises."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameai.cli import main
from gameai.testing.servers import write_test_assets


@pytest.mark.slow
def test_bench_serve_reports_served_and_raw_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assets = write_test_assets(tmp_path, small=True, dialogue=False)
    output = tmp_path / "out" / "serve.json"
    args = ["bench", "serve", "--json", "--clients", "1", "2", "--seconds", "0.3", "--raw-seconds", "0.1",
            "--behaviour-model", str(assets / "behaviour"), "--output", str(output)]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert json.loads(output.read_text()) == report
    assert report["benchmark"] == "serve"
    assert report["model"]["weights"] == "random-init (as saved)"
    assert set(report["raw_windows_per_s"]["default_threads"]) >= {"1", "2", "8", "32", "64"}
    assert set(report["served"]) == {"1", "2"}
    for entry in report["served"].values():
        assert entry["saturated"]["frames_per_s"] > 0 and entry["saturated"]["p99_ms"] > 0
        paced = entry["paced_10_fps"]
        assert paced["results"] == paced["frames_sent"] and paced["unanswered"] == 0  # nothing lost
        assert entry["errors"] == 0 and entry["ratio_served_over_raw"]["vs_raw_same_threads"] > 0
        assert (
            entry["ratio_served_over_raw"]["vs_raw_best"]
            <= entry["ratio_served_over_raw"]["vs_raw_same_threads"]
        )
        cpu = entry["saturated"]["cpu_ms_per_frame"]
        assert cpu["server"] > 0 and 0 < cpu["model_process"] < cpu["server"]
    assert set(report["goals"]) == {"served_over_raw_at_32", "p99_ms_at_32_clients_10_fps", "errors_at_64"}
    assert "load_average_1min" in report["machine"]
    assert report["settings"]["event_loop_resolved"] in ("uvloop", "asyncio")


def test_bench_serve_falls_back_to_random_weights(tmp_path: Path) -> None:
    from gameai.bench.serve import ServeBenchConfig, _prepare_model

    path, model = _prepare_model(ServeBenchConfig(behaviour_model=str(tmp_path / "none")), tmp_path)
    assert model["weights"].startswith("random-init: no trained model loads from")
    assert (path / "model.safetensors").is_file()
    assert model["parameters"] > 1_000_000  # the full Nature-DQN-sized architecture


def test_saturated_clients_are_not_starved_by_a_long_window(tmp_path: Path) -> None:
    """A session's first K - 1 frames get no result; the saturating clients must not wait for one."""
    from gameai.behaviour.model import BehaviourNetConfig
    from gameai.bench.serve import ServeBenchConfig, run_serve_benchmark
    from gameai.testing.tiny_models import write_random_behaviour_model

    net = BehaviourNetConfig(
        frames_per_window=8, architecture="keypoints", conv_channels=(8, 8, 8), hidden=16
    )
    write_random_behaviour_model(tmp_path / "behaviour", net)
    config = ServeBenchConfig(
        clients=(1,), seconds=0.5, raw_seconds=0.1, behaviour_model=str(tmp_path / "behaviour")
    )
    report = run_serve_benchmark(config)
    saturated = report["served"]["1"]["saturated"]
    # Waiting for answers that never come would leave about one result per timeout (a few per second).
    assert saturated["frames_per_s"] > 50, saturated
    assert report["served"]["1"]["errors"] == 0
