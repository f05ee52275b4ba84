"""From a trained Stable-Baselines3 PPO policy to the served actor (safetensors + JSON, no pickles).

The SB3 zip stays in ``checkpoints/`` (training and resuming only); what is served is the
policy half of the MLP, copied layer by layer into an :class:`~gameai.agents.actor.ActorNet`:
``mlp_extractor.policy_net`` -> ``body`` (same ``Linear`` indices), ``action_net`` -> ``head``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.policies import ActorCriticPolicy
from torch import nn

from envs.actions import ActionHandicap
from envs.observation import ObservationField
from gameai.agents.actor import ActorConfig, ActorNet, save_actor


def actor_from_policy(policy: ActorCriticPolicy, handicap: ActionHandicap) -> ActorNet:
    """Copy the policy half of an SB3 ``MlpPolicy`` on ``gameai/Arena-v0`` into an :class:`ActorNet`.

    Args:
        policy: A PPO ``MlpPolicy`` (a flat Box observation, a MultiDiscrete action).
        handicap: The handicap the agent was trained with (the env's ``ArenaEnvConfig.handicap``).

    Returns:
        The actor (on the CPU, eval mode), conditioned on the observation's ``DIFFICULTY``.

    Raises:
        ValueError: If the policy is not an MLP over a flat observation (the pixel CNN is not served).
    """
    observation_shape = policy.observation_space.shape
    if observation_shape is None or len(observation_shape) != 1:
        raise ValueError(f"only MLP policies over vector observations are exported, not {observation_shape}")
    linears = [m for m in policy.mlp_extractor.policy_net if isinstance(m, nn.Linear)]
    activations = {type(m) for m in policy.mlp_extractor.policy_net if not isinstance(m, nn.Linear)}
    if activations - {nn.Tanh, nn.ReLU} or len(activations) > 1:
        raise ValueError(f"unsupported activations {activations}")
    config = ActorConfig(
        obs_dim=int(observation_shape[0]),
        action_nvec=tuple(int(n) for n in policy.action_space.nvec),  # type: ignore[attr-defined]
        hidden_sizes=tuple(m.out_features for m in linears),
        activation="relu" if nn.ReLU in activations else "tanh",
        difficulty_index=int(ObservationField.DIFFICULTY),
        hold_fire=handicap.hold_fire,
        scramble_aim=handicap.scramble_aim,
        slip_move=handicap.slip_move,
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
    checkpoint: Path, directory: Path, handicap: ActionHandicap, metadata: dict[str, Any] | None = None
) -> ActorNet:
    """Load a PPO checkpoint (zip); write its actor to ``directory`` (``actor.safetensors`` + ``.json``).

    Args:
        checkpoint: The SB3 zip.
        directory: ``assets/agents/<name>/``.
        handicap: The handicap it was trained with.
        metadata: Kept in ``actor.json`` (the run, its figures).

    Returns:
        The exported actor.
    """
    model = PPO.load(checkpoint, device="cpu")
    net = actor_from_policy(model.policy, handicap)
    save_actor(directory, net, {"timesteps": int(model.num_timesteps), **(metadata or {})})
    return net
