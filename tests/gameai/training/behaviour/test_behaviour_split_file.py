"""A split's npz written and read a few frames at a time (frames held compressed, read in runs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gameai.training.behaviour.dataset import load_split
from gameai.training.behaviour.split_file import CompressedFrames, read_frame_rows, write_npz


def frames_of(count: int, seed: int = 0) -> np.ndarray:
    """Frames like a game's: flat colours (compressible) with a little noise."""
    rng = np.random.default_rng(seed)
    frames = np.repeat(rng.integers(0, 256, (count, 1, 1, 3), dtype=np.uint8), 84 * 84, axis=1)
    frames = frames.reshape(count, 84, 84, 3)
    frames[:, rng.integers(84), :, :] = rng.integers(0, 256, (count, 84, 3), dtype=np.uint8)
    return frames


def test_compressed_frames_give_back_what_was_set_and_zeros_where_nothing_was() -> None:
    frames = frames_of(5)
    held = CompressedFrames(6, (84, 84, 3))
    for row, frame in enumerate(frames):
        held[row] = frame
    np.testing.assert_array_equal(held[0:5], frames)
    np.testing.assert_array_equal(held[5], np.zeros((84, 84, 3), dtype=np.uint8))
    assert len(held) == 6 and held.held_bytes < frames.nbytes / 10
    with pytest.raises(ValueError, match=r"\(84, 84, 3\) uint8"):
        held[0] = frames[0, :42]


def test_compressed_frames_are_indexed_like_the_array() -> None:
    """``fit`` trains from them: slices, index arrays of any shape (clips, windows), negatives."""
    frames = frames_of(30, seed=3)
    held = CompressedFrames(30, (84, 84, 3))
    for row, frame in enumerate(frames):
        held[row] = frame
    clips = np.array([[0, 1, 2], [27, 28, 29]])
    for index in (slice(5, 9), slice(None, None, 7), clips, np.array([4]), np.array([-1, 0])):
        np.testing.assert_array_equal(held[index], frames[index])
    assert held[clips].shape == (2, 3, 84, 84, 3)
    with pytest.raises(IndexError):
        held[np.array([30])]


def test_written_npz_is_what_numpy_reads_and_runs_of_rows_read_back(tmp_path: Path) -> None:
    frames = frames_of(50, seed=1)
    held = CompressedFrames(50, (84, 84, 3))
    for row, frame in enumerate(frames):
        held[row] = frame
    player = np.repeat(np.arange(5, dtype=np.int32), 10)
    write_npz(tmp_path / "s.npz", {"frames": held, "player": player}, chunk_rows=7)
    with np.load(tmp_path / "s.npz") as data:
        np.testing.assert_array_equal(data["frames"], frames)
        np.testing.assert_array_equal(data["player"], player)
    runs = [(0, 10), (10, 13), (20, 50)]  # consecutive, then a skip
    for (start, stop), rows in zip(runs, read_frame_rows(tmp_path / "s.npz", runs), strict=True):
        np.testing.assert_array_equal(rows, frames[start:stop])
    np.savez_compressed(tmp_path / "numpy.npz", frames=frames)  # numpy's own file reads the same
    (rows,) = read_frame_rows(tmp_path / "numpy.npz", [(3, 9)])
    np.testing.assert_array_equal(rows, frames[3:9])
    with pytest.raises(ValueError, match="out of order or outside 50 rows"):
        list(read_frame_rows(tmp_path / "s.npz", [(10, 20), (5, 8)]))
    with pytest.raises(ValueError, match="outside 50 rows"):
        list(read_frame_rows(tmp_path / "s.npz", [(40, 51)]))


def test_a_split_loaded_compressed_gives_the_windows_of_the_array(tmp_path: Path) -> None:
    sizes = [12, 30, 7, 12, 25]  # frames per player
    player = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    match = np.concatenate([np.arange(n, dtype=np.int32) // 10 for n in sizes])  # a new match every 10
    frames = frames_of(len(player), seed=2)
    np.savez_compressed(
        tmp_path / "test.npz",
        frames=frames,
        player=player,
        match=match,
        label=(player % 6).astype(np.int8),
    )
    whole = load_split(tmp_path, "test", 4)
    compressed = load_split(tmp_path, "test", 4, frames="compressed")
    assert isinstance(compressed.frames, CompressedFrames)
    np.testing.assert_array_equal(compressed.starts, whole.starts)
    np.testing.assert_array_equal(compressed.window_labels, whole.window_labels)
    windows = whole.windows(np.arange(len(whole)))
    np.testing.assert_array_equal(compressed.windows(np.arange(len(compressed))), windows)
    np.testing.assert_array_equal(compressed.frames[0 : len(frames)], frames)
