"""Windows: K consecutive frames of one match of one player, laid out as the server's ring buffer."""

from __future__ import annotations

import numpy as np

from gameai.behaviour.model import frames_to_input
from gameai.session.frames import FrameRingBuffer
from gameai.training.behaviour.dataset import WindowDataset, evenly_spaced, window_starts


def test_windows_never_straddle_matches_or_players() -> None:
    player = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    match = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 0])
    assert window_starts(player, match, 3).tolist() == [0, 3, 6, 7]
    assert window_starts(player, match, 4).tolist() == [6]
    assert window_starts(player, match, 1).tolist() == list(range(10))
    assert window_starts(player[:2], match[:2], 3).tolist() == []


def test_a_window_is_what_the_server_ring_buffer_holds() -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (10, 36, 36, 3), dtype=np.uint8)
    zeros = np.zeros(10, dtype=np.int32)
    data = WindowDataset(
        frames, np.full(10, 2, dtype=np.int64), zeros, zeros, window_starts(zeros, zeros, 4), 4
    )
    ring = FrameRingBuffer(4, 36, 36)
    for frame in frames[:7]:
        ring.push(frame)
    window = data.windows(np.array([3]))[0]  # frames 3..6, oldest first
    np.testing.assert_array_equal(window, ring.window())
    x, y = data.batch(np.array([3, 0]))
    np.testing.assert_array_equal(x[0], frames_to_input(ring.window()[None])[0])
    assert x.shape == (2, 12, 36, 36) and y.tolist() == [2, 2]


def test_evenly_spaced_subset() -> None:
    assert evenly_spaced(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = evenly_spaced(100, 5)
    assert picked.tolist() == [0, 25, 50, 74, 99]


def test_a_window_ends_when_its_last_frame_of_the_players_play_has_been_sent() -> None:
    players = np.array([0] * 10 + [1] * 8, dtype=np.int32)
    matches = np.array([0] * 10 + [0] * 4 + [1] * 4, dtype=np.int32)  # player 1 starts a new match at frame 4
    starts = window_starts(players, matches, 4)
    frames = np.zeros((18, 2, 2, 3), dtype=np.uint8)
    data = WindowDataset(frames, np.zeros(18, dtype=np.int64), players, matches, starts, 4)
    seconds = data.window_end_seconds(sample_fps=5.0)
    # Player 0: windows end at frames 4..10 of its play; player 1: at 4, then 8 (its second match).
    np.testing.assert_allclose(seconds, np.array([4, 5, 6, 7, 8, 9, 10, 4, 8]) / 5.0)
