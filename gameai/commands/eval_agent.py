"""``gameai eval agent``: the served agent per difficulty: arena win rate, or (``--env``) episode return."""

from __future__ import annotations

import argparse

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai eval agent``."""
    from gameai.training.agents.config import EvalAgentConfig

    parser = cli.group_command(
        "eval",
        "agent",
        "the agent's win rate against a fixed reference opponent at each difficulty, "
        "or with --env its return in a Gymnasium environment",
        run,
    )
    add_config_arguments(parser, EvalAgentConfig)
    parser.add_argument("--json", action="store_true", help="print the JSON report instead of a table")


def run(args: argparse.Namespace) -> int:
    """Play the levels and print the table.

    Arena: exit status 1 if the win rate is not monotone in d. Environment: status 1 if it reports
    ``is_success`` and the success rate is not monotone in d, else 0. A ValueError (unknown env, an
    agent that does not fit it) is the command line's one-line error.
    """
    from gameai.training.agents.config import EvalAgentConfig
    from gameai.training.agents.evaluate import main

    return main(config_from_args(EvalAgentConfig, args), args.json)
