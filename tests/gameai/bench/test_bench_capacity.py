"""`gameai bench capacity` ramps demo-like sessions against a real server and splits the CPU per session."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gameai.cli import main
from gameai.testing.servers import write_test_assets

COMPONENTS = (
    "server_total",
    "frames",
    "acts_model",
    "loop_and_protocol",
    "behaviour_model_process",
    "clients",
)


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = main(["bench", "capacity", "--json", *args])
    return status, json.loads(capsys.readouterr().out)


def test_bench_capacity_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assets = write_test_assets(tmp_path / "assets", small=True, dialogue=True)
    output = tmp_path / "capacity.json"
    args = ["--assets-dir", str(assets), "--sessions", "2", "--warmup-s", "1", "--seconds", "2",
            "--client-processes", "1", "--dialogue-every-s", "1", "--model-seconds", "0.1",
            "--model-replies", "1", "--output", str(output)]  # fmt: skip
    status, report = _run(args, capsys)
    assert status == 0 and json.loads(output.read_text()) == report
    assert report["benchmark"] == "capacity" and report["config"]["sessions"] == [2]
    assert report["machine"]["usable_cores"] >= 1
    per_session = report["model_cpu_ms_per_session_s"]
    assert set(per_session) == {"agent", "behaviour", "dialogue", "total"}
    assert all(value > 0 for value in per_session.values()) and report["sessions_limit_at_cores"] > 0
    (step,) = report["steps"]
    assert step["sessions"] == 2 and step["connected"] == 2
    assert step["held"] and step["errors"] == {}, step
    assert report["largest_sessions_held"] == 2 and report["first_step_broken"] is None
    latency = step["latency_ms"]
    assert latency["act"]["count"] > 0 and latency["behaviour"]["count"] > 0
    assert latency["dialogue_first_token"]["count"] > 0
    assert step["frames"]["frames_sent"] > 0
    cpu = step["cpu_ms_per_session_s"]
    for name in COMPONENTS:
        assert isinstance(cpu[name], float) and cpu[name] >= 0, name
    assert cpu["dialogue_threads"] is None or cpu["dialogue_threads"] >= 0
    assert cpu["server_total"] > 0 and cpu["clients"] > 0
    per_action = step["server_cpu_ms_per_action_at_most"]
    actions = step["answered_per_session_s"]["act"]
    assert per_action == pytest.approx((cpu["loop_and_protocol"] + cpu["acts_model"]) / actions, rel=5e-3)
