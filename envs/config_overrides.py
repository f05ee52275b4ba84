"""Env configs from ``gymnasium.make`` keyword arguments: one rule for every env of this package."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

ConfigT = TypeVar("ConfigT")


def with_overrides(
    base: ConfigT,
    overrides: dict[str, Any],
    *,
    env_name: str,
    tuples: tuple[str, ...] = (),
    nested: Mapping[str, Callable[..., Any]] | None = None,
) -> ConfigT:
    """``base`` (a dataclass config) with fields replaced by ``overrides``.

    Args:
        base: The config to start from.
        overrides: Field values by name, as ``gymnasium.make`` passes them.
        env_name: The env's name, for the error message.
        tuples: Tuple fields a single string may stand for (``"idle"`` means ``("idle",)``).
        nested: Fields whose config a dict may give, by name: the dict's items are the keyword
            arguments of the given constructor.

    Raises:
        TypeError: If an override is not a field.
    """
    names = {f.name for f in dataclasses.fields(base)}  # type: ignore[arg-type]
    unknown = set(overrides) - names
    if unknown:
        raise TypeError(f"unknown {env_name} env options {sorted(unknown)}; known: {sorted(names)}")
    overrides = dict(overrides)
    for name in tuples:
        if isinstance(overrides.get(name), str):
            overrides[name] = (overrides[name],)
    for name, make in (nested or {}).items():
        if isinstance(overrides.get(name), dict):
            overrides[name] = make(**overrides[name])
    return dataclasses.replace(base, **overrides)  # type: ignore[type-var]
