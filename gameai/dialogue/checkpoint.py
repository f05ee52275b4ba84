"""Checkpoints that survive a kill, with no pickles.

A checkpoint is a Hugging Face model directory (``config.json``, ``model.safetensors``,
tokenizer files) plus ``optimizer.safetensors`` (AdamW moments) and
``trainer_state.json`` (step, run name, losses). It is written to ``DIR.tmp`` and then
swapped in, so a kill during a save leaves the previous checkpoint whole.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from transformers import PreTrainedModel, PreTrainedTokenizerBase

STATE_FILE = "trainer_state.json"
OPTIMIZER_FILE = "optimizer.safetensors"


def optimizer_tensors(
    optimizer: torch.optim.Optimizer,
) -> tuple[dict[str, torch.Tensor], list[dict[str, Any]]]:
    """Split an optimizer's state into named tensors and JSON-able parameter groups."""
    state = optimizer.state_dict()
    tensors = {
        f"{index}.{key}": value.detach().cpu().contiguous()
        for index, entry in state["state"].items()
        for key, value in entry.items()
        if isinstance(value, torch.Tensor)
    }
    return tensors, state["param_groups"]


def load_optimizer_tensors(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], groups: list[dict[str, Any]]
) -> None:
    """Inverse of :func:`optimizer_tensors`."""
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": state, "param_groups": groups})


def save_checkpoint(
    directory: Path,
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    optimizer: torch.optim.Optimizer | None,
    state: dict[str, Any],
) -> None:
    """Write a checkpoint atomically (see the module docstring)."""
    tmp = directory.with_name(directory.name + ".tmp")
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    if optimizer is not None:
        tensors, groups = optimizer_tensors(optimizer)
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
        state = {**state, "optimizer_param_groups": groups}
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n")
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(directory: Path) -> Path | None:
    """The checkpoint to resume from: ``directory``, or its ``.old`` twin after a kill mid-swap."""
    for candidate in (directory, directory.with_name(directory.name + ".old")):
        if (candidate / STATE_FILE).exists():
            return candidate
    return None


def read_state(directory: Path) -> dict[str, Any]:
    """The trainer state of a checkpoint."""
    state: dict[str, Any] = json.loads((directory / STATE_FILE).read_text())
    return state


def restore_optimizer(directory: Path, optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    """Load a checkpoint's AdamW moments into ``optimizer``."""
    tensors = load_file(str(directory / OPTIMIZER_FILE), device=str(device))
    load_optimizer_tensors(optimizer, tensors, read_state(directory)["optimizer_param_groups"])
