"""``gameai eval adapt``: simulated players of several skills against the served, adapting agent."""

from __future__ import annotations

import argparse

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai eval adapt``."""
    from gameai.training.agents.config import EvalAdaptConfig

    parser = cli.group_command(
        "eval",
        "adapt",
        "players of several skills vs the served agent: win rates with adaptive and with fixed difficulty",
        run,
    )
    add_config_arguments(parser, EvalAdaptConfig)
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of a table")


def run(args: argparse.Namespace) -> int:
    """Serve, play, print (exit status 1 if a player ends outside the goal under adaptation)."""
    from gameai.training.agents.adapt import main
    from gameai.training.agents.config import EvalAdaptConfig

    return main(config_from_args(EvalAdaptConfig, args), args.json)
