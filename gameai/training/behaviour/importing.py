"""``gameai train behaviour import``: image sequences or videos plus a labels file -> a behaviour dataset.

The source folder holds one entry per session: a folder of images (PNG or JPEG, played in name
order, at ``source_fps``) or a video file (``.mp4``, ``.mkv``, ``.webm``, ``.avi``, ``.mov``;
decoded by PyAV or OpenCV where one is installed, at the video's own rate). The entry's name, less
any extension, is the session id.

The labels file, CSV (a header row) or JSON (a list of objects, or ``{"rows": [...]}``), has one
row per labelled range: ``session``, ``player``, ``label`` and either ``from_s`` and ``to_s``
(seconds from the session's start) or ``from_frame`` and ``to_frame`` (the source's frames,
counted from 0, in name order for images); ``to`` is excluded, and empty or absent means to the
end. Where ranges overlap, the later row wins; play no row covers is unlabelled. Every row of a
session names the same player. Sessions the labels file does not name are not imported.

Each session is resampled to the dataset's rate (its frame ``i`` shows the source frame on screen
at ``i / fps`` seconds), downscaled by :func:`gameai.client.frames.downscale_frame` (stretched to
the dataset's frame size) and written with :class:`gameai.behaviour.dataset.DatasetWriter`
(source ``import``). A session already imported and closed is kept; one left unfinished by a
killed import is imported again.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

import numpy as np

from gameai.behaviour.dataset import SESSIONS_DIR, DatasetInfo, DatasetWriter, read_dataset, read_info
from gameai.client.frames import downscale_frame
from gameai.training.behaviour.config import ImportConfig

IMAGE_SUFFIXES: Final = (".png", ".jpg", ".jpeg")
VIDEO_SUFFIXES: Final = (".mp4", ".mkv", ".webm", ".avi", ".mov", ".m4v")
#: What to install for videos (an extra of gameai: PyAV).
VIDEO_EXTRA: Final = "pip install 'gameai[video]'"
_EPSILON = 1e-9
T = TypeVar("T")


@dataclass(frozen=True)
class LabelRow:
    """One row of a labels file: a label over a range of one session."""

    session: str
    """The session id (the source entry's name, less any extension)."""
    player: str
    """The player whose session it is."""
    label: str
    """The label over the range."""
    start: float
    """Where the range begins (seconds or source frames, per ``unit``)."""
    stop: float
    """Where it ends, excluded (``inf``: the session's end)."""
    unit: str
    """``s`` (seconds) or ``frame`` (source frames)."""

    def covers(self, seconds: float, source_frame: int) -> bool:
        """Whether the range holds the play at ``seconds``, source frame ``source_frame``."""
        at = seconds if self.unit == "s" else source_frame
        return self.start <= at < self.stop


def _number(value: Any, name: str, where: str, default: float) -> float:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: {name} must be a number, got {value!r}") from None
    if math.isnan(number) or number < 0:
        raise ValueError(f"{where}: {name} must be >= 0, got {value!r}")
    return number


def parse_label_row(raw: dict[str, Any], where: str) -> LabelRow:
    """A :class:`LabelRow` from one CSV row or JSON object (see the module docstring).

    Raises:
        ValueError: If a field is missing or invalid (``where`` says which row).
    """
    fields = {}
    for name in ("session", "player", "label"):
        value = raw.get(name)
        if not isinstance(value, str | int) or not str(value).strip():
            raise ValueError(f"{where}: {name} is missing")
        fields[name] = str(value).strip()
    seconds = any(raw.get(k) not in (None, "") for k in ("from_s", "to_s"))
    frames = any(raw.get(k) not in (None, "") for k in ("from_frame", "to_frame"))
    if seconds == frames:
        raise ValueError(
            f"{where}: give a range in seconds (from_s, to_s) or in frames (from_frame, to_frame)"
        )
    unit, first, last = ("s", "from_s", "to_s") if seconds else ("frame", "from_frame", "to_frame")
    start = _number(raw.get(first), first, where, 0.0)
    stop = _number(raw.get(last), last, where, math.inf)
    if stop <= start:
        raise ValueError(f"{where}: {last} must be above {first}")
    return LabelRow(fields["session"], fields["player"], fields["label"], start, stop, unit)


def read_label_rows(path: Path) -> list[LabelRow]:
    """The rows of a labels file (``.csv``, or ``.json``), in order.

    Raises:
        FileNotFoundError: If the file is missing.
        ValueError: If it is neither CSV nor JSON of that shape, or a row is invalid.
    """
    if not path.is_file():
        raise FileNotFoundError(f"labels file {path} missing")
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        rows = data.get("rows") if isinstance(data, dict) else data
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ValueError(f"{path}: a JSON labels file is a list of objects (or {{'rows': [...]}})")
        return [parse_label_row(row, f"{path} row {i + 1}") for i, row in enumerate(rows)]
    if path.suffix.lower() != ".csv":
        raise ValueError(f"{path}: a labels file is .csv or .json")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        return [parse_label_row(row, f"{path} line {i + 2}") for i, row in enumerate(reader)]


def session_sources(source_dir: Path) -> dict[str, Path]:
    """Session id -> its folder of images or video file, for every entry of ``source_dir``."""
    if not source_dir.is_dir():
        raise FileNotFoundError(f"source folder {source_dir} missing")
    sources = {}
    for entry in sorted(source_dir.iterdir()):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            sources[entry.name] = entry
        elif entry.suffix.lower() in VIDEO_SUFFIXES:
            sources[entry.stem] = entry
    return sources


def resampled(
    loaders: Iterable[Callable[[], T]], source_fps: float, fps: float
) -> Iterator[tuple[int, int, T]]:
    """Resample a stream of frames from ``source_fps`` to ``fps``: frame ``i`` of the result is the
    source frame on screen at ``i / fps`` seconds (``floor(i * source_fps / fps)``).

    Args:
        loaders: Each source frame's loader, in order (a skipped frame is never loaded).
        source_fps: The source's frames per second.
        fps: The wanted frames per second.

    Yields:
        ``(i, j, frame)``: the result's frame ``i`` is source frame ``j``.
    """
    i = 0
    for j, load in enumerate(loaders):
        frame: T | None = None
        while math.floor(i * source_fps / fps + _EPSILON) == j:
            if frame is None:
                frame = load()
            yield i, j, frame
            i += 1


def _image_loaders(folder: Path) -> tuple[list[Callable[[], Any]], int]:
    import pygame

    images = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)

    def loader(path: Path) -> Callable[[], Any]:
        def load() -> Any:
            try:
                return pygame.image.load(str(path))
            except pygame.error as exc:
                raise ValueError(f"{path}: not a readable image ({exc})") from None

        return load

    return [loader(path) for path in images], len(images)


