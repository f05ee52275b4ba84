"""``gameai bench train``: PPO steps/s (native vector env vs SyncVectorEnv), time to a win rate, as JSON."""

from __future__ import annotations

import argparse

from gameai.commands.bench_output import add_report_arguments, print_report
from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench train``."""
    from gameai.bench.train import TrainBenchConfig

    parser = cli.group_command(
        "bench", "train", "PPO steps/s (native vector env vs SyncVectorEnv), time to a win rate, pixels", run
    )
    add_config_arguments(parser, TrainBenchConfig)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.train import TrainBenchConfig, run_train_benchmark

    report = run_train_benchmark(config_from_args(TrainBenchConfig, args))
    return print_report(report, args, "gameai bench train: every figure measured side by side in one run")
