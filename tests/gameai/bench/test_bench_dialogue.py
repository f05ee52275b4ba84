"""``gameai bench dialogue --json``: the report's shape on a tiny model (never its figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gameai.cli import main
from gameai.testing.tiny_models import write_tiny_dialogue_model

FIGURES = {
    "rounds",
    "replies_per_round",
    "tokens_per_round",
    "aggregate_tokens_per_s",
    "per_stream_tokens_per_s_mean",
    "per_stream_tokens_per_s_min",
    "ttft_ms_p50",
    "ttft_ms_p90",
    "streams",
}


def test_bench_dialogue_reports_both_paths_side_by_side(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tiny_dialogue_model(tmp_path / "model", "gameai")
    args = ["bench", "dialogue", "--json", "--model-dir", str(tmp_path / "model"), "--streams", "3",
            "--max-batch", "3", "--max-new-tokens", "8", "--seconds", "0.05", "--rounds", "2",
            "--threads", "1", "--output", str(tmp_path / "out.json")]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.loads((tmp_path / "out.json").read_text())
    assert report["benchmark"] == "dialogue" and report["device"] == "cpu" and report["torch_threads"] == 1
    assert report["config"]["streams"] == 3 and report["config"]["max_batch"] == 3
    assert report["model"]["name"] == "tiny-gameai-gpt2" and report["model"]["can_batch"] is True
    assert report["model"]["forward_pass"] == "transformers" and report["lean_over_transformers"] is None
    assert report["model"]["parameters"] > 0 and report["model"]["prompt_style"] == "gameai"
    assert set(report["results"]) == {"sequential", "batched"}
    for path in report["results"].values():
        assert set(path) == {"one_stream", "concurrent"}
        assert path["one_stream"]["streams"] == 1 and path["concurrent"]["streams"] == 3
        for load in path.values():
            assert set(load) == FIGURES
            assert load["rounds"] == 2 and load["replies_per_round"] >= load["streams"]
            assert load["aggregate_tokens_per_s"] > 0 and load["per_stream_tokens_per_s_min"] > 0
            assert load["per_stream_tokens_per_s_min"] <= load["per_stream_tokens_per_s_mean"]
    ratios = report["batched_over_sequential"]
    assert set(ratios) == {
        "aggregate_tokens_per_s_concurrent",
        "per_stream_tokens_per_s_concurrent",
        "ttft_ms_p50_concurrent",
        "tokens_per_s_one_stream",
    }
    assert ratios["aggregate_tokens_per_s_concurrent"] == pytest.approx(
        report["results"]["batched"]["concurrent"]["aggregate_tokens_per_s"]
        / report["results"]["sequential"]["concurrent"]["aggregate_tokens_per_s"],
        abs=0.01,
    )
    assert report["same_replies"] is True  # batching changes no reply
    goals = report["goals"]
    assert set(goals) == {"ttft_ms_one_stream", "tokens_per_s_one_stream", "aggregate_tokens_per_s_8_streams"}
    assert all(isinstance(goal["met"], bool) and goal["goal"] for goal in goals.values())
    assert (
        goals["tokens_per_s_one_stream"]["measured"]
        == (report["results"]["batched"]["one_stream"]["aggregate_tokens_per_s"])
    )
    assert goals["aggregate_tokens_per_s_8_streams"] == {
        "goal": ">= 600",
        "measured": None,
        "met": False,
    }  # 3 streams
    assert "cpu_count" in report["machine"] and "load_average_1min" in report["machine"]


def test_bench_dialogue_times_the_lean_forward_beside_transformers_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tiny_dialogue_model(tmp_path / "model", "gameai", architecture="llama")
    args = ["bench", "dialogue", "--json", "--model-dir", str(tmp_path / "model"), "--streams", "2",
            "--max-batch", "2", "--max-new-tokens", "6", "--seconds", "0.05", "--rounds", "1",
            "--threads", "1"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"]["forward_pass"] == "lean"
    assert set(report["results"]) == {"sequential", "batched", "batched_transformers"}
    ratios = report["lean_over_transformers"]
    assert set(ratios) == {
        "aggregate_tokens_per_s_concurrent",
        "tokens_per_s_one_stream",
        "ttft_ms_p50_one_stream",
    }
    assert ratios["tokens_per_s_one_stream"] == pytest.approx(
        report["results"]["batched"]["one_stream"]["aggregate_tokens_per_s"]
        / report["results"]["batched_transformers"]["one_stream"]["aggregate_tokens_per_s"],
        abs=0.01,
    )
    assert report["same_replies"] is True  # the lean pass changes no reply either
