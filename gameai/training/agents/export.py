"""From a Stable-Baselines3 policy to the served actor (safetensors + JSON, no pickles).

What is served is the deterministic half of a policy, copied layer by layer into an
:class:`~gameai.agents.actor.ActorNet` (an MLP ``body`` and a linear ``head``). Where the
layers are depends on the policy's family, which every SB3 algorithm with a flat ``Box``
observation has one of:

============  ========================================  ==============================
family        body (``Linear`` layers, in order)        head
============  ========================================  ==============================
actor-critic  ``mlp_extractor.policy_net.*`` (PPO, A2C)  ``action_net``
q-network     ``q_net.q_net.*`` but the last (DQN)       the last ``q_net.q_net`` layer
sac           ``actor.latent_pi.*``                      ``actor.mu`` (squashed)
td3           ``actor.mu.*`` but the last (TD3, DDPG)    the last ``actor.mu`` layer (squashed)
============  ========================================  ==============================

The action space decides what the head's outputs mean (:mod:`gameai.agents.actor`):
``Discrete``, ``MultiDiscrete``, ``MultiBinary`` or ``Box``. A ``VecNormalize``'s observation
statistics are folded into the actor (:class:`ObsNormalization`). What the policy does not
know (which observation feature carries the difficulty, the handicap) comes from the
environment as an :class:`ActorSpec`.

Two ways in: a live policy (:func:`actor_from_policy`, training and self-play) and its
state dict with the facts about it (:func:`actor_from_weights`, what
:mod:`gameai.training.agents.sb3_zip` reads from a zip without unpickling it). Both end in
the same copy, so a checkpoint exports exactly as the live policy it was saved from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from gymnasium import spaces
from torch import nn

from gameai.agents.actor import ACTIVATIONS, UNBOUNDED, ActorConfig, ActorNet

PolicyFamily = Literal["actor-critic", "q-network", "sac", "td3"]
"""Where a policy keeps its deterministic half (see the module docstring)."""

DEFAULT_ACTIVATION: dict[PolicyFamily, str] = {
    "actor-critic": "tanh",
    "q-network": "relu",
    "sac": "relu",
    "td3": "relu",
}
"""SB3's default activation per family (what a zip that does not name one used)."""

_BODY_AND_HEAD: dict[PolicyFamily, tuple[str, str | None]] = {
    "actor-critic": ("mlp_extractor.policy_net.", "action_net."),
    "q-network": ("q_net.q_net.", None),
    "sac": ("actor.latent_pi.", "actor.mu."),
    "td3": ("actor.mu.", None),
}
"""State-dict prefixes of the body and the head (None: the head is the body's last layer)."""

ACTIVATION_OF_CLASS: dict[str, str] = {cls.__name__: name for name, cls in ACTIVATIONS.items()}
"""A torch activation class's name (``ReLU``) -> the actor's name for it (``relu``)."""

_FEATURE_EXTRACTORS = ("features_extractor.", "pi_features_extractor.", "actor.features_extractor.")


@dataclass(frozen=True)
class ActorSpec:
    """What the served actor's config needs beyond the network's shapes (given by the environment)."""

    difficulty_index: int | None = None
    """Observation feature overwritten with the served difficulty (the arena's 40); None: none."""
    random_action: float = 0.0
    """Handicap, any action space: chance at difficulty 0 that each element is replaced by a random one."""
    hold_fire: float = 0.0
    """Arena handicap: chance at difficulty 0 that a shot is held back (see :class:`ActorConfig`)."""
    scramble_aim: float = 0.0
    """Arena handicap: chance at difficulty 0 that a shot's choice is replaced by a random one."""
    slip_move: float = 0.0
    """Arena handicap: chance at difficulty 0 that the move is replaced by a random one."""
    freeze: float = 0.0
    """Handicap, any action space: chance at difficulty 0 that the agent plays ``idle_action``."""
    idle_action: tuple[float, ...] | None = None
    """The action a frozen agent plays (None: 0 in every element; see :class:`ActorConfig`)."""


@dataclass(frozen=True)
class ObsNormalization:
    """A ``VecNormalize``'s observation statistics, folded into the served actor."""

    mean: tuple[float, ...]
    """``obs_rms.mean``."""
    var: tuple[float, ...]
    """``obs_rms.var``."""
    clip: float = 10.0
    """``clip_obs``."""
    epsilon: float = 1e-8
    """``epsilon``."""


