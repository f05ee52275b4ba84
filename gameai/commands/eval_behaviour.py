"""``gameai eval behaviour``: a behaviour model's figures as JSON (see ``gameai.training.behaviour``)."""

from __future__ import annotations

import argparse
import json

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai eval behaviour``."""
    from gameai.training.behaviour.config import BehaviourEvalConfig

    parser = cli.group_command(
        "eval",
        "behaviour",
        "accuracy, macro-F1, per-class precision/recall, confusion matrix PNGs on held-out seeds and styles",
        run,
    )
    add_config_arguments(parser, BehaviourEvalConfig)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the figures as JSON."""
    from gameai.training.behaviour.config import BehaviourEvalConfig
    from gameai.training.behaviour.evaluate import evaluate

    print(json.dumps(evaluate(config_from_args(BehaviourEvalConfig, args)), indent=1))
    return 0
