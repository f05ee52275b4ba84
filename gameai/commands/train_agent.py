"""``gameai train agent STEP``: make an agent with ``--algo`` (PPO by default), on the arena or ``--env ID``.

See :mod:`gameai.training.agents.train`.
"""

from __future__ import annotations

import argparse
import typing

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai train agent``."""
    from gameai.training.agents.config import AgentTrainConfig, Step

    parser = cli.group_command(
        "train",
        "agent",
        "train an agent with --algo ppo|a2c|dqn|sac|td3 (the arena: ppo), on the arena or --env ID; "
        "export it and rate it (all: every step)",
        run,
    )
    parser.add_argument(
        "step",
        nargs="?",
        default="learn",
        choices=typing.get_args(Step),
        help="learn (default) trains/resumes/extends with --algo (ppo: the same, PPO only); "
        "export writes assets/agents/<name>; rate writes its Elo table (arena)",
    )
    add_config_arguments(parser, AgentTrainConfig)


def run(args: argparse.Namespace) -> int:
    """Run the chosen step with the options' config."""
    from gameai.training.agents.config import AgentTrainConfig
    from gameai.training.agents.train import run as run_steps

    run_steps(config_from_args(AgentTrainConfig, args), args.step)
    return 0
