"""The NPC actor: observation vector -> one choice per branch of a MultiDiscrete action.

Serving format (the contract with the training/export code): a directory
``assets/agents/<name>/`` holding

* ``actor.safetensors``: the :class:`ActorNet` state dict;
* ``actor.json``: ``{"format": "gameai-actor", "format_version": 1,
  "config": {...ActorConfig fields...}, "metadata": {...free-form...}}``.

Write it with :func:`save_actor`, read it with :func:`load_actor`. The directory name
is the agent's name in the protocol (``act.agent``, ``welcome.agents``).

Exporting a Stable-Baselines3 PPO ``MlpPolicy`` (``net_arch=dict(pi=[h1, h2, ...])``):
``policy.mlp_extractor.policy_net`` -> :attr:`ActorNet.body` (same ``Linear`` indices
``0, 2, 4...``), ``policy.action_net`` -> :attr:`ActorNet.head`; with ``VecNormalize``
copy ``obs_rms.mean``/``obs_rms.var``, ``clip_obs`` and ``epsilon`` into the config.

Difficulty (``act.difficulty`` in [0, 1]): with ``difficulty_input`` the policy is
skill-conditioned and the difficulty is appended, unnormalised, as the last input
feature (the network takes ``obs_dim + 1`` inputs). Without it the policy ignores the
difficulty; the server still records and echoes it, and a game can weaken the NPC
itself (the demo game blurs its aim). A rated ladder of checkpoints can be served as
several agent directories (``arena_d0``, ``arena_d1``...), the game picking by name.
Actions are always deterministic: the argmax of each branch's logits.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import torch
from torch import nn

from gameai.model_files import (
    ModelLoadError,
    config_from_dict,
    config_to_dict,
    file_version,
    load_weights,
    read_json,
    save_weights,
    write_json,
)

FORMAT: Final = "gameai-actor"
FORMAT_VERSION: Final = 1
WEIGHTS_FILE: Final = "actor.safetensors"
CONFIG_FILE: Final = "actor.json"


@dataclass(frozen=True)
class ActorConfig:
    """Shape and preprocessing of an actor (saved beside its weights)."""

    obs_dim: int = 32
    """Length of the observation vector (difficulty not included)."""
    action_nvec: tuple[int, ...] = (9, 4, 2)
    """Choices per action branch (the MultiDiscrete ``nvec``; the arena's move, fire, dash)."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Widths of the hidden layers (SB3's default ``pi`` net is (64, 64))."""
    activation: Literal["tanh", "relu"] = "tanh"
    """Activation after each hidden layer (SB3's default is tanh)."""
    difficulty_input: bool = False
    """Append the difficulty in [0, 1] as an extra input (a skill-conditioned policy)."""
    obs_mean: tuple[float, ...] | None = None
    """Observation running mean (VecNormalize ``obs_rms.mean``); None: no normalisation."""
    obs_var: tuple[float, ...] | None = None
    """Observation running variance (VecNormalize ``obs_rms.var``)."""
    obs_clip: float = 10.0
    """Normalised observations are clipped to [-obs_clip, obs_clip]."""
    obs_epsilon: float = 1e-8
    """Added to the variance before the square root."""

    def __post_init__(self) -> None:
        if not (isinstance(self.obs_dim, int) and self.obs_dim >= 1):
            raise ValueError(f"obs_dim must be a positive int, got {self.obs_dim}")
        if not self.action_nvec or not all(isinstance(n, int) and n >= 1 for n in self.action_nvec):
            raise ValueError(f"action_nvec must be positive ints, got {self.action_nvec}")
        if not all(isinstance(h, int) and h >= 1 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive ints, got {self.hidden_sizes}")
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu', got {self.activation!r}")
        if (self.obs_mean is None) != (self.obs_var is None):
            raise ValueError("obs_mean and obs_var go together")
        if self.obs_mean is not None and self.obs_var is not None:
            if len(self.obs_mean) != self.obs_dim or len(self.obs_var) != self.obs_dim:
                raise ValueError(f"obs_mean and obs_var need obs_dim={self.obs_dim} values")
            if min(self.obs_var) < 0:
                raise ValueError("obs_var must be >= 0")

    @property
    def input_dim(self) -> int:
        """Inputs of the first layer: ``obs_dim`` (+1 with ``difficulty_input``)."""
        return self.obs_dim + (1 if self.difficulty_input else 0)


class ActorNet(nn.Module):
    """MLP policy head producing concatenated per-branch logits.

    Args:
        config: Shapes and preprocessing.
    """

    obs_mean: torch.Tensor
    obs_scale: torch.Tensor

    def __init__(self, config: ActorConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.input_dim
        for hidden in config.hidden_sizes:
            layers += [nn.Linear(width, hidden), nn.Tanh() if config.activation == "tanh" else nn.ReLU()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, sum(config.action_nvec))
        if config.obs_mean is not None and config.obs_var is not None:
            mean = torch.tensor(config.obs_mean, dtype=torch.float32)
            scale = 1.0 / torch.sqrt(torch.tensor(config.obs_var, dtype=torch.float32) + config.obs_epsilon)
        else:
            mean, scale = torch.zeros(config.obs_dim), torch.ones(config.obs_dim)
        self.register_buffer("obs_mean", mean, persistent=False)
        self.register_buffer("obs_scale", scale, persistent=False)
        self._normalise = config.obs_mean is not None

    def forward(self, obs: torch.Tensor, difficulty: torch.Tensor | None = None) -> torch.Tensor:
        """Per-branch logits, concatenated.

        Args:
            obs: ``(B, obs_dim)`` float32 raw observations.
            difficulty: ``(B,)`` in [0, 1]; required with ``difficulty_input``, else ignored.

        Returns:
            ``(B, sum(action_nvec))`` logits.

        Raises:
            ValueError: If the policy needs a difficulty and none is given.
        """
        if self._normalise:
            clip = self.config.obs_clip
            obs = ((obs - self.obs_mean) * self.obs_scale).clamp(-clip, clip)
        if self.config.difficulty_input:
            if difficulty is None:
                raise ValueError("this actor is conditioned on difficulty; pass one")
            obs = torch.cat([obs, difficulty.to(obs.dtype).view(-1, 1)], dim=1)  # (B, obs_dim + 1)
        logits: torch.Tensor = self.head(self.body(obs))
        return logits

    def act(self, obs: torch.Tensor, difficulty: torch.Tensor | None = None) -> torch.Tensor:
        """Deterministic actions: the argmax of each branch.

        Args:
            obs: ``(B, obs_dim)`` float32.
            difficulty: ``(B,)`` in [0, 1], see :meth:`forward`.

        Returns:
            ``(B, n_branches)`` int64.
        """
        logits = self.forward(obs, difficulty)
        branches = torch.split(logits, list(self.config.action_nvec), dim=1)
        return torch.stack([branch.argmax(dim=1) for branch in branches], dim=1)


def save_actor(directory: Path | str, net: ActorNet, metadata: dict[str, Any] | None = None) -> None:
    """Write ``actor.safetensors`` and ``actor.json`` into ``directory``.

    Args:
        directory: ``assets/agents/<name>/`` (created if needed).
        net: The actor; its ``config`` is saved with it.
        metadata: Free-form JSON data kept in ``actor.json`` (training run, Elo...).
    """
    directory = Path(directory)
    save_weights(directory / WEIGHTS_FILE, net, metadata={"format": FORMAT})
    write_json(
        directory / CONFIG_FILE,
        {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "config": config_to_dict(net.config),
            "metadata": metadata or {},
        },
    )


@dataclass(frozen=True)
class LoadedActor:
    """An actor ready for inference."""

    name: str
    """The agent's name (its directory name)."""
    net: ActorNet
    """The network in eval mode on its device."""
    config: ActorConfig
    """Its config."""
    version: str
    """Content hash of the weights."""
    metadata: dict[str, Any]
    """The ``metadata`` of ``actor.json``."""


def load_actor(directory: Path | str, device: torch.device | str = "cpu") -> LoadedActor:
    """Load an actor saved by :func:`save_actor`.

    Args:
        directory: The agent's directory.
        device: Where to put the network.

    Returns:
        The actor in eval mode with its config, version and metadata.

    Raises:
        ModelLoadError: If a file is missing, corrupt, of another format, or the weights
            do not fit the config.
    """
    directory = Path(directory)
    path = directory / CONFIG_FILE
    data = read_json(path)
    if not isinstance(data, dict):
        raise ModelLoadError(f"{path}: not a JSON object")
    if data.get("format") != FORMAT:
        raise ModelLoadError(f"{path}: not a {FORMAT} config (format={data.get('format')!r})")
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelLoadError(f"{path}: format_version {data.get('format_version')!r} unsupported")
    config = config_from_dict(ActorConfig, data.get("config", {}), path)
    net = ActorNet(config)
    load_weights(directory / WEIGHTS_FILE, net, device)
    net.to(device).eval()
    metadata = data.get("metadata") or {}
    return LoadedActor(
        name=directory.name,
        net=net,
        config=config,
        version=file_version(directory / WEIGHTS_FILE),
        metadata=metadata if isinstance(metadata, dict) else {},
    )