def action_fields(action_space: spaces.Space[Any]) -> dict[str, Any]:
    """The :class:`ActorConfig` fields of an action space (``action_space``, ``action_nvec``, bounds).

    Raises:
        ValueError: For a space the actor does not play (one line, for the command line).
    """
    if isinstance(action_space, spaces.Discrete):
        if int(action_space.start) != 0:
            raise ValueError("export of Discrete actions with a nonzero start is not supported")
        return {"action_space": "Discrete", "action_nvec": (int(action_space.n),)}
    if isinstance(action_space, spaces.MultiDiscrete):
        if action_space.nvec.ndim != 1:
            raise ValueError(
                f"export of MultiDiscrete actions of shape {action_space.nvec.shape} is not supported"
            )
        if np.any(action_space.start != 0):
            raise ValueError("export of MultiDiscrete actions with a nonzero start is not supported")
        return {"action_space": "MultiDiscrete", "action_nvec": tuple(int(n) for n in action_space.nvec)}
    if isinstance(action_space, spaces.MultiBinary):
        if len(action_space.shape) != 1:
            raise ValueError(f"export of MultiBinary actions of shape {action_space.shape} is not supported")
        return {"action_space": "MultiBinary", "action_nvec": (2,) * int(action_space.shape[0])}
    if isinstance(action_space, spaces.Box):
        if len(action_space.shape) != 1:
            raise ValueError(
                f"export of Box actions of shape {action_space.shape} is not supported (flat only)"
            )
        return {
            "action_space": "Box",
            "action_nvec": (),
            "action_low": tuple(_bound(v) for v in action_space.low),
            "action_high": tuple(_bound(v) for v in action_space.high),
        }
    raise ValueError(
        f"{type(action_space).__name__} actions cannot be served "
        "(the actor plays Discrete, MultiDiscrete, MultiBinary and flat Box actions)"
    )


def action_nvec(action_space: spaces.Space[Any]) -> tuple[int, ...]:
    """The choices per element of a discrete action space (``Discrete(n)`` as ``(n,)``).

    Raises:
        ValueError: For a space without choices (Box) or that the actor does not play.
    """
    fields = action_fields(action_space)
    if fields["action_space"] == "Box":
        raise ValueError("a Box action has bounds, not choices")
    nvec: tuple[int, ...] = fields["action_nvec"]
    return nvec


def _bound(value: float) -> float:
    return float(np.clip(value, -UNBOUNDED, UNBOUNDED))


def policy_family(policy: nn.Module) -> PolicyFamily:
    """The family of a live SB3 policy (by its class).

    Raises:
        ValueError: For a policy of another kind.
    """
    names = {cls.__name__ for cls in type(policy).__mro__}
    if "ActorCriticPolicy" in names:
        return "actor-critic"
    if "DQNPolicy" in names:
        return "q-network"
    if "SACPolicy" in names:
        return "sac"
    if "TD3Policy" in names:
        return "td3"
    raise ValueError(
        f"cannot export a {type(policy).__name__}: PPO, A2C, DQN, SAC, TD3 and DDPG policies are"
    )


def _activation_of(module: nn.Module) -> str:
    found = {type(m).__name__ for m in module.modules() if type(m).__name__ in ACTIVATION_OF_CLASS}
    if len(found) > 1:
        raise ValueError(f"the policy mixes activations {sorted(found)}; one is served")
    return ACTIVATION_OF_CLASS[found.pop()] if found else "tanh"


def actor_from_policy(
    policy: nn.Module, spec: ActorSpec, normalization: ObsNormalization | None = None
) -> ActorNet:
    """The served actor of a live SB3 policy (PPO, A2C, DQN, SAC, TD3).

    Args:
        policy: An MLP policy over a flat ``Box`` observation.
        spec: The difficulty input and the handicap (the arena's:
            :func:`~gameai.training.agents.arena.arena_actor_spec`).
        normalization: The ``VecNormalize`` statistics the policy was trained behind.

    Returns:
        The actor (on the CPU, eval mode).

    Raises:
        ValueError: If the policy or its spaces have no served form (one line, for the command line).
    """
    family = policy_family(policy)
    body_prefix = _BODY_AND_HEAD[family][0].removesuffix(".")
    squash = family in ("sac", "td3") or bool(getattr(policy, "squash_output", False))
    return actor_from_weights(
        {k: v.detach().cpu() for k, v in policy.state_dict().items()},
        family=family,
        observation_space=policy.observation_space,  # type: ignore[arg-type]
        action_space=policy.action_space,  # type: ignore[arg-type]
        activation=_activation_of(policy.get_submodule(body_prefix)),
        squash=squash,
        spec=spec,
        normalization=normalization,
    )


