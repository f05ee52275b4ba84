"""Ablations of an exported actor for ``gameai eval agent``: the same weights, played differently.

``blind`` (the network is told d = 1 at every level, so only the handicap weakens it) and other
handicap chances and idle action (:data:`ABLATION_FIELDS`), for the design's measurements.
"""

from __future__ import annotations

import dataclasses

import torch

from gameai.agents.actor import ActorNet
from gameai.training.agents.config import EvalAgentConfig

HANDICAP_FIELDS = ("hold_fire", "scramble_aim", "slip_move", "freeze")
"""The arena handicap chances (what an arena evaluation reports)."""
ABLATION_FIELDS = (*HANDICAP_FIELDS, "random_action", "idle_action")
"""The handicap fields an evaluation may replace."""


class BlindActor(ActorNet):
    """An actor whose network always sees full difficulty; its handicap still follows the served one."""

    def choose(self, obs: torch.Tensor, difficulty: torch.Tensor | None = None) -> torch.Tensor:
        """The choice at difficulty 1, whatever ``difficulty`` is."""
        return super().choose(obs, None if difficulty is None else torch.ones_like(difficulty))


def variant(net: ActorNet, config: EvalAgentConfig) -> ActorNet:
    """The actor the evaluation plays: the exported one, or an ablation of it (the same weights)."""
    changes = {name: getattr(config, name) for name in ABLATION_FIELDS if getattr(config, name) is not None}
    if not changes and not config.blind:
        return net
    copy = (BlindActor if config.blind else ActorNet)(dataclasses.replace(net.config, **changes))
    copy.load_state_dict(net.state_dict())
    return copy.eval()
