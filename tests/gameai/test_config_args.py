"""Config dataclasses as command-line options."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Literal

import pytest

from gameai.config_args import add_config_arguments, config_from_args, field_docstrings


@dataclasses.dataclass
class Example:
    """An example config."""

    steps: int = 10
    """How many steps to run."""
    rate: float = 0.5
    """A rate, 0..1."""
    name: str = "run"
    verbose: bool = False
    """Print more."""
    mode: Literal["fast", "slow"] = "fast"
    """How to run."""
    sizes: tuple[int, ...] = (1, 2)
    """Several sizes."""
    limit: int | None = None
    """An optional limit."""


def parse(argv: list[str], prefix: str = "") -> Example:
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Example, prefix=prefix)
    return config_from_args(Example, parser.parse_args(argv), prefix=prefix)


def test_defaults_and_overrides_round_trip() -> None:
    assert parse([]) == Example()
    parsed = parse(
        ["--steps", "3", "--rate", "0.1", "--verbose", "--mode", "slow", "--sizes", "4", "5", "--limit", "7"]
    )
    assert parsed == Example(steps=3, rate=0.1, verbose=True, mode="slow", sizes=(4, 5), limit=7)
    assert parse(["--env-steps", "2"], prefix="env_").steps == 2


def test_field_docstrings_become_help() -> None:
    docs = field_docstrings(Example)
    assert docs["steps"] == "How many steps to run."
    assert "name" not in docs
    parser = argparse.ArgumentParser()
    add_config_arguments(parser, Example)
    assert "How many steps to run. (default: 10)" in parser.format_help()


def test_bad_values_are_rejected() -> None:
    with pytest.raises(SystemExit):
        parse(["--mode", "medium"])
    with pytest.raises(SystemExit):
        parse(["--steps", "many"])
