"""Reading and writing shipped models: safetensors weights plus a JSON config beside them.

Every loader in gameai goes through these helpers, so a missing, truncated or
mismatched file always surfaces as :class:`ModelLoadError` with a sentence saying
which file and what is wrong (the server reports it as the model's ``reason``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import typing
from pathlib import Path
from typing import Any, TypeVar

import torch
from torch import nn

ConfigT = TypeVar("ConfigT")

#: Files up to this size are hashed whole for their version; larger ones by size and header.
_FULL_HASH_LIMIT = 256 * 1024 * 1024


class ModelLoadError(Exception):
    """A model could not be loaded; the message says which file and why."""


def file_version(path: Path) -> str:
    """A short content hash of a weights file (12 hex digits).

    Files over 256 MiB are hashed by size and their first MiB, to keep start-up fast.
    """
    digest = hashlib.sha256()
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size <= _FULL_HASH_LIMIT:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        else:
            digest.update(str(size).encode())
            digest.update(handle.read(1 << 20))
    return digest.hexdigest()[:12]


def _tuple_fields(cls: type) -> dict[str, bool]:
    hints = typing.get_type_hints(cls)
    result = {}
    for field in dataclasses.fields(cls):
        annotation = hints[field.name]
        args = typing.get_args(annotation)
        is_tuple = typing.get_origin(annotation) is tuple or any(typing.get_origin(a) is tuple for a in args)
        result[field.name] = is_tuple
    return result


def config_to_dict(config: Any) -> dict[str, Any]:
    """A config dataclass as JSON-ready data (tuples become lists)."""
    data: dict[str, Any] = json.loads(json.dumps(dataclasses.asdict(config)))
    return data


def config_from_dict(cls: type[ConfigT], data: Any, source: Path) -> ConfigT:
    """Build a config dataclass from JSON data, refusing unknown keys.

    Args:
        cls: The config dataclass.
        data: The decoded JSON object.
        source: The file it came from (for messages).

    Raises:
        ModelLoadError: If ``data`` is not an object, has unknown keys or the dataclass
            rejects the values.
    """
    if not isinstance(data, dict):
        raise ModelLoadError(f"{source}: config must be a JSON object")
    tuples = _tuple_fields(cls)
    unknown = sorted(set(data) - set(tuples))
    if unknown:
        raise ModelLoadError(f"{source}: unknown config keys {unknown}")
    values = {key: tuple(v) if tuples[key] and isinstance(v, list) else v for key, v in data.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ModelLoadError(f"{source}: invalid config: {exc}") from None


def read_json(path: Path) -> Any:
    """Read a JSON file.

    Raises:
        ModelLoadError: If the file is missing or not valid JSON.
    """
    if not path.is_file():
        raise ModelLoadError(f"{path}: file not found")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{path}: not valid JSON ({exc})") from None


#: The key, in a model's JSON config, of the sha256 (hex) of its weights file.
WEIGHTS_HASH_KEY = "weights_sha256"


def sha256_of(path: Path) -> str:
    """The sha256 of a file's bytes (hex), read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def check_weights_hash(path: Path, expected: Any) -> None:
    """Refuse weights whose bytes are not those their config recorded (None recorded: not checked).

    Weights garbled with their header intact load without complaint and then compute nonsense;
    the hash written at export catches them at load instead.

    Raises:
        ModelLoadError: If a hash is recorded and the file's differs, or the record is not a hash.
    """
    if expected is None:
        return
    if not isinstance(expected, str) or len(expected) != 64:
        raise ModelLoadError(f"{path}: {WEIGHTS_HASH_KEY} in its config is not a sha256 hex digest")
    if not path.is_file():
        raise ModelLoadError(f"{path}: file not found")
    actual = sha256_of(path)
    if actual != expected.lower():
        raise ModelLoadError(
            f"{path}: the weights' sha256 is {actual[:12]}..., not the {expected[:12]}... their config "
            "recorded at export: the file is corrupt or was replaced"
        )


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (to a temporary file, then renamed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def save_weights(path: Path, module: nn.Module, metadata: dict[str, str] | None = None) -> None:
    """Save a module's parameters and persistent buffers as safetensors (atomically)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in module.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    save_file(state, str(tmp), metadata=metadata)
    os.replace(tmp, path)


def load_weights(path: Path, module: nn.Module, device: torch.device | str = "cpu") -> None:
    """Load safetensors weights into a module, strictly (every tensor, right shapes).

    Raises:
        ModelLoadError: If the file is missing, corrupt, or does not fit the module.
    """
    from safetensors.torch import load_file

    if not path.is_file():
        raise ModelLoadError(f"{path}: file not found")
    try:
        state = load_file(str(path), device=str(device))
    except Exception as exc:  # safetensors raises its own error types for corrupt files
        raise ModelLoadError(f"{path}: corrupt safetensors file ({type(exc).__name__}: {exc})") from None
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first_lines = " ".join(str(exc).split())[:400]
        raise ModelLoadError(f"{path}: weights do not fit the configured model ({first_lines})") from None
