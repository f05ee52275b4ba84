"""``gameai bench train``: PPO steps/s (native vector env vs SyncVectorEnv), time to a win rate, as JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gameai.cli import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai bench train``."""
    from gameai.bench.train import TrainBenchConfig

    parser = cli.group_command(
        "bench", "train", "PPO steps/s (native vector env vs SyncVectorEnv), time to a win rate, pixels", run
    )
    add_config_arguments(parser, TrainBenchConfig)
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    parser.add_argument("--output", default=None, help="also write the JSON to this file")


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print its JSON."""
    from gameai.bench.train import TrainBenchConfig, run_train_benchmark

    report = run_train_benchmark(config_from_args(TrainBenchConfig, args))
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    if not args.json:
        print("# gameai bench train: every figure measured side by side in one run")
    print(text)
    return 0