def actor_from_weights(
    state_dict: dict[str, torch.Tensor],
    *,
    family: PolicyFamily,
    observation_space: spaces.Space[Any],
    action_space: spaces.Space[Any],
    activation: str,
    squash: bool,
    spec: ActorSpec,
    normalization: ObsNormalization | None = None,
) -> ActorNet:
    """Copy the deterministic half of a policy's state dict into an :class:`ActorNet`.

    Args:
        state_dict: The policy's ``state_dict()`` (the ``policy.pth`` of an SB3 zip).
        family: Where its layers are (see the module docstring).
        observation_space: A flat ``Box``.
        action_space: Discrete, MultiDiscrete, MultiBinary or flat Box.
        activation: Of the hidden layers (tanh, relu, elu, leaky_relu).
        squash: Box actions: tanh-squashed to the bounds (SAC, TD3, gSDE with squash_output), else clipped.
        spec: The difficulty input and handicap.
        normalization: ``VecNormalize`` observation statistics to fold in.

    Returns:
        The actor (CPU, eval mode).

    Raises:
        ValueError: If the weights do not make an MLP of the spaces' shapes, the policy has
            a features extractor with weights (a CNN), or a space has no served form.
    """
    shape = observation_space.shape
    if not isinstance(observation_space, spaces.Box) or shape is None or len(shape) != 1:
        raise ValueError(f"only policies over flat Box observations are served, not {observation_space}")
    obs_dim = int(shape[0])
    extractors = sorted({k.split(".")[0] for k in state_dict if k.startswith(_FEATURE_EXTRACTORS)})
    if extractors:
        raise ValueError(
            f"the policy's features extractor has weights ({extractors[0]}: a CNN?); "
            "only MLP policies are served"
        )
    fields = action_fields(action_space)
    body, head = _layers(state_dict, family)
    widths = [int(w.shape[0]) for w, _ in body]
    config = ActorConfig(
        obs_dim=obs_dim,
        hidden_sizes=tuple(widths),
        activation=activation,  # type: ignore[arg-type]
        action_squash=squash and fields["action_space"] == "Box",
        difficulty_index=spec.difficulty_index,
        random_action=spec.random_action,
        hold_fire=spec.hold_fire,
        scramble_aim=spec.scramble_aim,
        slip_move=spec.slip_move,
        freeze=spec.freeze,
        idle_action=spec.idle_action,
        obs_mean=normalization.mean if normalization else None,
        obs_var=normalization.var if normalization else None,
        obs_clip=normalization.clip if normalization else 10.0,
        obs_epsilon=normalization.epsilon if normalization else 1e-8,
        **fields,
    )
    net = ActorNet(config)
    expected_in = [obs_dim, *widths]
    for (weight, _), width in zip([*body, head], expected_in, strict=True):
        if weight.ndim != 2 or int(weight.shape[1]) != width:
            raise ValueError(
                f"the weights do not chain: a layer takes {tuple(weight.shape)[1:]} inputs "
                f"where {width} arrive "
                f"(observation of {obs_dim})"
            )
    if int(head[0].shape[0]) != config.head_size:
        raise ValueError(
            f"the head has {int(head[0].shape[0])} outputs; {fields['action_space']} actions "
            f"{fields.get('action_nvec') or len(fields.get('action_low', ()))} need {config.head_size}"
        )
    targets = [m for m in net.body if isinstance(m, nn.Linear)] + [net.head]
    with torch.no_grad():
        for (weight, bias), target in zip([*body, head], targets, strict=True):
            target.weight.copy_(weight)
            target.bias.copy_(bias)
    return net.eval()


def _layers(
    state_dict: dict[str, torch.Tensor], family: PolicyFamily
) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], tuple[torch.Tensor, torch.Tensor]]:
    """The body's ``(weight, bias)`` pairs in order, and the head's."""
    body_prefix, head_prefix = _BODY_AND_HEAD[family]
    pattern = re.compile(re.escape(body_prefix) + r"(\d+)\.weight$")
    indices = sorted(int(m.group(1)) for k in state_dict if (m := pattern.match(k)))
    try:
        linears = [
            (state_dict[f"{body_prefix}{i}.weight"], state_dict[f"{body_prefix}{i}.bias"]) for i in indices
        ]
        if head_prefix is None:
            if not linears:
                raise KeyError(f"{body_prefix}0.weight")
            return linears[:-1], linears[-1]
        return linears, (state_dict[f"{head_prefix}weight"], state_dict[f"{head_prefix}bias"])
    except KeyError as exc:
        raise ValueError(f"not a {family} policy's weights: {exc.args[0]} is missing") from None
