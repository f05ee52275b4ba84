"""A server's recordings: one behaviour dataset per game under the record directory.

``gameai serve --record-dir DIR`` records the sessions that ask for it (``hello.record``, with the
player's consent) into their game's dataset, in the format of :mod:`gameai.behaviour.dataset`::

    DIR/<game_id>/dataset.json                          the game's classes, frame size, rate
    DIR/<game_id>/sessions/<session_id>/session.json    one session: player id, times, labels
    DIR/<game_id>/sessions/<session_id>/chunk-*.npz     its frames

This module finds those datasets, sums up what they hold (:func:`summarize_recordings`) and
removes every session of a player from them (:func:`delete_player_recordings`), for
``gameai recordings list|delete``. No torch, nothing of the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gameai.behaviour.dataset import DATASET_FILE, delete_player, read_dataset


def game_dataset_dir(record_dir: Path | str, game_id: str) -> Path:
    """Where the recordings of ``game_id`` go (the game id must be a valid dataset game id:
    :class:`~gameai.behaviour.dataset.DatasetInfo` checks it before this path is used)."""
    return Path(record_dir) / game_id


def game_datasets(record_dir: Path | str, game_id: str | None = None) -> dict[str, Path]:
    """The game datasets under a record directory, by game id (sorted).

    Args:
        record_dir: The record directory (``gameai serve --record-dir``).
        game_id: Only this game's (None: every game's).

    Raises:
        FileNotFoundError: If ``record_dir`` is not a directory.
    """
    root = Path(record_dir)
    if not root.is_dir():
        raise FileNotFoundError(
            f"{root} is not a directory (the record directory of gameai serve --record-dir)"
        )
    found = {
        folder.name: folder
        for folder in sorted(root.iterdir())
        if folder.is_dir() and not folder.name.startswith(".") and (folder / DATASET_FILE).is_file()
    }
    return found if game_id is None else {k: v for k, v in found.items() if k == game_id}


def delete_player_recordings(
    record_dir: Path | str, player_id: str, game_id: str | None = None
) -> dict[str, list[str]]:
    """Remove every recorded session of a player, in every game's dataset (or one game's).

    A session of the player still being recorded stops keeping frames
    (:attr:`~gameai.behaviour.dataset.SessionWriter.deleted`); the server stops its recording.

    Args:
        record_dir: The record directory.
        player_id: The player (``hello.record.player_id``).
        game_id: Only this game's recordings (None: every game's).

    Returns:
        The session ids removed, by game id (games with none left out).

    Raises:
        FileNotFoundError: If ``record_dir`` is not a directory.
    """
    removed: dict[str, list[str]] = {}
    for game, path in game_datasets(record_dir, game_id).items():
        sessions = delete_player(path, player_id)
        if sessions:
            removed[game] = sorted(sessions)
    return removed


@dataclass(frozen=True)
class GameRecordings:
    """What one game's dataset under the record directory holds."""

    game_id: str
    """The game."""
    sessions: int
    """Sessions recorded (readable ones)."""
    players: int
    """Different players among them."""
    frames: int
    """Frames they hold."""
    labelled_frames: int
    """Those with a label (the rest are stored but not trained on)."""
    open_sessions: int
    """Sessions whose writer has not closed them (being recorded, or the server was killed)."""
    skipped: tuple[str, ...] = ()
    """Session folders that could not be read, each with why."""
    session_ids: tuple[str, ...] = ()
    """The sessions counted, when the summary is of one player (else empty)."""

    def to_json(self) -> dict[str, Any]:
        """JSON data of this summary (``session_ids`` only when there are some)."""
        data: dict[str, Any] = {
            "sessions": self.sessions,
            "players": self.players,
            "frames": self.frames,
            "labelled_frames": self.labelled_frames,
            "open_sessions": self.open_sessions,
        }
        if self.skipped:
            data["skipped"] = list(self.skipped)
        if self.session_ids:
            data["session_ids"] = list(self.session_ids)
        return data


def summarize_recordings(
    record_dir: Path | str, player_id: str | None = None, game_id: str | None = None
) -> list[GameRecordings]:
    """What each game's dataset under the record directory holds.

    Args:
        record_dir: The record directory.
        player_id: Count only this player's sessions, and list them (None: everyone's).
        game_id: Only this game (None: every game).

    Returns:
        One summary per game dataset, by game id; with ``player_id``, only games where the
        player has sessions.

    Raises:
        FileNotFoundError: If ``record_dir`` is not a directory.
        ValueError: If a game's ``dataset.json`` is garbled.
    """
    summaries = []
    for game, path in game_datasets(record_dir, game_id).items():
        dataset = read_dataset(path)
        sessions = [s for s in dataset.sessions if player_id is None or s.player_id == player_id]
        if player_id is not None and not sessions:
            continue
        summaries.append(
            GameRecordings(
                game_id=game,
                sessions=len(sessions),
                players=len({s.player_id for s in sessions}),
                frames=sum(s.frame_count for s in sessions),
                labelled_frames=sum(
                    len(run) for s in sessions for run in s.label_runs() if run.label is not None
                ),
                open_sessions=sum(not s.closed for s in sessions),
                skipped=dataset.skipped if player_id is None else (),
                session_ids=tuple(s.session_id for s in sessions) if player_id is not None else (),
            )
        )
    return summaries
