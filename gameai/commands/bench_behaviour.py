"""``gameai bench behaviour``: windows/s and latency of the behaviour model at batch 1, 8, 32, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gameai.cli import CommandLine
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
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    parser.add_argument("--output", default=None, help="also write the JSON to this file")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.behaviour import BehaviourBenchConfig, run_behaviour_benchmark

    report = run_behaviour_benchmark(config_from_args(BehaviourBenchConfig, args))
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    if not args.json:
        print("# gameai bench behaviour: the server's batch call, timed in-process")
    print(text)
    return 0
