"""Training checkpoints of the behaviour model that survive a kill, with no pickles.

A checkpoint is a directory: ``model.safetensors`` + ``config.json`` (the serving format of
:func:`gameai.behaviour.model.save_behaviour_model`), ``optimizer.safetensors`` (AdamW moments)
and ``state.json`` (epoch, losses, early-stopping counters, the optimizer's parameter groups),
written and swapped in by :mod:`gameai.training.checkpoint_files`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import torch

from gameai.behaviour.model import BehaviourNet, load_behaviour_model, save_behaviour_model
from gameai.training import checkpoint_files

STATE_FILE: Final = "state.json"


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

    def save_model(tmp: Path) -> None:
        save_behaviour_model(tmp, net, metadata={"epoch": state.get("epoch")})

    checkpoint_files.write_checkpoint(directory, save_model, optimizer, state, STATE_FILE)


def latest_checkpoint(directory: Path) -> Path | None:
    """The checkpoint to resume from: ``directory``, or its ``.old`` twin after a kill mid-swap."""
    return checkpoint_files.latest_checkpoint(directory, STATE_FILE)


def read_state(directory: Path) -> dict[str, Any]:
    """The training state of a checkpoint."""
    return checkpoint_files.read_state(directory, STATE_FILE)


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
    checkpoint_files.restore_optimizer(directory, optimizer, device, STATE_FILE)
    return net, optimizer, read_state(directory)
