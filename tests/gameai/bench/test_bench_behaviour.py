"""``gameai bench behaviour --json``: the report's shape (figures are never asserted on here)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameai.behaviour.model import BehaviourNetConfig
from gameai.cli import main
from gameai.testing.tiny_models import write_random_behaviour_model


def test_bench_behaviour_prints_speed_and_accuracy_fields(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = BehaviourNetConfig(architecture="keypoints", conv_channels=(8, 8, 8), hidden=16)
    write_random_behaviour_model(tmp_path / "model", config)
    args = ["bench", "behaviour", "--json", "--model-dir", str(tmp_path / "model"), "--seconds", "0.05",
            "--batch-sizes", "1", "4", "64", "--threads", "1",
            "--output", str(tmp_path / "out.json")]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads((tmp_path / "out.json").read_text())
    assert report["benchmark"] == "behaviour" and report["device"] == "cpu"
    assert set(report["results"]) == {"1", "4", "64"}  # 64 windows: more than the frames it draws from
    for by_way in report["results"].values():
        assert set(by_way) == {"streaming", "whole_windows"}
        for entry in by_way.values():
            assert entry["windows_per_s"] > 0 and entry["calls"] >= 3
            assert set(entry["latency_ms"]) == {"p50", "p90", "p99"}
        # Streaming encodes one new frame per window (K = 4), whole windows all four.
        streaming, whole = by_way["streaming"], by_way["whole_windows"]
        assert streaming["frame_encodings_per_s"] == pytest.approx(streaming["windows_per_s"], rel=1e-3)
        assert whole["frame_encodings_per_s"] == pytest.approx(whole["windows_per_s"] * 4, rel=1e-3)
    assert report["model"]["random_init"] is True and report["model"]["architecture"] == "keypoints"
    assert report["accuracy"] is None  # a random model has no evaluation
    assert "cpu_count" in report["machine"]
