"""A session's recorder: writes in order off the event loop, bounded, stops once on a failure."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from gameai.behaviour.dataset import DatasetWriter, SessionWriter, read_dataset
from gameai.services.session_recorder import SessionRecorder
from gameai.testing.tiny_models import random_frames

CLASSES = ("fast", "slow")


def _writer(path: Path) -> DatasetWriter:
    return DatasetWriter(path, game_id="game", classes=CLASSES, frame_size=(36, 36), chunk_frames=4)


async def _wait(event: threading.Event) -> None:
    async with asyncio.timeout(10):
        while not event.is_set():
            await asyncio.sleep(0.005)


async def test_frames_and_their_labels_are_written_in_order_on_the_executor(tmp_path: Path) -> None:
    dataset = _writer(tmp_path / "game")
    threads: set[str] = set()

    def open_writer() -> SessionWriter:
        threads.add(threading.current_thread().name)
        return dataset.session("ann", source="server")

    frames = random_frames(10, seed=0, size=(36, 36))
    labels = [None, None, "fast", "fast", "fast", "slow", "slow", None, None, "fast"]
    stops: list[str] = []
    with ThreadPoolExecutor(1, thread_name_prefix="recorder-test") as executor:
        recorder = SessionRecorder(open_writer, executor, stops.append)
        for pixels, label in zip(frames, labels, strict=True):
            assert not recorder.add_frame(pixels, label)
        recorder.close()
        await _wait(recorder.finished)
    assert threads == {"recorder-test_0"} and stops == []
    (session,) = read_dataset(dataset.path).sessions
    assert (session.player_id, session.source, session.closed) == ("ann", "server", True)
    assert all(np.array_equal(a, b) for a, b in zip(session.frames(), frames, strict=True))
    assert session.frame_labels() == labels


async def test_a_writer_that_falls_behind_drops_new_frames_instead_of_growing(tmp_path: Path) -> None:
    dataset = _writer(tmp_path / "game")
    release = threading.Event()
    frames = random_frames(20, seed=1, size=(36, 36))
    with ThreadPoolExecutor(1) as executor:
        executor.submit(release.wait)  # the writer's thread is busy elsewhere
        recorder = SessionRecorder(
            lambda: dataset.session("ann"), executor, lambda reason: None, max_backlog=5
        )
        dropped = [recorder.add_frame(pixels, "slow") for pixels in frames]
        assert dropped == [False] * 5 + [True] * 15 and recorder.dropped_frames == 15
        release.set()
        recorder.close()
        await _wait(recorder.finished)
    (session,) = read_dataset(dataset.path).sessions
    assert all(np.array_equal(a, b) for a, b in zip(session.frames(), frames[:5], strict=True))
    assert session.frame_count == 5


async def test_a_failure_stops_the_recording_and_is_told_once(tmp_path: Path) -> None:
    (tmp_path / "game").write_text("not a folder")
    stops: list[str] = []
    with ThreadPoolExecutor(1) as executor:
        recorder = SessionRecorder(lambda: _writer(tmp_path / "game").session("ann"), executor, stops.append)
        for pixels in random_frames(6, seed=2, size=(36, 36)):
            recorder.add_frame(pixels, None)
        await _wait(recorder.finished)
        for pixels in random_frames(3, seed=3, size=(36, 36)):
            assert not recorder.add_frame(pixels, None)  # ignored: it stopped
        recorder.close()
        await asyncio.sleep(0.05)  # the stop reaches the event loop
    assert len(stops) == 1 and "could not write" in stops[0] and str(tmp_path) not in stops[0]
    assert recorder.stopped == stops[0]
