"""Labelled gameplay of any game, for the behaviour model: the dataset format, a writer, a reader.

A game studio fills a dataset with its own game's frames and its own labels (from its scripted
or bot players through :class:`DatasetWriter`, from a server's opt-in recording, or by
``gameai train behaviour import``), and ``gameai train behaviour all --dataset DIR`` trains the
behaviour CNN on it. No torch here and nothing of ``gameai.training``: the server records into
it too.

A dataset is a directory::

    DIR/dataset.json                       what the dataset is (written once)
    DIR/sessions/<session_id>/session.json  one session of one player (rewritten atomically)
    DIR/sessions/<session_id>/chunk-000000.npz, chunk-000001.npz, ...  its frames

``dataset.json``::

    {"format": "gameai-behaviour-dataset", "format_version": 1, "game_id": "my-game",
     "classes": ["fast", "slow", "still"], "accusation_classes": [],
     "frame_size": [84, 84], "sample_fps": 5.0}

``classes``: the labels, in the model's output order (two or more; ``unknown`` is reserved for
the server's answer to frames unlike the game's). ``accusation_classes``: those a game may act
against a player on (say ``bot_like``); the training calibrates their precision. ``frame_size``:
``[height, width]`` of every frame (at least 36 each, the model's minimum). ``sample_fps``:
frames per second of play (the rate a client sends at).

``session.json``::

    {"format": "gameai-behaviour-session", "format_version": 1, "session_id": "...",
     "player_id": "...", "source": "api", "created": "2025-01-31T12:00:00Z", "closed": true,
     "frames": 130, "chunks": [{"file": "chunk-000000.npz", "frames": 64, "sha256": "..."}, ...],
     "labels": [{"from_frame": 0, "label": "fast"}, {"from_frame": 90, "label": null}]}

``player_id``: whose play it is (the training splits players, never sessions, so that all of a
player's frames lie in one split). ``source``: ``api``, ``server`` or ``import``. ``labels``: the
changes of label, in order; a change holds from its frame to the next change. Frames before the
first change, or labelled ``null``, are unlabelled and not trained on. ``frames``: how many frames
the listed chunks hold; a change past them means nothing yet.

A chunk is an uncompressed ``.npz`` (``np.load`` reads it) of two arrays: ``data`` (uint8) the
frames' bytes one after another, each frame ``(height, width, 3)`` uint8 RGB compressed on its own
with zlib (game frames are flat colours: about 12x smaller), and ``offsets`` (int64, frames + 1)
where each frame's bytes begin and the last ends.

Crash safety: a session's frames are held (compressed) until ``chunk_frames`` have gathered, then
written as a chunk (to a temporary file, flushed to disk, renamed), then ``session.json`` is
rewritten the same way to list it. A writer killed at any moment leaves a dataset that reads
back: it loses the frames of the chunk it had not finished (a chunk on disk but not yet listed
is ignored). A session the writer never closed reads as ``closed: false``.

Example, a game's scripted players playing headless::

    from gameai.behaviour.dataset import DatasetWriter
    from gameai.client.frames import downscale_frame

    writer = DatasetWriter("data/my-game", game_id="my-game", classes=("rusher", "camper", "bot_like"),
                           accusation_classes=("bot_like",), frame_size=(84, 84), sample_fps=5.0)
    with writer.session(player_id=f"scripted-{seed}") as session:
        session.set_label("rusher")
        for tick in range(ticks):
            game.step(policy(game))
            if tick % (game.tick_rate // 5) == 0:  # 5 frames per second of play
                game.draw(surface)  # the world surface the game sends the server, not the HUD
                session.add_frame(downscale_frame(surface, (84, 84)))

Reading: :func:`read_dataset` (the metadata, every session and its label runs; frames are read
when asked for, :meth:`SessionRecord.frames`). :func:`delete_player` removes every session of a
player.
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import io
import itertools
import json
import math
import os
import re
import shutil
import uuid
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import numpy as np
import numpy.typing as npt

FORMAT: Final = "gameai-behaviour-dataset"
SESSION_FORMAT: Final = "gameai-behaviour-session"
FORMAT_VERSION: Final = 1
DATASET_FILE: Final = "dataset.json"
SESSIONS_DIR: Final = "sessions"
SESSION_FILE: Final = "session.json"
#: Labels no dataset may use as a class: the server answers ``unknown`` for frames unlike its game's.
RESERVED_LABELS: Final = ("unknown",)
#: Where a session's frames came from.
SOURCES: Final = ("api", "server", "import")
#: Frames a session holds before it writes them as a chunk (at 5 fps: 12.8 s of play).
DEFAULT_CHUNK_FRAMES: Final = 64
#: zlib level of each stored frame (1: fast; flat-coloured frames compress about as well at 9).
FRAME_COMPRESSION_LEVEL: Final = 1
#: The behaviour model's smallest frame side (:class:`gameai.behaviour.model.BehaviourNetConfig`).
MIN_FRAME_SIDE: Final = 36
#: Game and session ids name directories: letters, digits, ``.``, ``_``, ``-``; a letter or digit first.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MAX_PLAYER_ID = 256


class _Keep(enum.Enum):
    KEEP = "keep"


#: :meth:`SessionWriter.add_frame`'s default: the frame keeps the session's current label.
KEEP_LABEL: Final = _Keep.KEEP


def _check_id(kind: str, value: object, longest: int = 128) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value) or len(value) > longest:
        raise ValueError(
            f"{kind} must be 1-{longest} letters, digits, '.', '_' or '-', starting with a letter or "
            f"digit, got {value!r}"
        )
    return value


def _utc_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _synced_temp_file(path: Path, data: bytes) -> Path:
    """Write ``data`` to a new temporary file beside ``path`` and flush it to disk; return its path."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, flush it to disk, rename it over ``path``."""
    tmp = _synced_temp_file(path, data)
    try:
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _create_once(path: Path, data: bytes) -> None:
    """Write ``path`` whole unless it exists (then leave it: another writer made it first)."""
    tmp = _synced_temp_file(path, data)
    try:
        try:
            os.link(tmp, path)  # fails if it exists: of two writers creating it, one wins whole
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links
            if not path.exists():
                os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=1) + "\n").encode("utf-8")


