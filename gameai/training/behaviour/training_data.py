"""Where ``fit``, ``export``, ``eval`` and ``calibrate`` read their frames: the arena recording
(``data_dir``, :mod:`.record`) or a behaviour dataset (``dataset``, :mod:`.dataset_splits`).

Both give a manifest (class names, frame size and rate under ``capture``, counts per split), its
SHA-256 (what a checkpoint and the exported model record), and a split's windows. A dataset is
read once, when :func:`open_training_data` is called: sessions a server adds while a step runs
are not half seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gameai.behaviour.dataset import BehaviourDataset, read_dataset
from gameai.training.behaviour.dataset import WindowDataset, load_split
from gameai.training.behaviour.dataset_splits import dataset_manifest, load_dataset_split, manifest_hash
from gameai.training.behaviour.record import manifest_sha256, read_manifest


@dataclass(frozen=True)
class TrainingData:
    """The frames a step reads; made by :func:`open_training_data`."""

    data_dir: str
    """The arena recording (when ``dataset`` is None)."""
    dataset: BehaviourDataset | None = None
    """The behaviour dataset, as read when opened (None: the arena recording)."""
    split_shares: tuple[float, ...] = ()
    """The dataset's split shares."""

    @property
    def location(self) -> str:
        """The directory read (for messages and reports)."""
        return str(self.dataset.path) if self.dataset is not None else self.data_dir

    def manifest(self) -> dict[str, Any]:
        """The recording's manifest, or the dataset's (:func:`~.dataset_splits.dataset_manifest`).

        Raises:
            FileNotFoundError: If the arena was not recorded.
        """
        if self.dataset is None:
            return read_manifest(self.data_dir)
        return dataset_manifest(self.dataset, self.split_shares)

    def manifest_sha256(self) -> str:
        """SHA-256 of :meth:`manifest`: which data a model was made from."""
        if self.dataset is None:
            return manifest_sha256(self.data_dir)
        return manifest_hash(self.manifest())

    def split(self, split: str, k: int) -> WindowDataset:
        """A split's windows of ``k`` frames, each frame held compressed.

        Raises:
            FileNotFoundError: If the arena split was not recorded.
            ValueError: If the dataset's split has no player or no window.
        """
        if self.dataset is None:
            return load_split(self.data_dir, split, k, frames="compressed")
        return load_dataset_split(self.dataset, split, k, self.split_shares)


def open_training_data(
    data_dir: str, dataset: str = "", split_shares: tuple[float, ...] = ()
) -> TrainingData:
    """The arena recording in ``data_dir``, or the behaviour dataset ``dataset`` when set.

    Raises:
        FileNotFoundError: If ``dataset`` holds no dataset.
    """
    if not dataset:
        return TrainingData(data_dir)
    return TrainingData(data_dir, read_dataset(dataset), tuple(split_shares))
