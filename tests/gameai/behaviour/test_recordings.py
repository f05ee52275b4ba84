"""A record directory: one dataset per game; sums per game, a player's sessions deleted everywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from gameai.behaviour.dataset import DatasetWriter, read_dataset
from gameai.behaviour.recordings import delete_player_recordings, game_datasets, summarize_recordings
from gameai.testing.tiny_models import random_frames


def _record(root: Path, game_id: str, player: str, frames: int, label: str | None = "a") -> str:
    writer = DatasetWriter(root / game_id, game_id=game_id, classes=("a", "b"), frame_size=(36, 36))
    with writer.session(player, source="server") as session:
        session.set_label(label)
        for pixels in random_frames(frames, seed=frames, size=(36, 36)):
            session.add_frame(pixels)
        return session.session_id


def test_a_players_sessions_are_deleted_in_every_game_and_no_one_elses(tmp_path: Path) -> None:
    ann_arena = _record(tmp_path, "arena", "ann", 3)
    _record(tmp_path, "arena", "bob", 2, label=None)
    ann_puzzle = _record(tmp_path, "puzzle", "ann", 4)
    (tmp_path / "notes").mkdir()  # not a dataset: left alone
    assert list(game_datasets(tmp_path)) == ["arena", "puzzle"]

    summary = {game.game_id: game for game in summarize_recordings(tmp_path)}
    assert (summary["arena"].sessions, summary["arena"].players, summary["arena"].frames) == (2, 2, 5)
    assert (summary["arena"].labelled_frames, summary["puzzle"].frames) == (3, 4)
    ann = summarize_recordings(tmp_path, "ann")
    assert [(g.game_id, g.session_ids) for g in ann] == [("arena", (ann_arena,)), ("puzzle", (ann_puzzle,))]

    assert delete_player_recordings(tmp_path, "ann", "puzzle") == {"puzzle": [ann_puzzle]}
    assert delete_player_recordings(tmp_path, "ann") == {"arena": [ann_arena]}
    assert delete_player_recordings(tmp_path, "ann") == {}
    assert [s.player_id for s in read_dataset(tmp_path / "arena").sessions] == ["bob"]
    assert summarize_recordings(tmp_path, "ann") == []


def test_a_record_directory_that_is_not_there_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="record directory"):
        delete_player_recordings(tmp_path / "missing", "ann")
