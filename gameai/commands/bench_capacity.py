"""``gameai bench capacity``: how many demo-like live games one machine serves, and where the CPU goes."""

from __future__ import annotations

import argparse

from gameai.commands.bench_output import add_report_arguments, print_report
from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench capacity``."""
    from gameai.bench.capacity_config import CapacityBenchConfig

    parser = cli.group_command(
        "bench",
        "capacity",
        "ramp demo-like sessions against gameai serve until an SLO breaks; CPU per session by component",
        run,
    )
    add_config_arguments(parser, CapacityBenchConfig)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the ramp and print its JSON."""
    from gameai.bench.capacity import run_capacity_benchmark
    from gameai.bench.capacity_config import CapacityBenchConfig

    report = run_capacity_benchmark(config_from_args(CapacityBenchConfig, args))
    return print_report(report, args, "gameai bench capacity: demo-like sessions against gameai serve")
