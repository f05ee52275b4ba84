"""The behaviour dataset format: writing, reading back, surviving a killed writer, refusing bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.dataset import (
    DATASET_FILE,
    DatasetInfo,
    DatasetWriter,
    LabelRun,
    delete_player,
    read_dataset,
    read_info,
)

CLASSES = ("fast", "slow", "still")
SIZE = (40, 48)  # (height, width)


def _writer(path: Path, **overrides: object) -> DatasetWriter:
    options: dict = {"game_id": "toy", "classes": CLASSES, "accusation_classes": ("fast",),
                     "frame_size": SIZE, "sample_fps": 4.0, "chunk_frames": 4} | overrides  # fmt: skip
    return DatasetWriter(path, **options)


def _frames(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, *SIZE, 3), dtype=np.uint8)


def test_a_session_reads_back_frame_for_frame_with_its_labels(tmp_path: Path) -> None:
    writer = _writer(tmp_path / "data")
    frames = _frames(10)
    with writer.session("player 1", session_id="s1") as session:
        session.add_frame(frames[0])  # before any label: unlabelled
        session.set_label("fast")
        for frame in frames[1:4]:
            session.add_frame(frame)
        session.add_frame(frames[4], label="slow")
        session.add_frame(frames[5])
        session.set_label("still")
        session.set_label(None)  # replaces "still" before any frame had it
        session.add_frame(frames[6])
        session.add_frame(frames[7], label="slow")
        session.add_frame(frames[8])
        session.add_frame(frames[9])
        session.set_label("fast")  # no frame follows: means nothing
        assert session.frame_count == 10
    data = read_dataset(tmp_path / "data")
    assert data.info == DatasetInfo("toy", CLASSES, ("fast",), SIZE, 4.0)
    (record,) = data.sessions
    assert (record.session_id, record.player_id, record.source, record.closed) == (
        "s1",
        "player 1",
        "api",
        True,
    )
    assert record.created.endswith("Z") and record.frame_count == 10
    assert [chunk.frames for chunk in record.chunks] == [4, 4, 2]
    np.testing.assert_array_equal(record.frames(), frames)
    np.testing.assert_array_equal(record.frames(3, 7), frames[3:7])  # only chunks 0 and 1 are read
    assert record.label_runs() == [
        LabelRun(0, 1, None), LabelRun(1, 4, "fast"), LabelRun(4, 6, "slow"), LabelRun(6, 7, None),
        LabelRun(7, 10, "slow"),
    ]  # fmt: skip
    assert record.frame_labels()[:5] == [None, "fast", "fast", "fast", "slow"]
    assert data.players == ("player 1",)
    stored = json.loads((record.directory / "session.json").read_text())
    assert stored["labels"][0] == {"from_frame": 1, "label": "fast"}


def test_several_sessions_and_players_and_reopening(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    for player, session_id in (("b", "x2"), ("a", "x1"), ("a", "x3")):
        with writer.session(player, session_id=session_id, source="import") as session:
            session.set_label("still")
            session.add_frame(_frames(1)[0])
    again = DatasetWriter.open(tmp_path)
    assert again.info == writer.info and again.chunk_frames == 64
    with again.session("c") as session:  # a generated id
        session.add_frame(_frames(1)[0], label="slow")
    data = read_dataset(tmp_path)
    assert [s.session_id for s in data.sessions][1:] == [
        "x1",
        "x2",
        "x3",
    ]  # sorted: the time-stamped id first
    assert data.players == ("a", "b", "c") and {s.source for s in data.sessions} == {"import", "api"}
    with pytest.raises(ValueError, match="session x1 already exists"):
        writer.session("a", session_id="x1")


def test_flat_coloured_frames_are_stored_compactly(tmp_path: Path) -> None:
    frame = np.zeros((*SIZE, 3), dtype=np.uint8)
    frame[:, :, 2] = 90
    frame[10:14, 20:24] = (250, 200, 0)  # a dot on a flat background
    with _writer(tmp_path, chunk_frames=64).session("p") as session:
        for _ in range(64):
            session.add_frame(frame)
    (record,) = read_dataset(tmp_path).sessions
    stored = (record.directory / record.chunks[0].file).stat().st_size
    assert stored < 64 * frame.nbytes / 20


_KILLED_WRITER = """
import os, signal, sys
import numpy as np
from gameai.behaviour.dataset import DatasetWriter
writer = DatasetWriter(sys.argv[1], game_id="toy", classes=("fast", "slow", "still"),
                       frame_size=(40, 48), sample_fps=4.0, chunk_frames=4)
