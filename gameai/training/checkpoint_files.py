"""Training checkpoints that survive a kill, with no pickles: what every trainer shares.

A checkpoint is a directory holding whatever the trainer saves of its model, plus
``optimizer.safetensors`` (the optimizer's tensors by name) and a JSON state file (the
trainer's counters and the optimizer's parameter groups). :func:`write_checkpoint` writes it
to ``DIR.tmp`` and swaps it in, so a kill during a save leaves the previous one whole;
:func:`latest_checkpoint` finds the survivor after a kill mid-swap.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import torch
from safetensors.torch import load_file, save_file

OPTIMIZER_FILE: Final = "optimizer.safetensors"


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


def write_checkpoint(
    directory: Path,
    save_model: Callable[[Path], None],
    optimizer: torch.optim.Optimizer | None,
    state: dict[str, Any],
    state_file: str,
) -> None:
    """Write a checkpoint atomically (see the module docstring).

    Args:
        directory: The checkpoint directory (replaced).
        save_model: Writes the model's files into the directory it is given.
        optimizer: The optimizer, or None to save the model only.
        state: JSON-able trainer state.
        state_file: Name of the state file.
    """
    tmp = directory.with_name(directory.name + ".tmp")
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    save_model(tmp)
    if optimizer is not None:
        tensors, groups = optimizer_tensors(optimizer)
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
        state = {**state, "optimizer_param_groups": groups}
    (tmp / state_file).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(directory: Path, state_file: str) -> Path | None:
    """The checkpoint to resume from: ``directory``, or its ``.old`` twin after a kill mid-swap."""
    for candidate in (directory, directory.with_name(directory.name + ".old")):
        if (candidate / state_file).is_file():
            return candidate
    return None


def read_state(directory: Path, state_file: str) -> dict[str, Any]:
    """The trainer state of a checkpoint."""
    state: dict[str, Any] = json.loads((directory / state_file).read_text(encoding="utf-8"))
    return state


def restore_optimizer(
    directory: Path, optimizer: torch.optim.Optimizer, device: torch.device, state_file: str
) -> None:
    """Load a checkpoint's optimizer tensors and parameter groups into ``optimizer``."""
    tensors = load_file(str(directory / OPTIMIZER_FILE), device=str(device))
    load_optimizer_tensors(optimizer, tensors, read_state(directory, state_file)["optimizer_param_groups"])
