"""``gameai train dialogue STEP``: build the NPC dialogue model (:mod:`gameai.training.dialogue.train`)."""

from __future__ import annotations

import argparse
import typing

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai train dialogue``."""
    from gameai.training.dialogue.config import DialogueTrainConfig, Step

    parser = cli.group_command(
        "train",
        "dialogue",
        "build the NPC dialogue model: corpus, chat data, tokenizer, pretrain, finetune, export (or all)",
        run,
    )
    parser.add_argument(
        "step", choices=typing.get_args(Step), help="which step to run; `all` runs them in order and resumes"
    )
    add_config_arguments(parser, DialogueTrainConfig)


def run(args: argparse.Namespace) -> int:
    """Run the chosen step with the options' config."""
    from gameai.training.dialogue.config import DialogueTrainConfig
    from gameai.training.dialogue.train import run as run_steps

    run_steps(config_from_args(DialogueTrainConfig, args), args.step)
    return 0
