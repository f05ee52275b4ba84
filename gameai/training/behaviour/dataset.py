"""Windows of K consecutive frames out of a recorded split (see :mod:`.record`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from gameai.behaviour.model import frames_to_input
from gameai.training.behaviour.split_file import FrameArray, read_compressed_frames


@dataclass
class WindowDataset:
    """A split's frames and the start of every valid window.

    A window starts at frame ``s`` when frames ``s .. s+K-1`` belong to one match of one
    player; its label is that player's style.
    """

    frames: FrameArray
    """(F, H, W, 3) every frame of the split, as one array or each frame compressed
    (:class:`~gameai.training.behaviour.split_file.CompressedFrames`, read the same way)."""
    labels: npt.NDArray[np.int64]
    """(F,) class index of each frame."""
    players: npt.NDArray[np.int32]
    """(F,) player index of each frame."""
    matches: npt.NDArray[np.int32]
    """(F,) the player's match number of each frame."""
    starts: npt.NDArray[np.int64]
    """(N,) first frame of each window."""
    k: int
    """Frames per window."""
    player_xy: npt.NDArray[np.float32] | None = None
    """(F, 2) where the player is drawn in each frame (keypoint coordinates, NaN while dead);
    None for recordings made before positions were kept."""
    nearest_enemy_xy: npt.NDArray[np.float32] | None = None
    """(F, 2) where the living enemy nearest the player is drawn in each frame (NaN while the
    player is dead or no enemy lives); None for recordings made before format 3."""
    sessions: npt.NDArray[np.int32] | None = None
    """(F,) the session (one stream a server smooths on its own) of each frame; None: one per
    player (a recording). A behaviour dataset's player may have several sessions."""
    frame_seconds: npt.NDArray[np.float64] | None = None
    """(F,) seconds of its session's play a server has seen once each frame arrived (``(i + 1) /
    sample_fps`` for the session's frame ``i``); None: a player's frames are consecutive from its
    first (a recording). A behaviour dataset leaves unlabelled frames out, so its frames are not."""

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def window_labels(self) -> npt.NDArray[np.int64]:
        """(N,) the class of each window."""
        return self.labels[self.starts]

    @property
    def window_players(self) -> npt.NDArray[np.int32]:
        """(N,) the player of each window."""
        return self.players[self.starts]

    @property
    def window_sessions(self) -> npt.NDArray[np.int32]:
        """(N,) the session of each window (its player's where ``sessions`` is None)."""
        return self.window_players if self.sessions is None else self.sessions[self.starts]

    def window_end_seconds(self, sample_fps: float) -> npt.NDArray[np.float64]:
        """(N,) seconds of its session's play streamed once each window is complete.

        The window's last frame is frame ``j`` (counted from 0) of its player's frames, so a
        server that started the session at the player's first frame has seen ``(j + 1) /
        sample_fps`` seconds of play. A player's frames are consecutive (the recording is
        player-major). With ``frame_seconds``, its value at the window's last frame.
        """
        if self.frame_seconds is not None:
            return self.frame_seconds[self.starts + self.k - 1]
        _, first, player_of_frame = np.unique(self.players, return_index=True, return_inverse=True)
        first_frame = first[player_of_frame]  # (F,) the first frame of each frame's player
        last = self.starts + self.k - 1
        return (last - first_frame[self.starts] + 1) / sample_fps

    def windows(self, index: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """Windows ``index`` as ``(B, K, H, W, 3)``, oldest first (as the server's ring buffer holds them)."""
        starts = self.starts[index]
        return self.frames[starts[:, None] + np.arange(self.k)]  # (B, K, H, W, 3)

    def batch(self, index: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Network input ``(B, K*3, H, W)`` uint8 and labels ``(B,)`` of windows ``index``."""
        return frames_to_input(self.windows(index)), self.window_labels[index]

    def clip_starts(self, length: int) -> npt.NDArray[np.int64]:
        """First frames of every run of ``length`` frames of one match of one player."""
        return window_starts(self.players, self.matches, length)

    def clips(
        self, starts: npt.NDArray[np.int64], length: int
    ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
        """Clips ``(B, length, 3, H, W)`` uint8 starting at ``starts`` and their labels ``(B,)``."""
        frames = self.frames[starts[:, None] + np.arange(length)]  # (B, L, H, W, 3)
        return np.ascontiguousarray(np.moveaxis(frames, -1, 2)), self.labels[starts]

    def positions(self, of: str) -> npt.NDArray[np.float32] | None:
        """``(F, 2)`` where the player (``of="player"``) or the living enemy nearest it
        (``"nearest_enemy"``) is in every frame; None if the recording does not hold them."""
        return {"player": self.player_xy, "nearest_enemy": self.nearest_enemy_xy}[of]

    def clip_positions(
        self, starts: npt.NDArray[np.int64], length: int, of: str = "player"
    ) -> npt.NDArray[np.float32]:
        """:meth:`positions` ``(B, length, 2)`` in every frame of the clips at ``starts``.

        Raises:
            ValueError: If the recording has no such positions.
        """
        positions = self.positions(of)
        if positions is None:
            raise ValueError(f"this recording has no {of.replace('_', ' ')} positions: record it again")
        return positions[starts[:, None] + np.arange(length)]


def window_starts(player: np.ndarray, match: np.ndarray, k: int) -> npt.NDArray[np.int64]:
    """Frames that start a window of ``k`` frames of one match of one player.

    Args:
        player: (F,) player index per frame.
        match: (F,) match number per frame.
        k: Frames per window.

    Returns:
        (N,) start indices, ascending.
    """
    n = len(player) - k + 1
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    same = np.ones(n, dtype=bool)
    for offset in range(1, k):
        same &= (player[offset : offset + n] == player[:n]) & (match[offset : offset + n] == match[:n])
    return np.flatnonzero(same).astype(np.int64)


def load_split(
    data_dir: Path | str, split: str, k: int, frames: Literal["array", "compressed"] = "array"
) -> WindowDataset:
    """Load ``<data_dir>/<split>.npz`` and index its windows of ``k`` frames.

    Args:
        data_dir: The recording.
        split: Which split.
        k: Frames per window.
        frames: How to hold the frames: ``"array"`` one array; ``"compressed"`` each frame
            compressed (:class:`~gameai.training.behaviour.split_file.CompressedFrames`: about
            12x less memory, read like the array; what ``fit``, ``eval`` and ``calibrate``
            use).

    Raises:
        FileNotFoundError: If the split was not recorded.
    """
    path = Path(data_dir) / f"{split}.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: run `gameai train behaviour record` first")
    with np.load(path) as data:  # reads only the members asked for
        player = data["player"]
        pixels: FrameArray = (
            data["frames"] if frames == "array" else read_compressed_frames(path, len(player))
        )
        match = data["match"]
        labels = data["label"].astype(np.int64)
        player_xy = data["player_xy"] if "player_xy" in data.files else None
        enemy_xy = data["nearest_enemy_xy"] if "nearest_enemy_xy" in data.files else None
    starts = window_starts(player, match, k)
    return WindowDataset(pixels, labels, player, match, starts, k, player_xy, enemy_xy)


def evenly_spaced(n: int, count: int) -> npt.NDArray[np.int64]:
    """``min(n, count)`` indices spread evenly over ``range(n)`` (a fixed, representative subset)."""
    if count >= n:
        return np.arange(n, dtype=np.int64)
    return np.linspace(0, n - 1, count).round().astype(np.int64)