def _decoded(pixels: np.ndarray) -> Callable[[], np.ndarray]:
    """A loader of a frame already decoded."""
    return lambda: pixels


def _video_frames(path: Path) -> tuple[Iterator[Callable[[], Any]], float]:
    """A video's frames as ``(H, W, 3)`` uint8 RGB loaders, and its frames per second.

    Raises:
        ValueError: If no decoder is installed (one line: what to install).
    """
    try:
        import av
    except ImportError:
        av = None
    if av is not None:
        container = av.open(str(path))
        stream = container.streams.video[0]
        fps = float(stream.average_rate or stream.guessed_rate or 0)

        def decoded_av() -> Iterator[Callable[[], Any]]:
            with container:
                for frame in container.decode(stream):
                    yield _decoded(frame.to_ndarray(format="rgb24"))

        return decoded_av(), fps
    try:
        import cv2
    except ImportError:
        decoders = f"{VIDEO_EXTRA} (PyAV) or pip install opencv-python"
        raise ValueError(f"{path.name}: importing videos needs a decoder: {decoders}") from None
    capture = cv2.VideoCapture(str(path))
    fps = float(capture.get(cv2.CAP_PROP_FPS))

    def decoded_cv2() -> Iterator[Callable[[], Any]]:
        try:
            while True:
                ok, bgr = capture.read()
                if not ok:
                    return
                yield _decoded(np.ascontiguousarray(bgr[:, :, ::-1]))
        finally:
            capture.release()

    return decoded_cv2(), fps


