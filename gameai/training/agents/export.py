"""From a trained Stable-Baselines3 policy to the served actor (safetensors + JSON, no pickles).

The SB3 zip stays in ``checkpoints/`` (training and resuming only); what is served is the
policy half of the MLP, copied layer by layer into an :class:`~gameai.agents.actor.ActorNet`:
``mlp_extractor.policy_net`` -> ``body`` (same ``Linear`` indices), ``action_net`` -> ``head``.

The network's shapes come from the policy (a flat ``Box`` observation; a ``MultiDiscrete``
action, or a ``Discrete(n)`` one served as the single branch ``(n,)``); what the policy does
not know (which observation feature carries the difficulty, the handicap) comes from the
environment as an :class:`ActorSpec`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from gameai.agents.actor import ActorConfig, ActorNet, save_actor


@dataclass(frozen=True)
class ActorSpec:
    """What the served actor's config needs beyond the network's shapes (given by the environment)."""

    difficulty_index: int | None = None
    """Observation feature overwritten with the served difficulty (the arena's 40); None: none."""
    hold_fire: float = 0.0
    """Handicap: chance at difficulty 0 that a shot is held back (see :class:`ActorConfig`)."""
    scramble_aim: float = 0.0
    """Handicap: chance at difficulty 0 that a shot's choice is replaced by a random one."""
    slip_move: float = 0.0
    """Handicap: chance at difficulty 0 that the move is replaced by a random one."""


def action_nvec(action_space: spaces.Space[Any]) -> tuple[int, ...]:
    """The actor's branches for a policy's action space: ``MultiDiscrete`` as is, ``Discrete(n)`` as ``(n,)``.

    Raises:
        ValueError: For any other action space (one line, for the command line).
    """
    if isinstance(action_space, spaces.MultiDiscrete) and action_space.nvec.ndim == 1:
        if any(int(start) != 0 for start in action_space.start):
            raise ValueError("export of MultiDiscrete actions with a nonzero start is not supported")
        return tuple(int(n) for n in action_space.nvec)
    if isinstance(action_space, spaces.Discrete):
        if int(action_space.start) != 0:
            raise ValueError("export of Discrete actions with a nonzero start is not supported")
        return (int(action_space.n),)
    raise ValueError(
        f"export of {type(action_space).__name__} actions comes with the issue 'agents for any environment'; "
        "the served actor plays Discrete and MultiDiscrete actions"
    )


def actor_from_policy(policy: ActorCriticPolicy, spec: ActorSpec) -> ActorNet:
    """Copy the policy half of an SB3 ``MlpPolicy`` into an :class:`ActorNet`.

    Args:
        policy: A PPO ``MlpPolicy`` over a flat ``Box`` observation with a Discrete or
            MultiDiscrete action.
        spec: The difficulty input and the handicap (the arena's:
            :func:`~gameai.training.agents.arena.arena_actor_spec`).

    Returns:
        The actor (on the CPU, eval mode).

    Raises:
        ValueError: If the policy is not an MLP over a flat observation (the pixel CNN is not
            served) or its action space has no served form.
    """
    observation_space = policy.observation_space
    observation_shape = observation_space.shape
    if (
        not isinstance(observation_space, spaces.Box)
        or observation_shape is None
        or len(observation_shape) != 1
    ):
        raise ValueError(
            f"only MLP policies over flat Box observations are exported, not {observation_space}"
        )
    nvec = action_nvec(policy.action_space)
    linears = [m for m in policy.mlp_extractor.policy_net if isinstance(m, nn.Linear)]
    activations = {type(m) for m in policy.mlp_extractor.policy_net if not isinstance(m, nn.Linear)}
    if activations - {nn.Tanh, nn.ReLU} or len(activations) > 1:
        raise ValueError(f"unsupported activations {activations}")
    config = ActorConfig(
        obs_dim=int(observation_shape[0]),
        action_nvec=nvec,
        hidden_sizes=tuple(m.out_features for m in linears),
        activation="relu" if nn.ReLU in activations else "tanh",
        difficulty_index=spec.difficulty_index,
        hold_fire=spec.hold_fire,
        scramble_aim=spec.scramble_aim,
        slip_move=spec.slip_move,
    )
    net = ActorNet(config)
    with torch.no_grad():
        for source, target in zip(linears, (m for m in net.body if isinstance(m, nn.Linear)), strict=True):
            target.weight.copy_(source.weight)
            target.bias.copy_(source.bias)
        action_net = policy.action_net
        assert isinstance(action_net, nn.Linear)
        net.head.weight.copy_(action_net.weight)
        net.head.bias.copy_(action_net.bias)
    return net.eval()


def export_checkpoint(
    checkpoint: Path, directory: Path, spec: ActorSpec, metadata: dict[str, Any] | None = None
) -> ActorNet:
    """Load a PPO checkpoint (zip); write its actor to ``directory`` (``actor.safetensors`` + ``.json``).

    Args:
        checkpoint: The SB3 zip.
        directory: ``assets/agents/<name>/``.
        spec: The difficulty input and handicap it was trained with.
        metadata: Kept in ``actor.json`` (the run, its figures).

    Returns:
        The exported actor.
    """
    model = PPO.load(checkpoint, device="cpu")
    net = actor_from_policy(model.policy, spec)
    save_actor(directory, net, {"timesteps": int(model.num_timesteps), **(metadata or {})})
    return net
