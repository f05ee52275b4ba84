"""`gameai bench chaos` kills, stops, corrupts and floods a real server and reports figures and pass flags."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gameai.cli import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    status = main(["bench", "chaos", "--json", *args])
    return status, json.loads(capsys.readouterr().out)


def test_bench_chaos_smoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "chaos.json"
    args = ["--sessions", "4", "--soak-seconds", "5", "--fault-sessions", "2", "--output", str(output),
            "--scenarios", "soak", "kill_behaviour_process", "corrupt_models"]  # fmt: skip
    status, report = _run(args, capsys)
    assert json.loads(output.read_text()) == report
    assert report["benchmark"] == "chaos" and set(report["scenarios"]) == {
        "soak", "kill_behaviour_process", "corrupt_models"
    }  # fmt: skip
    soak = report["scenarios"]["soak"]
    assert soak["requests_sent"] > 4 * 5 and soak["answered"] == soak["requests_sent"]
    assert soak["lost"] == 0 and soak["closes_1011"] == 0 and soak["sessions_closed"] == 0
    assert soak["behaviour_results"] > 0 and soak["server_rss_mb"]["growth"] is not None
    assert soak["canary_act"]["errors"] == 0 and soak["canary_act"]["p99_ms"] > 0
    kill = report["scenarios"]["kill_behaviour_process"]
    assert kill["recovery_s"] is not None and kill["recovery_s"] < 10
    assert kill["new_pid"] not in (None, kill["killed_pid"]) and kill["model_process_exits"] == 1
    assert kill["sessions_closed"] == 0 and kill["lost"] == 0 and kill["closes_1011"] == 0
    corrupt = report["scenarios"]["corrupt_models"]["kinds"]
    assert {entry["model"] for entry in corrupt.values()} >= {"behaviour", "dialogue"}
    for entry in corrupt.values():
        assert entry["status"] == "unavailable" and "corrupt" in entry["reason"], entry
        assert set(entry["others"].values()) == {"ready"}
    for name, entry in report["scenarios"].items():
        assert entry["passed"], name
    assert report["passed"] and status == 0


@pytest.mark.slow
def test_bench_chaos_default_run(capsys: pytest.CaptureFixture[str]) -> None:
    """The default: 32 sessions and a canary for several minutes, then every fault."""
    status, report = _run(["--soak-seconds", "180"], capsys)
    scenarios = report["scenarios"]
    soak = scenarios["soak"]
    assert soak["sessions"] == 32 and soak["lost"] == 0 and soak["closes_1011"] == 0
    assert soak["server_rss_mb"]["growth"] < 200
    for name in ("kill_behaviour_process", "stop_behaviour_process"):
        assert scenarios[name]["recovery_s"] is not None and scenarios[name]["recovery_s"] < 10, name
        assert scenarios[name]["lost"] == 0 and scenarios[name]["closes_1011"] == 0, name
    assert scenarios["stop_behaviour_process"]["healthz_seen"].get("degraded", 0) > 0
    flood = scenarios["flood_one_address"]
    assert flood["sessions_opened"] == 20 and flood["refusal"]["code"] == "server_full"
    assert flood["new_session_welcome_after_flood"]
    for name, entry in scenarios.items():
        assert entry["passed"], name
    assert report["passed"] and status == 0
