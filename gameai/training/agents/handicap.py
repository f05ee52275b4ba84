"""``gameai agents handicap DIR``: change how an exported agent is weakened below difficulty 1.

The handicap (``random_action``, ``freeze`` and ``idle_action``, the arena's ``hold_fire``,
``scramble_aim`` and ``slip_move``; :mod:`gameai.agents.actor`) is applied after the network's
choice, so it is a field of ``actor.json`` and not of the weights: it can be changed without the
training checkpoint, which ``gameai train agent export`` needs. :func:`set_handicap` rewrites
``actor.json`` with the new fields, checked by :class:`~gameai.agents.actor.ActorConfig` against
the agent's action space, and keeps the weights, their hash and the metadata; the handicap the
agent was first exported with is kept in the metadata as ``exported_handicap``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Final

from gameai.agents.actor import CONFIG_FILE, HANDICAP_CHANCES, ActorConfig, load_actor
from gameai.model_files import ModelLoadError, config_to_dict, read_json, write_json
from gameai.training.agents.deploy_config import HandicapConfig

HANDICAP_KEYS: Final = (*HANDICAP_CHANCES, "idle_action")
"""The fields of :class:`ActorConfig` that make the handicap."""


def handicap_of(config: ActorConfig) -> dict[str, Any]:
    """The handicap fields of ``config``, JSON-ready (``idle_action`` as a list or None)."""
    data = config_to_dict(config)
    return {name: data[name] for name in HANDICAP_KEYS}


def set_handicap(agent_dir: Path | str, changes: HandicapConfig) -> tuple[ActorConfig, ActorConfig]:
    """Replace the handicap fields of the agent in ``agent_dir`` by those given in ``changes``.

    Args:
        agent_dir: An exported agent (``actor.safetensors`` + ``actor.json``).
        changes: The fields to replace (None keeps the agent's).

    Returns:
        The agent's config before and after.

    Raises:
        FileNotFoundError: If ``agent_dir`` has no ``actor.json``.
        ValueError: If the agent does not load, nothing is to change, or the new handicap does not
            fit the agent's actions (an idle action that is not one of them, a chance outside [0, 1]...).
    """
    directory = Path(agent_dir)
    given = changes.changes()
    if not given:
        raise ValueError(
            "give at least one of --random-action, --freeze, --idle-action, --hold-fire, "
            "--scramble-aim, --slip-move"
        )
    if not (directory / CONFIG_FILE).is_file():
        raise FileNotFoundError(f"{directory}: no agent here (no {CONFIG_FILE})")
    try:
        before = load_actor(directory).config  # the files are whole, the weights those recorded
    except ModelLoadError as exc:
        raise ValueError(f"the agent does not load: {exc}") from None
    after = dataclasses.replace(before, **given)
    path = directory / CONFIG_FILE
    data = read_json(path)
    data["config"] = config_to_dict(after)
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        metadata = data["metadata"] = {}
    metadata.setdefault("exported_handicap", handicap_of(before))
    write_json(path, data)
    return before, after
