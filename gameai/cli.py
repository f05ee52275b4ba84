"""The ``gameai`` command line.

Commands live in their own modules under :mod:`gameai.commands`; each exposes
``register(cli: CommandLine) -> None`` (:class:`~gameai.commands.command_line.CommandLine`)
and is listed in :data:`COMMAND_MODULES`.
A command module must import its heavy dependencies (torch, pygame, ...) inside its
run function, never at module level, so that ``gameai --help`` stays instant.

Commands are either top-level (``gameai serve``) or members of a group
(``gameai bench env``, ``gameai train agent``).

A command that raises one of :data:`USER_ERRORS` (a bad option, a missing input, steps run out
of order; :mod:`gameai.errors`) prints ``gameai COMMAND: message`` on stderr and exits with 2;
``GAMEAI_TRACEBACK=1`` lets the traceback through instead.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from gameai.commands.command_line import CommandLine, RunFunction, print_help_of
from gameai.errors import StepOrderError

#: Modules that contribute commands, in the order their commands appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "gameai.commands.demo",
    "gameai.commands.serve",
    "gameai.commands.train_dialogue",
    "gameai.commands.eval_dialogue",
    "gameai.commands.bench_env",
    "gameai.commands.bench_serve",
    "gameai.commands.train_agent",
    "gameai.commands.eval_agent",
    "gameai.commands.eval_adapt",
    "gameai.commands.agents",
    "gameai.commands.recordings",
    "gameai.commands.bench_train",
    "gameai.commands.train_behaviour",
    "gameai.commands.eval_behaviour",
    "gameai.commands.bench_behaviour",
    "gameai.commands.bench_dialogue",
    "gameai.commands.bench_chaos",
    "gameai.commands.bench_capacity",
)

#: What a command reports in one line: the user's mistake, not a bug (see :mod:`gameai.errors`).
USER_ERRORS: tuple[type[Exception], ...] = (ValueError, FileNotFoundError, StepOrderError)
#: Set (to anything but empty) to see the traceback of a :data:`USER_ERRORS` error.
TRACEBACK_VARIABLE = "GAMEAI_TRACEBACK"


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``gameai`` parser from :data:`COMMAND_MODULES`."""
    cli = CommandLine()
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(cli)
    cli.parser.set_defaults(run=print_help_of(cli.parser))
    return cli.parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``gameai`` command line and return its exit status (2: usage or :data:`USER_ERRORS`)."""
    args = build_parser().parse_args(argv)
    run: RunFunction = args.run
    try:
        return run(args)
    except USER_ERRORS as error:
        if os.environ.get(TRACEBACK_VARIABLE):
            raise
        name = getattr(args, "command_name", "gameai")
        print(f"{name}: {error} ({TRACEBACK_VARIABLE}=1 shows where)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
