"""``gameai bench serve``: frames/s and latency of the served behaviour model vs the raw model, as JSON."""

from __future__ import annotations

import argparse

from gameai.commands.bench_output import add_report_arguments, print_report
from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench serve``."""
    from gameai.bench.serve import ServeBenchConfig

    parser = cli.group_command(
        "bench", "serve", "frames/s and p50/p99 latency of the service at 1-64 clients vs the raw model", run
    )
    add_config_arguments(parser, ServeBenchConfig)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.serve import ServeBenchConfig, run_serve_benchmark

    report = run_serve_benchmark(config_from_args(ServeBenchConfig, args))
    return print_report(
        report, args, "gameai bench serve: served and raw figures measured side by side in one run"
    )
