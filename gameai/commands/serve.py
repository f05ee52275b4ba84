"""``gameai serve``: run the game AI service.

Examples::

    gameai serve                                   # 127.0.0.1:8765, models from assets/
    gameai serve --models studio/models            # one folder per game (gameai/services/game_models.py)
    gameai serve --port 9000 --device cpu
    GAMEAI_TOKENS=s3cret gameai serve --host 0.0.0.0
    gameai serve --config serve.toml               # see gameai.server.config for the format
    gameai serve --record-dir recordings           # record sessions whose hello.record asks (opt-in)
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments


class _Unset:
    """Marks an option not given on the command line."""

    def __repr__(self) -> str:
        return "<unset>"


UNSET: Any = _Unset()


def register(cli: CommandLine) -> None:
    """Add ``gameai serve``."""
    from gameai.runtime.config import RuntimeConfig
    from gameai.server.config import ServerConfig

    parser = cli.command("serve", "run the game AI service (websocket server)", run)
    parser.add_argument("--config", metavar="TOML", help="TOML config file ([server] and [runtime] tables)")
    add_config_arguments(parser, ServerConfig)
    add_config_arguments(parser, RuntimeConfig)
    parser.add_argument("--models", dest="models_dir", metavar="DIR", help="the same as --models-dir")
    _mark_defaults_unset(parser, ServerConfig, RuntimeConfig)


def _mark_defaults_unset(parser: argparse.ArgumentParser, *classes: type) -> None:
    """Let :func:`run` tell options given on the command line from defaults (help keeps the defaults)."""
    import dataclasses

    parser.set_defaults(**{field.name: UNSET for cls in classes for field in dataclasses.fields(cls)})


def cli_values(args: argparse.Namespace, *classes: type) -> dict[str, Any]:
    """The config options given explicitly on the command line."""
    import dataclasses

    values = {}
    for cls in classes:
        for field in dataclasses.fields(cls):
            value = getattr(args, field.name, UNSET)
            if value is not UNSET:
                values[field.name] = tuple(value) if isinstance(value, list) else value
    return values


def run(args: argparse.Namespace) -> int:
    """Load the configuration and models, then serve until SIGINT/SIGTERM."""
    import logging

    from gameai import event_loops
    from gameai.observability.logs import configure_logging
    from gameai.observability.metrics import ServiceMetrics
    from gameai.runtime import heap
    from gameai.runtime.config import RuntimeConfig
    from gameai.server.app import GameAIServer
    from gameai.server.config import ServerConfig, build_config, check_known_keys, read_toml
    from gameai.services.builtin import load_services

    try:
        file_values = read_toml(args.config) if args.config else {}
        check_known_keys(file_values, ServerConfig, RuntimeConfig)
        given = cli_values(args, ServerConfig, RuntimeConfig)
        server_config = build_config(ServerConfig, file_values, os.environ, given)
        runtime_config = build_config(RuntimeConfig, file_values, os.environ, given)
    except ValueError as exc:
        print(f"gameai serve: {exc}", file=sys.stderr)
        return 2
    configure_logging(server_config.log_format, server_config.log_level)
    logger = logging.getLogger("gameai.serve")
    metrics = ServiceMetrics()
    try:
        services = load_services(runtime_config, metrics)
    except ValueError as exc:
        logger.error("%s", exc)
        return 2

    frozen = heap.freeze_startup_objects()
    heap.time_collections(metrics.gc_pause_seconds)
    logger.info("%d objects loaded at start-up left out of garbage collections", frozen)

    async def serve() -> None:
        server = GameAIServer(server_config, services, metrics)
        await server.start()
        await server.serve_until_signal()

    event_loops.run(serve(), server_config.event_loop)
    return 0
