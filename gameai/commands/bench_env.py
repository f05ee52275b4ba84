"""``gameai bench env``: steps per second of the arena envs, as JSON."""

from __future__ import annotations

import argparse
import json

from gameai.cli import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench env``."""
    from gameai.bench.env import EnvBenchConfig

    parser = cli.group_command("bench", "env", "steps/s of the arena envs (single, vectorised, pixels)", run)
    add_config_arguments(parser, EnvBenchConfig)
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    parser.add_argument("--output", default=None, help="also write the JSON to this file")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.env import EnvBenchConfig, run_env_benchmark

    report = run_env_benchmark(config_from_args(EnvBenchConfig, args))
    text = json.dumps(report, indent=2)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    if not args.json:
        print("# gameai bench env: figures measured on one pinned core, side by side in one run")
    print(text)
    return 0
