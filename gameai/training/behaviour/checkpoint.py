"""Training checkpoints of the behaviour model that survive a kill, with no pickles.

A checkpoint is a directory: ``model.safetensors`` + ``config.json`` (the serving format of
:func:`gameai.behaviour.model.save_behaviour_model`), ``optimizer.safetensors`` (AdamW moments)
and ``state.json`` (epoch, losses, early-stopping counters, the optimizer's parameter groups).
It is written to ``DIR.tmp`` and swapped in, so a kill during a save leaves the previous one whole.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Final

import torch
from safetensors.torch import load_file, save_file

from gameai.behaviour.model import BehaviourNet, load_behaviour_model, save_behaviour_model

STATE_FILE: Final = "state.json"
OPTIMIZER_FILE: Final = "optimizer.safetensors"


def save_checkpoint(
    directory: Path, net: BehaviourNet, optimizer: torch.optim.Optimizer | None, state: dict[str, Any]
) -> None:
    """Write a checkpoint atomically (see the module docstring).

    Args:
        directory: The checkpoint directory (replaced).
        net: The network (its config is saved with it).
        optimizer: Its optimizer, or None to save the weights only.
        state: JSON-able training state.
    """
    tmp = directory.with_name(directory.name + ".tmp")
    old = directory.with_name(directory.name + ".old")
    shutil.rmtree(tmp, ignore_errors=True)
    save_behaviour_model(tmp, net, metadata={"epoch": state.get("epoch")})
    if optimizer is not None:
        optimizer_state = optimizer.state_dict()
        tensors = {
            f"{index}.{key}": value.detach().cpu().contiguous()
            for index, entry in optimizer_state["state"].items()
            for key, value in entry.items()
            if isinstance(value, torch.Tensor)
        }
        save_file(tensors, str(tmp / OPTIMIZER_FILE))
        state = {**state, "optimizer_param_groups": optimizer_state["param_groups"]}
    (tmp / STATE_FILE).write_text(json.dumps(state, indent=1) + "\n", encoding="utf-8")
    if directory.exists():
        shutil.rmtree(old, ignore_errors=True)
        directory.rename(old)
    tmp.rename(directory)
    shutil.rmtree(old, ignore_errors=True)


def latest_checkpoint(directory: Path) -> Path | None:
    """The checkpoint to resume from: ``directory``, or its ``.old`` twin after a kill mid-swap."""
    for candidate in (directory, directory.with_name(directory.name + ".old")):
        if (candidate / STATE_FILE).is_file():
            return candidate
    return None


def read_state(directory: Path) -> dict[str, Any]:
    """The training state of a checkpoint."""
    state: dict[str, Any] = json.loads((directory / STATE_FILE).read_text(encoding="utf-8"))
    return state


def load_checkpoint(
    directory: Path, optimizer_factory: Any, device: torch.device
) -> tuple[BehaviourNet, torch.optim.Optimizer, dict[str, Any]]:
    """Rebuild the network, its optimizer and the state from a checkpoint.

    Args:
        directory: The checkpoint.
        optimizer_factory: ``net -> optimizer`` (the same as when the run started).
        device: Where the network goes.

    Returns:
        The network in training mode, the optimizer with its moments restored, the state.
    """
    loaded = load_behaviour_model(directory, device)
    net = loaded.net.train()
    optimizer: torch.optim.Optimizer = optimizer_factory(net)
    state = read_state(directory)
    tensors = load_file(str(directory / OPTIMIZER_FILE), device=str(device))
    moments: dict[int, dict[str, torch.Tensor]] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        moments.setdefault(int(index), {})[key] = value
    optimizer.load_state_dict({"state": moments, "param_groups": state["optimizer_param_groups"]})
    return net, optimizer, state