def _dataset_info(config: ImportConfig, rows: list[LabelRow]) -> DatasetInfo:
    """The dataset's metadata: the options, else an existing dataset's, else the defaults."""
    existing = read_info(config.dataset) if (Path(config.dataset) / "dataset.json").is_file() else None
    if config.size:
        try:
            height, width = (int(v) for v in config.size.lower().split("x"))
        except ValueError:
            raise ValueError(f"size must be HxW, e.g. 84x84, got {config.size!r}") from None
        size = (height, width)
    else:
        size = existing.frame_size if existing else (84, 84)
    classes = config.classes or (
        existing.classes if existing else tuple(dict.fromkeys(r.label for r in rows))
    )
    game_id = config.game_id or (existing.game_id if existing else "")
    if not game_id:
        raise ValueError("a new dataset needs --game-id")
    return DatasetInfo(
        game_id=game_id,
        classes=tuple(classes),
        accusation_classes=config.accusation_classes or (existing.accusation_classes if existing else ()),
        frame_size=size,
        sample_fps=config.fps or (existing.sample_fps if existing else 5.0),
    )


def import_sessions(config: ImportConfig) -> dict[str, Any]:
    """Import the labelled sessions of ``config.source_dir`` into ``config.dataset`` (module docstring).

    Returns:
        ``imported`` (session id -> frames written), ``kept`` (sessions already imported),
        ``not_labelled`` (source entries the labels file does not name).

    Raises:
        FileNotFoundError: If the source folder or labels file is missing.
        ValueError: If an option, a labels row or an image is invalid, a labelled session has no
            source entry, a label is not one of the classes, or a video needs a decoder.
    """
    if not (config.source_dir and config.labels and config.dataset):
        raise ValueError("import needs --from DIR, --labels FILE and --dataset OUT")
    if config.source_fps < 0:
        raise ValueError(f"source_fps must be >= 0, got {config.source_fps}")
    rows = read_label_rows(Path(config.labels))
    info = _dataset_info(config, rows)
    strays = sorted({row.label for row in rows} - set(info.classes))
    if strays:
        raise ValueError(
            f"the labels file has labels that are not classes of the dataset {info.classes}: {strays}"
        )
    by_session: dict[str, list[LabelRow]] = {}
    for row in rows:
        by_session.setdefault(row.session, []).append(row)
    for session_id, session_rows in by_session.items():
        players = sorted({row.player for row in session_rows})
        if len(players) > 1:
            raise ValueError(f"session {session_id} is given several players in the labels file: {players}")
    sources = session_sources(Path(config.source_dir))
    missing = sorted(set(by_session) - set(sources))
    if missing:
        raise ValueError(
            f"the labels file names sessions {config.source_dir} has no folder or video of: {missing}"
        )
    writer = DatasetWriter(
        config.dataset,
        game_id=info.game_id,
        classes=info.classes,
        accusation_classes=info.accusation_classes,
        frame_size=info.frame_size,
        sample_fps=info.sample_fps,
    )
    done = {s.session_id: s.closed for s in read_dataset(config.dataset).sessions}
    summary: dict[str, Any] = {
        "imported": {},
        "kept": [],
        "not_labelled": sorted(set(sources) - set(by_session)),
    }
    for session_id, session_rows in sorted(by_session.items()):
        if done.get(session_id):
            summary["kept"].append(session_id)
            continue
        shutil.rmtree(Path(config.dataset) / SESSIONS_DIR / session_id, ignore_errors=True)  # unfinished
        source = sources[session_id]
        if source.is_dir():
            loaders, count = _image_loaders(source)
            if not count:
                raise ValueError(f"{source} holds no PNG or JPEG images")
            frames: Iterable[Callable[[], Any]] = loaders
            source_fps = config.source_fps or info.sample_fps
        else:
            frames, source_fps = _video_frames(source)
            if source_fps <= 0:
                raise ValueError(f"{source}: the video does not say its frame rate")
        height, width = info.frame_size
        with writer.session(session_rows[0].player, session_id=session_id, source="import") as session:
            for i, j, image in resampled(frames, source_fps, info.sample_fps):
                seconds = i / info.sample_fps
                label = next((r.label for r in reversed(session_rows) if r.covers(seconds, j)), None)
                session.add_frame(downscale_frame(image, (width, height)), label=label)
            summary["imported"][session_id] = session.frame_count
    return summary
