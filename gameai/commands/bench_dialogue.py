"""``gameai bench dialogue``: time to first token and tokens/s, one reply at a time vs batched, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gameai.cli import CommandLine
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
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    parser.add_argument("--output", default=None, help="also write the JSON to this file")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.dialogue import DialogueBenchConfig, run_dialogue_benchmark

    report = run_dialogue_benchmark(config_from_args(DialogueBenchConfig, args))
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    if not args.json:
        print("# gameai bench dialogue: the server's dialogue worker, timed in-process")
    print(text)
    return 0
