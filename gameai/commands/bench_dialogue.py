"""``gameai bench dialogue``: time to first token and tokens/s, one reply at a time vs batched, as JSON."""

from __future__ import annotations

import argparse

from gameai.commands.bench_output import add_report_arguments, print_report
from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench dialogue``."""
    from gameai.bench.dialogue import DialogueBenchConfig

    parser = cli.group_command(
        "bench",
        "dialogue",
        "dialogue time to first token and tokens/s at 1 and 8 streams, sequential vs batched",
        run,
    )
    add_config_arguments(parser, DialogueBenchConfig)
    add_report_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.dialogue import DialogueBenchConfig, run_dialogue_benchmark

    report = run_dialogue_benchmark(config_from_args(DialogueBenchConfig, args))
    return print_report(report, args, "gameai bench dialogue: the server's dialogue worker, timed in-process")
