"""``gameai recordings list|delete``: the sessions a server recorded (``gameai serve --record-dir``).

Examples::

    gameai recordings list --record-dir recordings             # sessions, players, frames per game
    gameai recordings list --record-dir recordings --player p-42
    gameai recordings delete --record-dir recordings --player p-42   # every game's sessions of p-42
    GAMEAI_RECORD_DIR=recordings gameai recordings delete --player p-42 --game arena

Both print JSON. Deleting a player who has nothing recorded says so and exits 0; a session of
the player still being recorded stops recording (see :mod:`gameai.behaviour.recordings`).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from typing import Any

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args

#: The environment variable ``gameai serve`` reads ``record_dir`` from, read here too.
RECORD_DIR_VARIABLE = "GAMEAI_RECORD_DIR"


@dataclass(frozen=True)
class RecordingsConfig:
    """Which recordings ``gameai recordings`` looks at."""

    record_dir: str = ""
    """The record directory (gameai serve --record-dir); empty: $GAMEAI_RECORD_DIR."""
    player: str = ""
    """The player (hello.record.player_id): list only theirs; delete needs it."""
    game: str = ""
    """Only this game's recordings (empty: every game's)."""

    def resolved_record_dir(self) -> str:
        """The record directory given, else ``$GAMEAI_RECORD_DIR``.

        Raises:
            ValueError: If neither is set.
        """
        record_dir = self.record_dir or os.environ.get(RECORD_DIR_VARIABLE, "")
        if not record_dir:
            raise ValueError(
                f"give --record-dir DIR (gameai serve's --record-dir) or set {RECORD_DIR_VARIABLE}"
            )
        return record_dir


def register(cli: CommandLine) -> None:
    """Add ``gameai recordings list`` and ``gameai recordings delete``."""
    parser = cli.group_command(
        "recordings", "list", "what each game's recordings hold: sessions, players, frames (JSON)", run_list
    )
    add_config_arguments(parser, RecordingsConfig)
    parser = cli.group_command(
        "recordings", "delete", "remove every recorded session of a player, in every game (JSON)", run_delete
    )
    add_config_arguments(parser, RecordingsConfig)


def run_list(args: argparse.Namespace) -> int:
    """Print what each game's dataset holds (one player's sessions with ``--player``)."""
    from gameai.behaviour.recordings import summarize_recordings

    config = config_from_args(RecordingsConfig, args)
    record_dir = config.resolved_record_dir()
    player = config.player or None
    games = summarize_recordings(record_dir, player, config.game or None)
    report: dict[str, Any] = {"record_dir": record_dir}
    if player is not None:
        report["player_id"] = player
    report["games"] = {game.game_id: game.to_json() for game in games}
    if not games:
        whose = f"of player {player!r} " if player is not None else ""
        report["message"] = f"no recorded sessions {whose}in {record_dir}"
    print(json.dumps(report, indent=2))
    return 0


def run_delete(args: argparse.Namespace) -> int:
    """Remove the player's sessions; print which (exit 0 when there were none, saying so)."""
    from gameai.behaviour.recordings import delete_player_recordings

    config = config_from_args(RecordingsConfig, args)
    if not config.player:
        raise ValueError("give --player ID (the hello.record.player_id whose recordings to delete)")
    record_dir = config.resolved_record_dir()
    removed = delete_player_recordings(record_dir, config.player, config.game or None)
    count = sum(len(sessions) for sessions in removed.values())
    where = f"game {config.game!r} of " if config.game else ""
    if count:
        games = ", ".join(f"{game}: {len(sessions)}" for game, sessions in removed.items())
        message = f"removed {count} recorded sessions of player {config.player!r} ({games})"
    else:
        message = f"player {config.player!r} has no recorded sessions in {where}{record_dir}: nothing removed"
    report = {
        "record_dir": record_dir,
        "player_id": config.player,
        "removed": removed,
        "sessions_removed": count,
        "message": message,
    }
    print(json.dumps(report, indent=2))
    return 0