@dataclass(frozen=True)
class DatasetInfo:
    """What a dataset holds: its game, classes, frame size and rate (``dataset.json``)."""

    game_id: str
    """The game's id (as its client sends in ``hello``; names the models directory entry)."""
    classes: tuple[str, ...]
    """The labels, in the model's output order."""
    accusation_classes: tuple[str, ...] = ()
    """Classes a game may act against a player on (e.g. ``bot_like``): the training calibrates
    their precision (empty: none)."""
    frame_size: tuple[int, int] = (84, 84)
    """(height, width) of every frame in pixels."""
    sample_fps: float = 5.0
    """Frames per second of play."""

    def __post_init__(self) -> None:
        _check_id("game_id", self.game_id, 64)
        classes = self.classes
        if (
            not isinstance(classes, tuple)
            or len(classes) < 2
            or not all(isinstance(c, str) and c.strip() == c and c for c in classes)
        ):
            raise ValueError(f"classes must be two or more non-empty labels, got {classes!r}")
        if len(set(classes)) != len(classes):
            raise ValueError(f"classes must be different from each other, got {classes!r}")
        reserved = [c for c in classes if c in RESERVED_LABELS]
        if reserved:
            raise ValueError(
                f"{reserved[0]!r} is reserved (the server's answer to frames unlike the game's): "
                "choose another class name"
            )
        strays = [c for c in self.accusation_classes if c not in classes]
        if not isinstance(self.accusation_classes, tuple) or strays:
            raise ValueError(f"accusation_classes must be some of the classes {classes}, got {strays}")
        height, width = self.frame_size
        if not all(isinstance(v, int) and v >= MIN_FRAME_SIDE for v in (height, width)):
            raise ValueError(
                f"frame_size must be (height, width) of ints >= {MIN_FRAME_SIDE} (the behaviour "
                f"model's smallest), got {self.frame_size!r}"
            )
        if not (isinstance(self.sample_fps, int | float) and math.isfinite(self.sample_fps)):
            raise ValueError(f"sample_fps must be a number > 0, got {self.sample_fps!r}")
        if self.sample_fps <= 0:
            raise ValueError(f"sample_fps must be a number > 0, got {self.sample_fps!r}")

    @property
    def frame_shape(self) -> tuple[int, int, int]:
        """``(height, width, 3)``: the shape of every frame."""
        return (self.frame_size[0], self.frame_size[1], 3)

    def to_json(self) -> dict[str, Any]:
        """``dataset.json``'s content."""
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "game_id": self.game_id,
            "classes": list(self.classes),
            "accusation_classes": list(self.accusation_classes),
            "frame_size": list(self.frame_size),
            "sample_fps": float(self.sample_fps),
        }

    @classmethod
    def from_json(cls, data: Any, source: Path) -> DatasetInfo:
        """Read ``dataset.json``'s content.

        Raises:
            ValueError: If it is not a dataset of this format and version, or a value is invalid.
        """
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ValueError(f"{source}: not a {FORMAT} file")
        if data.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{source}: format_version {data.get('format_version')!r} unsupported")
        try:
            size = data["frame_size"]
            return cls(
                game_id=data["game_id"],
                classes=tuple(data["classes"]),
                accusation_classes=tuple(data.get("accusation_classes", ())),
                frame_size=(size[0], size[1]),
                sample_fps=float(data["sample_fps"]),
            )
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise ValueError(f"{source}: {exc}") from None