session = writer.session("p1", session_id="killed")
for i in range(10):
    session.add_frame(np.full((40, 48, 3), i, dtype=np.uint8), label="slow" if i < 6 else "fast")
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_writer_loses_only_its_unfinished_chunk(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_KILLED_WRITER), str(tmp_path)], check=False
    )
    assert result.returncode != 0  # killed
    (record,) = read_dataset(tmp_path).sessions
    assert not record.closed and record.frame_count == 8  # two chunks of 4; the last 2 frames lost
    assert [int(frame[0, 0, 0]) for frame in record.frames()] == list(range(8))
    assert record.label_runs() == [LabelRun(0, 6, "slow"), LabelRun(6, 8, "fast")]
    # A chunk written but not yet listed, a temporary file and a session without session.json are ignored.
    (record.directory / "chunk-000002.npz").write_bytes(b"half")
    (record.directory / ".session.json.123.tmp").write_text("{")
    (tmp_path / "sessions" / "empty").mkdir()
    data = read_dataset(tmp_path)
    assert [s.frame_count for s in data.sessions] == [8]
    assert len(data.skipped) == 1 and "empty: no session.json" in data.skipped[0]


def test_the_manifest_hash_follows_frames_and_labels(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    session = writer.session("p", session_id="s")
    session.add_frame(_frames(1)[0], label="fast")
    session.flush()
    first = read_dataset(tmp_path).manifest_sha256()
    assert read_dataset(tmp_path).manifest_sha256() == first
    session.add_frame(_frames(1, seed=1)[0])
    session.close()
    assert read_dataset(tmp_path).manifest_sha256() != first


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"classes": ("fast", "unknown")}, "'unknown' is reserved"),
        ({"classes": ("fast",)}, "two or more"),
        ({"classes": ("fast", "fast")}, "different from each other"),
        ({"classes": "fast,slow"}, "lists of labels"),
        ({"accusation_classes": ("bot_like",)}, "must be some of the classes"),
        ({"frame_size": (20, 84)}, "ints >= 36"),
        ({"sample_fps": 0}, "sample_fps must be a number > 0"),
        ({"game_id": "../up"}, "game_id must be"),
        ({"chunk_frames": 0}, "chunk_frames"),
    ],
)
def test_invalid_metadata_is_refused(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _writer(tmp_path, **overrides)
    assert not (tmp_path / DATASET_FILE).exists()


def test_a_dataset_with_other_metadata_is_refused(tmp_path: Path) -> None:
    _writer(tmp_path)
    with pytest.raises(ValueError, match=r"describes another dataset \(classes: \['fast', 'slow', 'still'\] "
                       r"there, \['fast', 'slow'\] asked; accusation_classes"):  # fmt: skip
        _writer(tmp_path, classes=("fast", "slow"), accusation_classes=())
    with pytest.raises(ValueError, match=r"sample_fps: 4\.0 there, 5\.0 asked"):
        _writer(tmp_path, sample_fps=5.0)
    assert read_info(tmp_path).classes == CLASSES  # untouched
    with pytest.raises(FileNotFoundError, match="not a behaviour dataset"):
        read_dataset(tmp_path / "nothing")


def test_bad_frames_and_labels_are_refused(tmp_path: Path) -> None:
    session = _writer(tmp_path).session("p")
    with pytest.raises(
        ValueError, match=r"a frame must be \(40, 48, 3\) uint8 RGB.*downscale_frame\(surface, \(48, 40\)\)"
    ):
        session.add_frame(np.zeros((48, 40, 3), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8"):
        session.add_frame(np.zeros((*SIZE, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="a frame must be"):
        session.add_frame([[0]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"label 'jumpy' is not one of the dataset's classes"):
        session.set_label("jumpy")
    with pytest.raises(ValueError, match=r"'unknown' \(reserved"):
        session.add_frame(np.zeros((*SIZE, 3), dtype=np.uint8), label="unknown")
    assert session.frame_count == 0  # nothing refused was kept
    with pytest.raises(ValueError, match="source must be one of"):
        _writer(tmp_path).session("p", source="camera")
    with pytest.raises(ValueError, match="session_id must be"):
        _writer(tmp_path).session("p", session_id="a/b")
    with pytest.raises(ValueError, match="player_id"):
        _writer(tmp_path).session("")
    session.close()
    session.close()  # twice: nothing happens
    with pytest.raises(ValueError, match="is closed"):
        session.add_frame(np.zeros((*SIZE, 3), dtype=np.uint8))


def test_delete_player_removes_every_session_of_that_player_only(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    for player, session_id in (("alice", "a1"), ("bob", "b1"), ("alice", "a2")):
        with writer.session(player, session_id=session_id) as session:
            session.add_frame(_frames(1)[0], label="slow")
    live = writer.session("alice", session_id="a3")  # still being written
    live.add_frame(_frames(1)[0], label="fast")
    live.flush()
    assert sorted(delete_player(tmp_path, "alice")) == ["a1", "a2", "a3"]
    data = read_dataset(tmp_path)
    assert [s.session_id for s in data.sessions] == ["b1"] and data.players == ("bob",)
    assert [p.name for p in (tmp_path / "sessions").iterdir()] == ["b1"]  # nothing hidden left
    for _ in range(5):  # its writer keeps nothing more
        live.add_frame(_frames(1)[0])
    live.close()
    assert live.deleted and [s.session_id for s in read_dataset(tmp_path).sessions] == ["b1"]
    assert delete_player(tmp_path, "nobody") == []
