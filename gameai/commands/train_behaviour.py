"""``gameai train behaviour STEP``: build the behaviour model (see :mod:`gameai.training.behaviour`)."""

from __future__ import annotations

import argparse
import json
import os
import typing

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai train behaviour``."""
    from gameai.config_args import field_docstrings
    from gameai.training.behaviour.config import BehaviourTrainConfig, ImportConfig, Step

    parser = cli.group_command(
        "train",
        "behaviour",
        "build the behaviour CNN: record play, fit, export to assets/behaviour, calibrate, eval (or all); "
        "--dataset DIR: a game's own labelled play instead of the arena",
        run,
    )
    parser.add_argument(
        "step",
        choices=typing.get_args(Step),
        help="record: play and capture the data; fit: train (resumes); export: write assets/behaviour; "
        "look: fit the exported model's frame look (what its game looks like: other frames get the "
        "label unknown) and its threshold; "
        "calibrate: play new players and store the bot_like precision at each minimum probability the "
        "server can hold that label to; eval: figures of what the server sends into its metadata; "
        "all: those six in order. With --dataset DIR (a game's own labelled play): fit, export (to "
        "assets/<game_id>/behaviour), look, calibrate (each accusation class, on the dataset's "
        "calibration players), eval, all (those five). import: fill a dataset from image folders or "
        "videos and a labels file (--from, --labels, --dataset, --game-id, --fps, --size)",
    )
    add_config_arguments(parser, BehaviourTrainConfig)
    imports = parser.add_argument_group("import options")
    imports.add_argument(
        "--from", dest="source_dir", default="", help=field_docstrings(ImportConfig)["source_dir"]
    )
    add_config_arguments(parser, ImportConfig, skip=("source_dir", "dataset"))


def run(args: argparse.Namespace) -> int:
    """Run the chosen step with the options' config."""
    from gameai.training.behaviour.config import BehaviourTrainConfig, ImportConfig
    from gameai.training.behaviour.pipeline import run as run_steps

    if args.step == "import":
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # stdout is the JSON summary
        from gameai.training.behaviour.importing import import_sessions

        print(json.dumps(import_sessions(config_from_args(ImportConfig, args)), indent=1), flush=True)
        return 0
    run_steps(config_from_args(BehaviourTrainConfig, args), args.step)
    return 0