def read_info(path: Path | str) -> DatasetInfo:
    """The metadata of the dataset at ``path`` (its ``dataset.json``).

    Raises:
        FileNotFoundError: If ``path`` holds no dataset.
        ValueError: If ``dataset.json`` is garbled or of another format.
    """
    file = Path(path) / DATASET_FILE
    if not file.is_file():
        raise FileNotFoundError(f"{file} missing: {path} is not a behaviour dataset")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{file}: not JSON ({exc})") from None
    return DatasetInfo.from_json(data, file)


@dataclass(frozen=True)
class LabelRun:
    """Consecutive frames of a session with one label."""

    start: int
    """Its first frame (counted from the session's first, 0)."""
    stop: int
    """One past its last frame."""
    label: str | None
    """The label (None: unlabelled)."""

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk file of a session."""

    file: str
    """Its name in the session's directory."""
    frames: int
    """Frames it holds."""
    sha256: str
    """SHA-256 of the file."""


@dataclass(frozen=True)
class SessionRecord:
    """One session of a dataset as read back; its frames are read when asked for."""

    directory: Path
    """The session's directory."""
    session_id: str
    """Its id (the directory's name)."""
    player_id: str
    """Whose play it is."""
    source: str
    """``api``, ``server`` or ``import``."""
    created: str
    """When it was started, ISO 8601 UTC."""
    closed: bool
    """Whether its writer closed it (False: killed, or still writing)."""
    frame_shape: tuple[int, int, int]
    """``(height, width, 3)`` of every frame."""
    chunks: tuple[ChunkRecord, ...]
    """Its chunk files, in order."""
    label_changes: tuple[tuple[int, str | None], ...]
    """``(from_frame, label)`` changes, in order, within the frames held."""

    @property
    def frame_count(self) -> int:
        """Frames the session holds."""
        return sum(chunk.frames for chunk in self.chunks)

    def label_runs(self) -> list[LabelRun]:
        """The session's frames as runs of one label each, in order (unlabelled runs too)."""
        count = self.frame_count
        runs: list[LabelRun] = []
        starts: list[tuple[int, str | None]] = [(0, None), *self.label_changes]
        for (start, label), (stop, _) in zip(starts, [*starts[1:], (count, None)], strict=True):
            if stop > start:
                runs.append(LabelRun(start, stop, label))
        return runs

    def frame_labels(self) -> list[str | None]:
        """The label of every frame (None: unlabelled)."""
        labels: list[str | None] = []
        for run in self.label_runs():
            labels += [run.label] * len(run)
        return labels

    def compressed_frames(self, start: int = 0, stop: int | None = None) -> list[bytes]:
        """Frames ``start`` .. ``stop - 1``, each as stored (zlib-compressed ``(H, W, 3)`` uint8 bytes).

        Raises:
            ValueError: If a chunk file is missing or damaged.
        """
        stop = self.frame_count if stop is None else min(stop, self.frame_count)
        out: list[bytes] = []
        first = 0
        for chunk in self.chunks:
            last = first + chunk.frames
            if last > start and first < stop:
                blobs = _read_chunk(self.directory / chunk.file, chunk.frames)
                out += blobs[max(start - first, 0) : min(stop, last) - first]
            first = last
        return out

    def frames(self, start: int = 0, stop: int | None = None) -> npt.NDArray[np.uint8]:
        """Frames ``start`` .. ``stop - 1`` as ``(N, H, W, 3)`` uint8 (only their chunks are read).

        Raises:
            ValueError: If a chunk file is missing or damaged.
        """
        blobs = self.compressed_frames(start, stop)
        out = np.empty((len(blobs), *self.frame_shape), dtype=np.uint8)
        for i, blob in enumerate(blobs):
            out[i] = decompress_frame(blob, self.frame_shape)
        return out


