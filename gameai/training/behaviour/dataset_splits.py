"""A behaviour dataset (:mod:`gameai.behaviour.dataset`) as the training's splits.

**Split rule.** A player's split follows from its id alone: ``u`` is the first 8 bytes of
``SHA-256("gameai-behaviour-split:" + player_id)`` (UTF-8) read as a big-endian integer and
divided by ``2**64``, so ``u`` is in [0, 1); the player goes to the first split of ``train``,
``val``, ``test``, ``calibration`` whose cumulative share (``split_shares``, default 0.7, 0.1,
0.1, 0.1) is above ``u``. Every session of a player lies in one split, and a player never changes
split as the dataset grows; the shares hold on average, not exactly, so a dataset of few players
may leave a split empty (a step that needs that split then says so, with the counts).

**Windows.** A split's frames are the labelled runs of its sessions (unlabelled frames are left
out), each run a ``match`` of :class:`~gameai.training.behaviour.dataset.WindowDataset`: a window
is K consecutive frames inside one run, so it has one label and one session. ``players`` are the
split's players (sorted ids), ``sessions`` its sessions (what a server smooths apart) and
``frame_seconds`` each frame's time in its session, so the served figures replay each session as
a server would have seen it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from pathlib import Path, PurePath
from typing import Any, Final

import numpy as np

from gameai.behaviour.dataset import FORMAT, BehaviourDataset, SessionRecord, read_info
from gameai.training.behaviour.config import (
    ALL_PLAYERS_SPLIT,
    DATASET_SPLITS,
    BehaviourTrainConfig,
    DatasetSplit,
)
from gameai.training.behaviour.dataset import WindowDataset, window_starts
from gameai.training.behaviour.split_file import CompressedFrames

SPLIT_SALT: Final = b"gameai-behaviour-split:"
#: ``BehaviourTrainConfig``'s defaults that a dataset run reads as its game's own (see ``dataset``).
DEFAULT_ASSETS_DIR: Final = "assets/behaviour"
DEFAULT_WORK_DIR: Final = "checkpoints/behaviour"


def player_fraction(player_id: str) -> float:
    """``u`` in [0, 1) of the split rule (see the module docstring)."""
    digest = hashlib.sha256(SPLIT_SALT + player_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def player_split(player_id: str, shares: tuple[float, ...]) -> DatasetSplit:
    """The split of a player (see the module docstring).

    Args:
        player_id: The player's id.
        shares: Shares of the train, val, test and calibration splits (summing to 1).
    """
    u = player_fraction(player_id)
    total = 0.0
    for split, share in zip(DATASET_SPLITS, shares, strict=True):
        total += share
        if u < total:
            return split
    return next(s for s, share in zip(DATASET_SPLITS[::-1], shares[::-1], strict=True) if share > 0)


def split_players(players: tuple[str, ...], shares: tuple[float, ...]) -> dict[DatasetSplit, list[str]]:
    """Every split's players, sorted (every split a key, empty ones too)."""
    out: dict[DatasetSplit, list[str]] = {split: [] for split in DATASET_SPLITS}
    for player in sorted(players):
        out[player_split(player, shares)].append(player)
    return out


def dataset_defaults(config: BehaviourTrainConfig) -> BehaviourTrainConfig:
    """``config`` with the dataset's game in the default directories: ``assets/<game_id>/behaviour``
    and ``checkpoints/behaviour-<game_id>`` (unchanged without ``dataset`` or where they were set).

    Raises:
        FileNotFoundError: If ``config.dataset`` holds no dataset.
    """
    if not config.dataset:
        return config
    game_id = read_info(config.dataset).game_id
    assets_dir, work_dir = config.assets_dir, config.work_dir
    if PurePath(assets_dir) == PurePath(DEFAULT_ASSETS_DIR):
        assets_dir = game_model_dir(config.dataset)
    if PurePath(work_dir) == PurePath(DEFAULT_WORK_DIR):
        work_dir = f"{DEFAULT_WORK_DIR}-{game_id}"
    return dataclasses.replace(config, assets_dir=assets_dir, work_dir=work_dir)


def _labelled_runs(session: SessionRecord) -> list[tuple[int, int, str]]:
    return [(run.start, run.stop, run.label) for run in session.label_runs() if run.label is not None]


