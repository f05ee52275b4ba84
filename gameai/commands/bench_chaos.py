"""``gameai bench chaos``: kill, stop, corrupt and flood a real server; figures and pass/fail as JSON."""

from __future__ import annotations

import argparse

from gameai.commands.bench_output import add_report_arguments, print_report
from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench chaos``."""
    from gameai.bench.chaos import ChaosBenchConfig

    parser = cli.group_command(
        "bench",
        "chaos",
        "soak with a canary, kill/stop the behaviour process, corrupt models, flood one address",
        run,
    )
    add_config_arguments(parser, ChaosBenchConfig)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the scenarios and print their JSON; exit status 1 if one failed."""
    from gameai.bench.chaos import ChaosBenchConfig, run_chaos_benchmark

    report = run_chaos_benchmark(config_from_args(ChaosBenchConfig, args))
    status = print_report(
        report, args, "gameai bench chaos: fault scenarios against gameai serve in a child process"
    )
    return status if report["passed"] else 1
