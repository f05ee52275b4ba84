"""``gameai demo``: a demo game (the arena, or ``--game platformer``), played live against the service.

Starts ``gameai serve`` in the background on a free loopback port (or connects to
``--server``), then runs the game. Without a display an autopilot plays.
"""

from __future__ import annotations

import argparse
import json
import os
from typing import TYPE_CHECKING

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args

if TYPE_CHECKING:
    from demo_game.app import DemoApp
    from demo_game.config import DemoConfig
    from demo_game.platformer.app import PlatformerApp


def register(cli: CommandLine) -> None:
    """Add ``gameai demo``."""
    from demo_game.config import DemoConfig

    parser = cli.command(
        "demo",
        "play a demo game (the arena; --game platformer) against the service "
        "(headless autopilot without a display)",
        run,
    )
    add_config_arguments(parser, DemoConfig)


def service_args(config: DemoConfig) -> list[str]:
    """The ``gameai serve`` options of the service the demo starts in the background."""
    args = ["--host", "127.0.0.1"]
    if config.bot_like_min_precision is not None:
        args += ["--behaviour-bot-like-min-precision", str(config.bot_like_min_precision)]
    return args


def make_app(config: DemoConfig, url: str | None, token: str | None) -> DemoApp | PlatformerApp:
    """The app of ``config.game``.

    Raises:
        ValueError: If the autopilot names no style of that game.
    """
    if config.game == "platformer":
        from demo_game.platformer.app import PlatformerApp

        return PlatformerApp(config, server_url=url, token=token)
    from demo_game.app import DemoApp

    return DemoApp(config, server_url=url, token=token)


def run(args: argparse.Namespace) -> int:
    """Start the service if needed, run the demo and print its summary."""
    from demo_game.config import DemoConfig
    from gameai.server.process import ServerProcess

    try:
        config = config_from_args(DemoConfig, args)
    except ValueError as error:
        print(f"gameai demo: {error}")
        return 2
    service: ServerProcess | None = None
    url: str | None = None
    if config.server:
        url = config.server
    elif not config.offline:
        print("gameai demo: starting the gameai service in the background ...", flush=True)
        service = ServerProcess(args=service_args(config))
        try:
            url = service.start().url
            print(f"gameai demo: service on {url}", flush=True)
        except RuntimeError as error:
            print(f"gameai demo: the service did not start, playing offline ({error})", flush=True)
            service = None
    token = config.token or os.environ.get("GAMEAI_TOKEN") or None
    try:
        app = make_app(config, url, token)
    except ValueError as error:
        print(f"gameai demo: {error}")
        if service is not None:
            service.stop()
        return 2
    if app.headless:
        length = f"{config.seconds:g} s" if config.seconds else "until stopped"
        print(f"gameai demo: no display, so an autopilot ({app.autopilot_style}) plays, {length}", flush=True)
    try:
        summary = app.run()
    finally:
        if service is not None:
            service.stop()
    print(json.dumps(summary, indent=2))
    return 0