def decompress_frame(blob: bytes, shape: tuple[int, int, int]) -> npt.NDArray[np.uint8]:
    """One stored frame back as a ``shape`` uint8 array.

    Raises:
        ValueError: If the bytes are not a compressed frame of that shape.
    """
    try:
        raw = zlib.decompress(blob)
    except zlib.error as exc:
        raise ValueError(f"a stored frame is damaged: {exc}") from None
    if len(raw) != shape[0] * shape[1] * shape[2]:
        raise ValueError(f"a stored frame has {len(raw)} bytes, not {shape} uint8")
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def _read_chunk(path: Path, frames: int) -> list[bytes]:
    try:
        with np.load(path) as chunk:
            offsets, data = chunk["offsets"], chunk["data"]
    except (OSError, KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable chunk ({exc})") from None
    if len(offsets) != frames + 1:
        raise ValueError(f"{path}: holds {len(offsets) - 1} frames, session.json says {frames}")
    raw = data.tobytes()
    bounds = offsets.tolist()
    return [raw[a:b] for a, b in itertools.pairwise(bounds)]


def _chunk_bytes(blobs: Sequence[bytes]) -> bytes:
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(b) for b in blobs])
    buffer = io.BytesIO()
    np.savez(buffer, offsets=offsets, data=np.frombuffer(b"".join(blobs), dtype=np.uint8))
    return buffer.getvalue()


@dataclass(frozen=True)
class BehaviourDataset:
    """A dataset as read back by :func:`read_dataset`."""

    path: Path
    """Its directory."""
    info: DatasetInfo
    """Its metadata."""
    sessions: tuple[SessionRecord, ...]
    """Every readable session, by session id."""
    skipped: tuple[str, ...] = ()
    """``"<session dir>: why"`` for each session directory that could not be read (e.g. a
    writer killed before its first ``session.json``)."""

    @property
    def players(self) -> tuple[str, ...]:
        """Every player id, sorted."""
        return tuple(sorted({session.player_id for session in self.sessions}))

    def manifest(self) -> dict[str, Any]:
        """What the dataset holds, as JSON data: its metadata and every session's player, frames,
        labels and chunks' SHA-256 (the training records the hash of this)."""
        return {
            "dataset": self.info.to_json(),
            "sessions": [
                {
                    "session_id": s.session_id,
                    "player_id": s.player_id,
                    "frames": s.frame_count,
                    "labels": [list(change) for change in s.label_changes],
                    "chunks": [c.sha256 for c in s.chunks],
                }
                for s in self.sessions
            ],
        }

    def manifest_sha256(self) -> str:
        """SHA-256 of :meth:`manifest` (canonical JSON): changes whenever a frame or label does."""
        canonical = json.dumps(self.manifest(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _read_session(directory: Path, info: DatasetInfo) -> SessionRecord:
    file = directory / SESSION_FILE
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no {SESSION_FILE}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{SESSION_FILE} is not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != SESSION_FORMAT:
        raise ValueError(f"{SESSION_FILE} is not a {SESSION_FORMAT} file")
    if data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{SESSION_FILE}: format_version {data.get('format_version')!r} unsupported")
    try:
        chunks = tuple(
            ChunkRecord(str(c["file"]), int(c["frames"]), str(c["sha256"])) for c in data["chunks"]
        )
        raw_changes = [(int(c["from_frame"]), c["label"]) for c in data["labels"]]
        record = {k: data[k] for k in ("session_id", "player_id", "source", "created")}
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{SESSION_FILE} is garbled ({exc!r})") from None
    for chunk in chunks:
        if not (directory / chunk.file).is_file():
            raise ValueError(f"its chunk {chunk.file} is missing")
    count = sum(chunk.frames for chunk in chunks)
    changes: list[tuple[int, str | None]] = []
    for at, label in raw_changes:
        if label is not None and label not in info.classes:
            raise ValueError(f"{SESSION_FILE} has the label {label!r}, not one of the classes {info.classes}")
        if at < count:  # changes past the frames held mean nothing yet
            changes.append((at, label))
    return SessionRecord(
        directory=directory,
        session_id=str(record["session_id"]),
        player_id=str(record["player_id"]),
        source=str(record["source"]),
        created=str(record["created"]),
        closed=bool(data.get("closed", False)),
        frame_shape=info.frame_shape,
        chunks=chunks,
        label_changes=tuple(changes),
    )


def _session_dirs(path: Path) -> list[Path]:
    root = path / SESSIONS_DIR
    if not root.is_dir():
        return []
    return sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))


