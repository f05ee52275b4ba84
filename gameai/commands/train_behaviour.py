"""``gameai train behaviour STEP``: build the behaviour model (see :mod:`gameai.training.behaviour`)."""

from __future__ import annotations

import argparse
import typing

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai train behaviour``."""
    from gameai.training.behaviour.config import BehaviourTrainConfig, Step

    parser = cli.group_command(
        "train",
        "behaviour",
        "build the behaviour CNN: record play, fit, export to assets/behaviour, calibrate, eval (or all)",
        run,
    )
    parser.add_argument(
        "step",
        choices=typing.get_args(Step),
        help="record: play and capture the data; fit: train (resumes); export: write assets/behaviour; "
        "calibrate: play new players and store the bot_like precision at each minimum probability the "
        "server can hold that label to; eval: figures of what the server sends into its metadata; "
        "all: those five in order",
    )
    add_config_arguments(parser, BehaviourTrainConfig)


def run(args: argparse.Namespace) -> int:
    """Run the chosen step with the options' config."""
    from gameai.training.behaviour.config import BehaviourTrainConfig
    from gameai.training.behaviour.pipeline import run as run_steps

    run_steps(config_from_args(BehaviourTrainConfig, args), args.step)
    return 0
