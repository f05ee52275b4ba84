"""The ``gameai`` parser being built: what each command module registers its commands with."""

from __future__ import annotations

import argparse
from collections.abc import Callable

#: Groups of sub-commands and their one-line help.
GROUPS: dict[str, str] = {
    "train": "train a model (writes runs/ and checkpoints)",
    "eval": "evaluate a model and print its figures",
    "bench": "measure speed; prints JSON",
    "agents": "served agents: import an SB3 zip, export to ONNX, list",
    "recordings": "sessions a server recorded (gameai serve --record-dir): list, delete a player's",
}

RunFunction = Callable[[argparse.Namespace], int]


class CommandLine:
    """The parser being built: command modules add their commands to it."""

    def __init__(self) -> None:
        self.parser = argparse.ArgumentParser(
            prog="gameai",
            description="gameai: perception, dialogue and adaptive agents for live games.",
        )
        self._commands = self.parser.add_subparsers(dest="command", metavar="COMMAND")
        self._groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}

    def command(self, name: str, help: str, run: RunFunction) -> argparse.ArgumentParser:
        """Add a top-level command and return its parser for its options.

        Args:
            name: The command's name (``gameai NAME``).
            help: One line for ``gameai --help``.
            run: Called with the parsed arguments; returns the exit status.
        """
        parser = self._commands.add_parser(name, help=help, description=help)
        parser.set_defaults(run=run, command_name=parser.prog)
        return parser

    def group_command(self, group: str, name: str, help: str, run: RunFunction) -> argparse.ArgumentParser:
        """Add ``gameai GROUP NAME`` and return its parser.

        Args:
            group: One of :data:`GROUPS`.
            name: The command's name within the group.
            help: One line for ``gameai GROUP --help``.
            run: Called with the parsed arguments; returns the exit status.

        Raises:
            KeyError: If ``group`` is not one of :data:`GROUPS`.
        """
        if group not in self._groups:
            group_parser = self._commands.add_parser(group, help=GROUPS[group], description=GROUPS[group])
            self._groups[group] = group_parser.add_subparsers(dest="subcommand", metavar="WHAT")
            group_parser.set_defaults(run=print_help_of(group_parser))
        parser = self._groups[group].add_parser(name, help=help, description=help)
        parser.set_defaults(run=run, command_name=parser.prog)
        return parser


def print_help_of(parser: argparse.ArgumentParser) -> RunFunction:
    """A run function that prints ``parser``'s help and returns 2 (a group or ``gameai`` alone)."""

    def run(args: argparse.Namespace) -> int:
        del args
        parser.print_help()
        return 2

    return run
