"""Choosing where the models run."""

from __future__ import annotations

import os
from typing import Literal

import torch

DevicePreference = Literal["auto", "cpu", "cuda"]


def select_device(preference: DevicePreference | str = "auto") -> torch.device:
    """The torch device for a preference.

    Args:
        preference: ``auto`` (CUDA when available, else CPU), ``cpu``, ``cuda`` or an
            explicit device such as ``cuda:1``.

    Returns:
        The device.

    Raises:
        ValueError: If CUDA is asked for and not available, or the name is not a device.
    """
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(preference)
    except RuntimeError as exc:
        raise ValueError(f"not a torch device: {preference!r}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but CUDA is not available")
    return device


def cpu_inference_threads() -> int:
    """Torch threads for serving on CPU: one fewer than the usable cores, at least 1.

    Torch's OpenMP threads spin after each operation; using every core starves the event
    loop of the server's process.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 2
    return max(1, cores - 1)
