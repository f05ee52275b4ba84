"""``gameai eval dialogue``: a dialogue model's figures as JSON (:mod:`gameai.training.dialogue.evaluate`)."""

from __future__ import annotations

import argparse
import json

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai eval dialogue``."""
    from gameai.training.dialogue.config import DialogueEvalConfig

    parser = cli.group_command(
        "eval",
        "dialogue",
        "held-out perplexity, persona/behaviour adherence, diversity, copying, well-formed share, speed",
        run,
    )
    add_config_arguments(parser, DialogueEvalConfig)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the figures as JSON."""
    from gameai.training.dialogue.config import DialogueEvalConfig
    from gameai.training.dialogue.evaluate import evaluate

    print(json.dumps(evaluate(config_from_args(DialogueEvalConfig, args)), indent=1))
    return 0
