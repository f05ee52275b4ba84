"""``gameai bench behaviour``: windows/s and latency of the behaviour model at batch 1, 8, 32, as JSON."""

from __future__ import annotations

import argparse

from gameai.commands.bench_output import add_report_arguments, print_report
from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench behaviour``."""
    from gameai.bench.behaviour import BehaviourBenchConfig

    parser = cli.group_command(
        "bench",
        "behaviour",
        "behaviour model windows/s and latency at batch 1, 8, 32, with its accuracy",
        run,
    )
    add_config_arguments(parser, BehaviourBenchConfig)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.behaviour import BehaviourBenchConfig, run_behaviour_benchmark

    report = run_behaviour_benchmark(config_from_args(BehaviourBenchConfig, args))
    return print_report(report, args, "gameai bench behaviour: the server's batch call, timed in-process")
