"""``gameai demo``: play the arena demo (a window, or a headless autopilot run)."""

from __future__ import annotations

import argparse
import json

from gameai.cli import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai demo``."""
    from demo_game.config import DemoConfig

    parser = cli.command("demo", "play the arena demo (headless autopilot without a display)", run)
    add_config_arguments(parser, DemoConfig)


def run(args: argparse.Namespace) -> int:
    """Run the demo and print its summary."""
    from demo_game.app import DemoApp
    from demo_game.config import DemoConfig

    config = config_from_args(DemoConfig, args)
    try:
        app = DemoApp(config)
    except ValueError as error:
        print(f"gameai demo: {error}")
        return 2
    if app.headless:
        print(
            f"gameai demo: no display, so an autopilot ({app.autopilot_style}) plays for {config.seconds:g} s"
        )
    summary = app.run()
    print(json.dumps(summary, indent=2))
    return 0
