"""The ``gameai`` command line."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gameai.cli import build_parser, main


def test_help_lists_the_command_groups(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "bench" in capsys.readouterr().out


def test_every_commands_help_renders() -> None:
    """Option help comes from field docstrings, which may say "95% of"; argparse must not choke on it."""

    def parsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
        found = [parser]
        for action in parser._actions:  # argparse keeps its sub-commands here
            if isinstance(action, argparse._SubParsersAction):
                for child in action.choices.values():
                    found += parsers(child)
        return found

    every = parsers(build_parser())
    assert len(every) > 15
    helps = {parser.prog: parser.format_help() for parser in every}
    assert "95% confidence" in helps["gameai serve"]  # from RuntimeConfig's docstrings, as written


def test_help_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; from gameai.cli import build_parser; build_parser(); "
        "print(sorted(m for m in ('torch', 'pygame', 'numba', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"


def test_bench_env_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["bench", "env", "--json", "--seconds", "0.05", "--vector-sizes", "1", "4", "--sync-size", "2",
            "--pixel-vector-size", "2", "--no-pin"]  # fmt: skip
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["benchmark"] == "env"
    assert report["results"]["single_env"]["steps_per_s"] > 0
    assert set(report["results"]["vector_env"]) == {"1", "4"}
    assert report["results"]["pixels"]["single_env_frames_per_s"] > 0
    assert set(report["goals"]) == {
        "vector_env_1024_agent_steps_per_s",
        "single_env_steps_per_s",
        "pixels_84_frames_per_s",
    }


def test_unknown_command_exits_with_usage() -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["frobnicate"])
    assert exit_info.value.code == 2


def test_demo_refuses_a_bot_like_precision_out_of_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--headless", "--seconds", "1", "--bot-like-min-precision", "2"]) == 2
    assert "bot_like_min_precision must be in [0, 1], got 2.0" in capsys.readouterr().out


def test_a_users_mistake_is_one_line_on_stderr_and_exit_status_2(tmp_path: Path) -> None:
    missing = tmp_path / "no-recording"
    command = [sys.executable, "-m", "gameai.cli", "eval", "behaviour", "--data-dir", str(missing)]
    environment = {**os.environ, "GAMEAI_TRACEBACK": ""}
    result = subprocess.run(command, capture_output=True, text=True, env=environment)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"gameai eval behaviour: {missing / 'manifest.json'} missing: run `gameai train behaviour record` "
        "first (GAMEAI_TRACEBACK=1 shows where)"
    )


def test_a_bug_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import gameai.commands.eval_behaviour as eval_behaviour

    def broken(args: argparse.Namespace) -> int:
        raise KeyError("not a user's mistake")

    monkeypatch.setattr(eval_behaviour, "run", broken)
    with pytest.raises(KeyError, match="not a user's mistake"):
        main(["eval", "behaviour"])
