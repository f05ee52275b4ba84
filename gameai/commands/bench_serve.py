"""``gameai bench serve``: frames/s and latency of the served behaviour model vs the raw model, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gameai.cli import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench serve``."""
    from gameai.bench.serve import ServeBenchConfig

    parser = cli.group_command(
        "bench", "serve", "frames/s and p50/p99 latency of the service at 1-64 clients vs the raw model", run
    )
    add_config_arguments(parser, ServeBenchConfig)
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    parser.add_argument("--output", default=None, help="also write the JSON to this file")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.serve import ServeBenchConfig, run_serve_benchmark

    report = run_serve_benchmark(config_from_args(ServeBenchConfig, args))
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    if not args.json:
        print("# gameai bench serve: served and raw figures measured side by side in one run")
    print(text)
    return 0
