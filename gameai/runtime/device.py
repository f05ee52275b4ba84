"""Choosing where the models run."""

from __future__ import annotations

import os
import typing
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


HeadPrecision = Literal["auto", "float32", "bfloat16"]
"""The number type of the behaviour model's heads: ``auto`` picks bfloat16 where the CPU computes
it natively, else float32 (:func:`behaviour_head_dtype`)."""

HEAD_PRECISIONS: tuple[HeadPrecision, ...] = typing.get_args(HeadPrecision)
"""Every :data:`HeadPrecision` setting, in order."""

_NATIVE_BFLOAT16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 dot-product instructions torch uses (AVX-512 BF16 or AMX;
    read from ``/proc/cpuinfo``, so False off Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            flags = next((line.split(":", 1)[1].split() for line in info if line.startswith("flags")), [])
    except OSError:
        return False
    return any(flag in flags for flag in _NATIVE_BFLOAT16_FLAGS) and bool(
        torch.ops.mkldnn._is_mkldnn_bf16_supported()
    )


def behaviour_head_dtype(precision: HeadPrecision | str, device: torch.device) -> torch.dtype:
    """The dtype of the behaviour heads' first layers for a ``precision`` setting on ``device``.

    ``bfloat16`` halves what each batch reads of the heads' weights (6.8 MB of float32 per
    member in the shipped arena model), which is what a small CPU batch waits on. Off the CPU
    (cuda) it is always float32.

    Raises:
        ValueError: If ``precision`` is not ``auto``, ``float32`` or ``bfloat16``.
    """
    if precision not in HEAD_PRECISIONS:
        *first, last = HEAD_PRECISIONS
        raise ValueError(f"behaviour head precision must be {', '.join(first)} or {last}, got {precision!r}")
    if device.type != "cpu" or precision == "float32":
        return torch.float32
    if precision == "bfloat16" or cpu_has_native_bfloat16():
        return torch.bfloat16
    return torch.float32
