"""Dialogue training checkpoints that survive a kill, with no pickles.

A checkpoint is a Hugging Face model directory (``config.json``, ``model.safetensors``,
tokenizer files) plus ``optimizer.safetensors`` (AdamW moments) and ``trainer_state.json``
(step, run name, losses), written and swapped in by :mod:`gameai.training.checkpoint_files`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import torch
from transformers import PreTrainedModel, PreTrainedTokenizerBase

from gameai.training import checkpoint_files
from gameai.training.checkpoint_files import OPTIMIZER_FILE, load_optimizer_tensors, optimizer_tensors

__all__ = [
    "OPTIMIZER_FILE",
    "STATE_FILE",
    "latest_checkpoint",
    "load_optimizer_tensors",
    "optimizer_tensors",
    "read_state",
    "restore_optimizer",
    "save_checkpoint",
]

STATE_FILE: Final = "trainer_state.json"


def save_checkpoint(
    directory: Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    optimizer: torch.optim.Optimizer | None,
    state: dict[str, Any],
) -> None:
    """Write a checkpoint atomically (see the module docstring)."""

    def save_model(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)

    checkpoint_files.write_checkpoint(directory, save_model, optimizer, state, STATE_FILE)


def latest_checkpoint(directory: Path) -> Path | None:
    """The checkpoint to resume from: ``directory``, or its ``.old`` twin after a kill mid-swap."""
    return checkpoint_files.latest_checkpoint(directory, STATE_FILE)


def read_state(directory: Path) -> dict[str, Any]:
    """The trainer state of a checkpoint."""
    return checkpoint_files.read_state(directory, STATE_FILE)


def restore_optimizer(directory: Path, optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    """Load a checkpoint's AdamW moments into ``optimizer``."""
    checkpoint_files.restore_optimizer(directory, optimizer, device, STATE_FILE)
