"""A behaviour dataset as the training's splits: the player split rule, windows inside label runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.dataset import DatasetWriter, read_dataset
from gameai.training.behaviour.config import DATASET_SPLITS, DEFAULT_SPLIT_SHARES, BehaviourTrainConfig
from gameai.training.behaviour.dataset_splits import (
    dataset_defaults,
    dataset_manifest,
    load_dataset_split,
    manifest_hash,
    player_split,
    split_players,
)

ALL_TRAIN = (1.0, 0.0, 0.0, 0.0)


def _numbered(i: int) -> np.ndarray:
    """A 40x40 frame whose pixels say which frame it is."""
    return np.full((40, 40, 3), i, dtype=np.uint8)


def test_a_players_split_follows_from_its_id_alone() -> None:
    players = tuple(f"player-{i}" for i in range(4000))
    splits = split_players(players, DEFAULT_SPLIT_SHARES)
    for split, share in zip(DATASET_SPLITS, DEFAULT_SPLIT_SHARES, strict=True):
        assert abs(len(splits[split]) / len(players) - share) < 0.03, split
    # Adding players moves none: each split of a subset is the subset of that split.
    fewer = split_players(players[:100], DEFAULT_SPLIT_SHARES)
    assert all(set(fewer[s]) <= set(splits[s]) for s in DATASET_SPLITS)
    assert player_split("alice", DEFAULT_SPLIT_SHARES) == player_split("alice", DEFAULT_SPLIT_SHARES)
    assert {player_split(p, ALL_TRAIN) for p in players[:50]} == {"train"}
    assert {player_split(p, (0.0, 0.0, 0.0, 1.0)) for p in players[:50]} == {"calibration"}


def test_windows_lie_inside_one_labelled_run_of_one_session(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, game_id="toy", classes=("a", "b"), frame_size=(40, 40), sample_fps=2.0)
    with writer.session("p1", session_id="s1") as session:
        for i in range(14):  # unlabelled 0-1, a 2-6, unlabelled 7, b 8-13
            label = {0: None, 2: "a", 7: None, 8: "b"}.get(i, session.label)
            session.add_frame(_numbered(i), label=label)
    with writer.session("p2", session_id="s2") as session:
        for i in range(4):
            session.add_frame(_numbered(100 + i), label="a")
    data = load_dataset_split(read_dataset(tmp_path), "train", 3, ALL_TRAIN)
    assert [int(frame[0, 0, 0]) for frame in data.frames[np.arange(len(data.frames))]] == [
        *range(2, 7), *range(8, 14), *range(100, 104),
    ]  # fmt: skip
    assert data.labels.tolist() == [0] * 5 + [1] * 6 + [0] * 4
    assert data.players.tolist() == [0] * 11 + [1] * 4 and data.window_sessions.tolist()[-1] == 1
    assert len(data) == 3 + 4 + 2  # windows of 3 in runs of 5, 6 and 4 frames
    assert data.window_labels.tolist() == [0, 0, 0, 1, 1, 1, 1, 0, 0]
    # Seconds of the session a server has seen at each window's end (frames 0-1 and 7 included).
    assert data.window_end_seconds(2.0).tolist() == [2.5, 3.0, 3.5, 5.5, 6.0, 6.5, 7.0, 1.5, 2.0]
    np.testing.assert_array_equal(data.windows(np.array([0]))[0, :, 0, 0, 0], [2, 3, 4])


def test_a_split_without_players_or_windows_is_refused_with_the_counts(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, game_id="toy", classes=("a", "b"), frame_size=(40, 40))
    for player in ("p1", "p2"):
        with writer.session(player) as session:
            for i in range(4):
                session.add_frame(_numbered(i), label="a")
    dataset = read_dataset(tmp_path)
    with pytest.raises(
        ValueError, match=r"the val split of .* has no player \(2 players: train 2, val 0, test 0"
    ):
        load_dataset_split(dataset, "val", 3, ALL_TRAIN)
    with pytest.raises(ValueError, match="no run of 5 frames with one label"):
        load_dataset_split(dataset, "train", 5, ALL_TRAIN)
    with pytest.raises(ValueError, match="not 'heldout'"):
        load_dataset_split(dataset, "heldout", 3, ALL_TRAIN)


def test_the_all_split_is_every_player_whatever_its_split(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, game_id="toy", classes=("a", "b"), frame_size=(40, 40))
    for player in ("p1", "p2", "p3"):
        with writer.session(player) as session:
            for i in range(4):
                session.add_frame(_numbered(i), label="a")
    dataset = read_dataset(tmp_path)
    only_test = (0.0, 0.0, 1.0, 0.0)
    assert len(load_dataset_split(dataset, "all", 3, only_test)) == 3 * 2
    with pytest.raises(ValueError, match=r"the train split .* has no player"):
        load_dataset_split(dataset, "train", 3, only_test)


def test_the_manifest_counts_each_split_and_its_hash_follows_the_shares(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path, game_id="toy", classes=("a", "b"), accusation_classes=("b",),
                           frame_size=(40, 40))  # fmt: skip
    with writer.session("p1") as session:
        session.add_frame(_numbered(0))
        for i in range(3):
            session.add_frame(_numbered(i), label="a")
        session.add_frame(_numbered(0), label="b")
    dataset = read_dataset(tmp_path)
    manifest = dataset_manifest(dataset, ALL_TRAIN)
    assert manifest["class_names"] == ["a", "b"] and manifest["accusation_classes"] == ["b"]
    assert manifest["capture"]["frame_size"] == [40, 40] and manifest["game_id"] == "toy"
    assert manifest["splits"]["train"] == {"players": 1, "sessions": 1, "frames": 4, "matches": 2,
                                           "frames_per_class": {"a": 3, "b": 1}}  # fmt: skip
    assert manifest["dataset"]["manifest_sha256"] == dataset.manifest_sha256()
    assert manifest_hash(manifest) != manifest_hash(dataset_manifest(dataset, DEFAULT_SPLIT_SHARES))
    moved = tmp_path.parent / "moved"
    tmp_path.rename(moved)  # the same content elsewhere: the same data version
    assert manifest_hash(dataset_manifest(read_dataset(moved), ALL_TRAIN)) == manifest_hash(manifest)


def test_a_dataset_run_defaults_to_its_games_directories_and_no_position_loss(tmp_path: Path) -> None:
    DatasetWriter(tmp_path, game_id="toy", classes=("a", "b"))
    config = dataset_defaults(BehaviourTrainConfig(dataset=str(tmp_path)))
    assert (config.assets_dir, config.work_dir) == ("assets/toy/behaviour", "checkpoints/behaviour-toy")
    assert config.position_weight == 0.0 and config.near_enemy_weight == 0.0
    chosen = dataset_defaults(BehaviourTrainConfig(dataset=str(tmp_path), assets_dir="x", work_dir="y"))
    assert (chosen.assets_dir, chosen.work_dir) == ("x", "y")
    arena = BehaviourTrainConfig()
    assert dataset_defaults(arena) is arena and arena.position_weight == 10.0
    with pytest.raises(ValueError, match="split_shares needs 4 shares"):
        BehaviourTrainConfig(split_shares=(0.5, 0.5))
    with pytest.raises(ValueError, match="give the train and val splits a share"):
        BehaviourTrainConfig(split_shares=(1.0, 0.0, 0.0, 0.0))