def dataset_manifest(dataset: BehaviourDataset, shares: tuple[float, ...]) -> dict[str, Any]:
    """What the training reads of a dataset, in the shape of a recording's manifest where they meet.

    Returns:
        ``format``, ``game_id``, ``class_names``, ``accusation_classes``, ``capture``
        (``frame_size``, ``sample_fps``), ``dataset`` (its path and own manifest SHA-256),
        ``split_shares``, and per split ``players``, ``sessions``, ``frames`` (labelled ones),
        ``matches`` (labelled runs) and ``frames_per_class``.
    """
    info = dataset.info
    assignment = {
        p: split for split, players in split_players(dataset.players, shares).items() for p in players
    }
    splits: dict[str, Any] = {}
    for split in DATASET_SPLITS:
        sessions = [s for s in dataset.sessions if assignment[s.player_id] == split]
        per_class: Counter[str] = Counter()
        runs = 0
        for session in sessions:
            for start, stop, label in _labelled_runs(session):
                per_class[label] += stop - start
                runs += 1
        splits[split] = {
            "players": len({s.player_id for s in sessions}),
            "sessions": len(sessions),
            "frames": sum(per_class.values()),
            "matches": runs,
            "frames_per_class": {name: per_class[name] for name in info.classes},
        }
    return {
        "format": FORMAT,
        "game_id": info.game_id,
        "class_names": list(info.classes),
        "accusation_classes": list(info.accusation_classes),
        "capture": {"source": "dataset", "frame_size": list(info.frame_size), "sample_fps": info.sample_fps},
        "dataset": {"path": str(dataset.path), "manifest_sha256": dataset.manifest_sha256()},
        "split_shares": list(shares),
        "splits": splits,
    }


def manifest_hash(manifest: dict[str, Any]) -> str:
    """SHA-256 of a :func:`dataset_manifest` but the dataset's path (canonical JSON): the training's
    data version, the same wherever the dataset is and however its path is written."""
    content = {**manifest, "dataset": {k: v for k, v in manifest["dataset"].items() if k != "path"}}
    return hashlib.sha256(json.dumps(content, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def game_model_dir(dataset: str) -> str:
    """``assets/<game_id>/behaviour``: the models directory's entry of the dataset's game."""
    return str(PurePath("assets") / read_info(dataset).game_id / "behaviour")


def split_counts(dataset: BehaviourDataset, shares: tuple[float, ...]) -> str:
    """``train 7, val 1, test 0, calibration 2`` players: for messages."""
    players = split_players(dataset.players, shares)
    return ", ".join(f"{split} {len(players[split])}" for split in DATASET_SPLITS)


def load_dataset_split(
    dataset: BehaviourDataset, split: str, k: int, shares: tuple[float, ...]
) -> WindowDataset:
    """The labelled frames of a split's players and their windows of ``k`` frames (see the module
    docstring); each frame held compressed, as the dataset stores it.

    Args:
        dataset: The dataset.
        split: ``train``, ``val``, ``test``, ``calibration`` or ``all`` (every player).
        k: Frames per window.
        shares: The split shares.

    Raises:
        ValueError: If ``split`` is not a dataset split, it has no player, or no window of ``k``
            labelled frames of one label.
    """
    if split == ALL_PLAYERS_SPLIT:
        players = list(dataset.players)
    elif split in DATASET_SPLITS:
        players = split_players(dataset.players, shares)[split]
    else:
        raise ValueError(
            f"a behaviour dataset has the splits {(*DATASET_SPLITS, ALL_PLAYERS_SPLIT)}, not {split!r}"
        )
    info = dataset.info
    path = Path(dataset.path)
    if not players:
        raise ValueError(
            f"the {split} split of {path} has no player ({len(dataset.players)} players: "
            f"{split_counts(dataset, shares)}; split_shares {shares}): record more players "
            "(docs/behaviour-your-game.md, *Your game, your labels*)"
        )
    index_of = {player: i for i, player in enumerate(players)}
    sessions = sorted(
        (s for s in dataset.sessions if s.player_id in index_of), key=lambda s: (s.player_id, s.session_id)
    )
    held: list[bytes] = []
    labels, player, match, session_of, seconds = [], [], [], [], []
    runs = 0
    for session_index, session in enumerate(sessions):
        runs_of_session = _labelled_runs(session)
        if not runs_of_session:
            continue
        blobs = session.compressed_frames(0, max(stop for _, stop, _ in runs_of_session))
        for start, stop, label in runs_of_session:
            n = stop - start
            held += blobs[start:stop]
            labels.append(np.full(n, info.classes.index(label), dtype=np.int64))
            player.append(np.full(n, index_of[session.player_id], dtype=np.int32))
            match.append(np.full(n, runs, dtype=np.int32))
            session_of.append(np.full(n, session_index, dtype=np.int32))
            seconds.append((np.arange(start, stop, dtype=np.float64) + 1.0) / info.sample_fps)
            runs += 1

    def joined(parts: list[np.ndarray], dtype: type) -> np.ndarray:
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)

    player_array, match_array = joined(player, np.int32), joined(match, np.int32)
    starts = window_starts(player_array, match_array, k)
    if len(starts) == 0:
        raise ValueError(
            f"the {split} split of {path} ({len(players)} players) has no run of {k} frames with one "
            f"label (frames_per_window = {k}): label longer stretches of play"
        )
    return WindowDataset(
        frames=CompressedFrames.from_compressed(held, info.frame_shape),
        labels=joined(labels, np.int64),
        players=player_array,
        matches=match_array,
        starts=starts,
        k=k,
        sessions=joined(session_of, np.int32),
        frame_seconds=joined(seconds, np.float64),
    )
