"""``gameai bench env``: steps per second of the arena envs, as JSON."""

from __future__ import annotations

import argparse

from gameai.commands.bench_output import add_report_arguments, print_report
from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench env``."""
    from gameai.bench.env import EnvBenchConfig

    parser = cli.group_command("bench", "env", "steps/s of the arena envs (single, vectorised, pixels)", run)
    add_config_arguments(parser, EnvBenchConfig)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.env import EnvBenchConfig, run_env_benchmark

    report = run_env_benchmark(config_from_args(EnvBenchConfig, args))
    return print_report(
        report, args, "gameai bench env: figures measured on one pinned core, side by side in one run"
    )