def read_dataset(path: Path | str) -> BehaviourDataset:
    """Read a dataset's metadata and sessions (frames are read later, when asked for).

    Args:
        path: The dataset's directory.

    Returns:
        The dataset; sessions that cannot be read are listed in ``skipped``, not raised.

    Raises:
        FileNotFoundError: If ``path`` holds no dataset.
        ValueError: If ``dataset.json`` is garbled or of another format.
    """
    path = Path(path)
    info = read_info(path)
    sessions, skipped = [], []
    for directory in _session_dirs(path):
        try:
            sessions.append(_read_session(directory, info))
        except ValueError as exc:
            skipped.append(f"{directory}: {exc}")
    return BehaviourDataset(path, info, tuple(sessions), tuple(skipped))


def delete_player(path: Path | str, player_id: str) -> list[str]:
    """Remove every session of a player from a dataset.

    Each session's directory is first renamed to a hidden name (readers skip it at once), then
    removed; hidden leftovers of a deletion that was killed are removed too. A session of the
    player still being written stops recording (its writer's next chunk is dropped, see
    :attr:`SessionWriter.deleted`).

    Args:
        path: The dataset's directory.
        player_id: The player.

    Returns:
        The ids of the sessions removed.

    Raises:
        FileNotFoundError: If ``path`` holds no dataset.
    """
    path = Path(path)
    read_info(path)
    removed = []
    root = path / SESSIONS_DIR
    for directory in _session_dirs(path):
        try:
            data = json.loads((directory / SESSION_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("player_id") == player_id:
            hidden = root / f".deleted-{directory.name}-{uuid.uuid4().hex[:8]}"
            os.replace(directory, hidden)
            removed.append(directory.name)
    if root.is_dir():
        for leftover in root.glob(".deleted-*"):
            shutil.rmtree(leftover, ignore_errors=True)
    return removed


class SessionWriter:
    """Writes one session of one player into a dataset; made by :meth:`DatasetWriter.session`.

    Calling order: :meth:`set_label` / :meth:`add_frame` in any order, then :meth:`close` (or use
    it as a context manager). One thread at a time. Frames are written a chunk at a time (see the
    module docstring); :meth:`flush` writes the frames gathered so far at once.
    """

    def __init__(
        self, directory: Path, info: DatasetInfo, player_id: str, source: str, chunk_frames: int
    ) -> None:
        self._directory = directory
        self._info = info
        self._player_id = player_id
        self._source = source
        self._chunk_frames = chunk_frames
        self._created = _utc_now()
        self._chunks: list[ChunkRecord] = []
        self._pending: list[bytes] = []
        self._changes: list[tuple[int, str | None]] = []
        self._written = 0
        self._closed = False
        self._deleted = False
        directory.mkdir(parents=True, exist_ok=False)
        self._write_session_file()

    @property
    def session_id(self) -> str:
        """The session's id (its directory's name)."""
        return self._directory.name

    @property
    def frame_count(self) -> int:
        """Frames added so far (written or not)."""
        return self._written + len(self._pending)

    @property
    def label(self) -> str | None:
        """The label the next frame gets (None: unlabelled)."""
        return self._changes[-1][1] if self._changes else None

    @property
    def deleted(self) -> bool:
        """Whether the session was deleted while being written (:func:`delete_player`): then
        frames are no longer kept."""
        return self._deleted

    def _check_label(self, label: str | None) -> None:
        if label is not None and label not in self._info.classes:
            reserved = " (reserved: frames unlike the game's)" if label in RESERVED_LABELS else ""
            raise ValueError(
                f"label {label!r}{reserved} is not one of the dataset's classes {self._info.classes} "
                "(None: unlabelled)"
            )

    def set_label(self, label: str | None) -> None:
        """Label the frames added from now on (None: unlabelled, not trained on).

        Raises:
            ValueError: If ``label`` is not one of the dataset's classes, or the session is closed.
        """
        self._check_open()
        self._check_label(label)
        at = self.frame_count
        while self._changes and self._changes[-1][0] >= at:  # no frame has the last change yet
            self._changes.pop()
        if label != self.label:
            self._changes.append((at, label))

    def add_frame(self, frame: npt.NDArray[np.uint8], label: str | _Keep | None = KEEP_LABEL) -> None:
        """Add the next frame of play.

        Args:
            frame: ``(height, width, 3)`` uint8 RGB at the dataset's frame size (as
                :func:`gameai.client.frames.downscale_frame` makes it).
            label: This frame's label and the next ones' (as :meth:`set_label`); by default the
                current label.

        Raises:
            ValueError: If the frame's shape or dtype is wrong, the label is not one of the
                dataset's classes, or the session is closed.
        """
        self._check_open()
        shape = self._info.frame_shape
        if not isinstance(frame, np.ndarray) or frame.shape != shape or frame.dtype != np.uint8:
            got = (frame.shape, frame.dtype) if isinstance(frame, np.ndarray) else type(frame).__name__
            height, width = self._info.frame_size
            raise ValueError(
                f"a frame must be {shape} uint8 RGB, got {got}: downscale it with "
                f"gameai.client.frames.downscale_frame(surface, ({width}, {height}))"
            )
        if not isinstance(label, _Keep):
            self.set_label(label)
        if self._deleted:
            return
        self._pending.append(zlib.compress(np.ascontiguousarray(frame).data, FRAME_COMPRESSION_LEVEL))
        if len(self._pending) >= self._chunk_frames:
            self.flush()

    def flush(self) -> None:
        """Write the frames gathered so far as a chunk and list it in ``session.json``."""
        if not self._pending or self._deleted:
            return
        name = f"chunk-{len(self._chunks):06d}.npz"
        data = _chunk_bytes(self._pending)
        try:
            _write_atomically(self._directory / name, data)
            chunk = ChunkRecord(name, len(self._pending), hashlib.sha256(data).hexdigest())
            self._chunks.append(chunk)
            self._written += len(self._pending)
            self._pending = []
            self._write_session_file()
        except FileNotFoundError:
            if self._directory.is_dir():
                raise
            self._deleted = True  # deleted under us (delete_player): keep nothing more
            self._pending = []

    def close(self) -> None:
        """Write the last frames and mark the session closed (again: nothing happens)."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        if not self._deleted:
            try:
                self._write_session_file()
            except FileNotFoundError:
                self._deleted = True

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"session {self.session_id} is closed")

    def _write_session_file(self) -> None:
        data = {
            "format": SESSION_FORMAT,
            "format_version": FORMAT_VERSION,
            "session_id": self.session_id,
            "player_id": self._player_id,
            "source": self._source,
            "created": self._created,
            "closed": self._closed,
            "frames": self._written,
            "chunks": [{"file": c.file, "frames": c.frames, "sha256": c.sha256} for c in self._chunks],
            "labels": [{"from_frame": at, "label": label} for at, label in self._changes],
        }
        _write_atomically(self._directory / SESSION_FILE, _json_bytes(data))

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class DatasetWriter:
    """Creates a dataset, or opens one with the same metadata, and starts sessions in it.

    Args:
        path: The dataset's directory (created if needed).
        game_id: The game's id.
        classes: The labels, in the model's output order (``unknown`` is reserved).
        accusation_classes: Classes a game may act against a player on (some of ``classes``).
        frame_size: (height, width) of every frame.
        sample_fps: Frames per second of play.
        chunk_frames: Frames each session holds in memory before writing them (a killed writer
            loses at most these).

    Raises:
        ValueError: If a value is invalid, or ``path`` holds a dataset with other metadata
            (which fields differ is said).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        game_id: str,
        classes: Iterable[str],
        accusation_classes: Iterable[str] = (),
        frame_size: tuple[int, int] = (84, 84),
        sample_fps: float = 5.0,
        chunk_frames: int = DEFAULT_CHUNK_FRAMES,
    ) -> None:
        if not isinstance(chunk_frames, int) or chunk_frames < 1:
            raise ValueError(f"chunk_frames must be an int >= 1, got {chunk_frames!r}")
        if isinstance(classes, str) or isinstance(accusation_classes, str):
            raise ValueError("classes and accusation_classes are lists of labels, not one string")
        info = DatasetInfo(
            game_id=game_id,
            classes=tuple(classes),
            accusation_classes=tuple(accusation_classes),
            frame_size=(frame_size[0], frame_size[1]),
            sample_fps=float(sample_fps),
        )
        self.path = Path(path)
        self.chunk_frames = chunk_frames
        file = self.path / DATASET_FILE
        if not file.is_file():
            (self.path / SESSIONS_DIR).mkdir(parents=True, exist_ok=True)
            _create_once(file, _json_bytes(info.to_json()))
        existing = read_info(self.path)  # also when two writers created it at once
        if existing != info:
            ours, theirs = info.to_json(), existing.to_json()
            differ = [f"{k}: {theirs[k]!r} there, {ours[k]!r} asked" for k in ours if ours[k] != theirs[k]]
            raise ValueError(f"{file} describes another dataset ({'; '.join(differ)})")
        (self.path / SESSIONS_DIR).mkdir(exist_ok=True)
        self.info = info

    @classmethod
    def open(cls, path: Path | str, chunk_frames: int = DEFAULT_CHUNK_FRAMES) -> DatasetWriter:
        """Open an existing dataset with the metadata it has.

        Raises:
            FileNotFoundError: If ``path`` holds no dataset.
        """
        return cls.of_info(path, read_info(path), chunk_frames)

    @classmethod
    def of_info(
        cls, path: Path | str, info: DatasetInfo, chunk_frames: int = DEFAULT_CHUNK_FRAMES
    ) -> DatasetWriter:
        """A writer of a dataset described by ``info`` in ``path`` (created if absent).

        Raises:
            ValueError: As the constructor.
        """
        return cls(
            path,
            game_id=info.game_id,
            classes=info.classes,
            accusation_classes=info.accusation_classes,
            frame_size=info.frame_size,
            sample_fps=info.sample_fps,
            chunk_frames=chunk_frames,
        )

    def session(self, player_id: str, session_id: str | None = None, source: str = "api") -> SessionWriter:
        """Start a session of a player.

        Args:
            player_id: Whose play it is (any non-empty string up to 256 characters; the training
                keeps all of a player's sessions in one split).
            session_id: Its id (default: the UTC time and a random suffix, sortable).
            source: ``api`` (a game's own players), ``server`` (a server's recording) or
                ``import``.

        Raises:
            ValueError: If an argument is invalid or the session already exists.
        """
        if not isinstance(player_id, str) or not player_id or len(player_id) > _MAX_PLAYER_ID:
            raise ValueError(f"player_id must be a non-empty string of at most {_MAX_PLAYER_ID} characters")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {source!r}")
        if session_id is None:
            now = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%S")
            session_id = f"{now}-{uuid.uuid4().hex[:12]}"
        directory = self.path / SESSIONS_DIR / _check_id("session_id", session_id)
        if directory.exists():
            raise ValueError(f"session {session_id} already exists in {self.path}")
        return SessionWriter(directory, self.info, player_id, source, self.chunk_frames)
