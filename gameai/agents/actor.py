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

Difficulty (``act.difficulty`` in [0, 1]) reaches a skill-conditioned actor in two ways,
exactly as in training (``docs/agents.md``):

* the observation already has a difficulty feature (the arena's ``DIFFICULTY``, index
  40): :attr:`ActorConfig.difficulty_index` names it, and the actor overwrites it with
  the served difficulty before the network sees it (so the game may send anything there);
* the actor's "hands" are spoiled below difficulty 1 (:attr:`ActorConfig.hold_fire`,
  :attr:`~ActorConfig.scramble_aim`, :attr:`~ActorConfig.slip_move`): the same rule as
  ``demo_game.sim.actions.ActionHandicap``, which spoiled the agent's actions during training.

Without ``difficulty_index`` the policy ignores the difficulty (the server still records
and echoes it). :meth:`ActorNet.choose` gives the network's own choice (the argmax of each
branch: deterministic); :meth:`ActorNet.act` gives the action played, the choice after the
handicap, which draws random numbers below difficulty 1 and is the choice itself at 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

import torch
from torch import nn

from gameai.model_files import (
    WEIGHTS_HASH_KEY,
    ModelLoadError,
    check_weights_hash,
    config_from_dict,
    config_to_dict,
    file_version,
    load_weights,
    read_json,
    save_weights,
    sha256_of,
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
    difficulty_index: int | None = None
    """Observation feature overwritten with the served difficulty (arena: 40); None: no difficulty input."""
    hold_fire: float = 0.0
    """Chance at difficulty 0 that a shot (branch 1 > 0) is held back; scaled by 1 - difficulty."""
    scramble_aim: float = 0.0
    """Chance at difficulty 0 that a shot's choice is replaced by a random shot choice (1..n-1)."""
    slip_move: float = 0.0
    """Chance at difficulty 0 that the move (branch 0) is replaced by a random one."""
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
        if self.difficulty_index is not None and not 0 <= self.difficulty_index < self.obs_dim:
            raise ValueError(f"difficulty_index must be in [0, {self.obs_dim}), got {self.difficulty_index}")
        for name in ("hold_fire", "scramble_aim", "slip_move"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.has_handicap and (len(self.action_nvec) < 2 or self.action_nvec[1] < 2):
            raise ValueError("a handicap needs a move branch (0) and a fire branch (1) with a shot choice")
        if (self.obs_mean is None) != (self.obs_var is None):
            raise ValueError("obs_mean and obs_var go together")
        if self.obs_mean is not None and self.obs_var is not None:
            if len(self.obs_mean) != self.obs_dim or len(self.obs_var) != self.obs_dim:
                raise ValueError(f"obs_mean and obs_var need obs_dim={self.obs_dim} values")
            if min(self.obs_var) < 0:
                raise ValueError("obs_var must be >= 0")

    @property
    def difficulty_input(self) -> bool:
        """Whether the policy is conditioned on the difficulty (``welcome.agents[...].difficulty_input``)."""
        return self.difficulty_index is not None

    @property
    def has_handicap(self) -> bool:
        """Whether the actions are spoiled below difficulty 1."""
        return self.hold_fire > 0.0 or self.scramble_aim > 0.0 or self.slip_move > 0.0


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
        width = config.obs_dim
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
            difficulty: ``(B,)`` in [0, 1], written into feature ``difficulty_index`` (clipped);
                None keeps the observation's own value. Ignored without ``difficulty_index``.

        Returns:
            ``(B, sum(action_nvec))`` logits.
        """
        index = self.config.difficulty_index
        if index is not None and difficulty is not None:
            obs = obs.clone()
            obs[:, index] = difficulty.to(obs.dtype).view(-1).clamp(0.0, 1.0)
        if self._normalise:
            clip = self.config.obs_clip
            obs = ((obs - self.obs_mean) * self.obs_scale).clamp(-clip, clip)
        logits: torch.Tensor = self.head(self.body(obs))
        return logits

    def choose(self, obs: torch.Tensor, difficulty: torch.Tensor | None = None) -> torch.Tensor:
        """The network's choice: the argmax of each branch (deterministic).

        Args:
            obs: ``(B, obs_dim)`` float32.
            difficulty: ``(B,)`` in [0, 1], see :meth:`forward`.

        Returns:
            ``(B, n_branches)`` int64.
        """
        logits = self.forward(obs, difficulty)
        branches = torch.split(logits, list(self.config.action_nvec), dim=1)
        return torch.stack([branch.argmax(dim=1) for branch in branches], dim=1)

    def act(
        self,
        obs: torch.Tensor,
        difficulty: torch.Tensor | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """The action played: :meth:`choose`, then the handicap at ``difficulty``.

        Args:
            obs: ``(B, obs_dim)`` float32.
            difficulty: ``(B,)`` in [0, 1]; None plays at full strength (no handicap).
            generator: A CPU generator the handicap draws from (None: torch's default one).

        Returns:
            ``(B, n_branches)`` int64; equal to :meth:`choose` at difficulty 1.
        """
        actions = self.choose(obs, difficulty)
        if difficulty is None or not self.config.has_handicap:
            return actions
        return spoil_actions(actions, difficulty, self.config, generator)


def spoil_actions(
    actions: torch.Tensor,
    difficulty: torch.Tensor,
    config: ActorConfig,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Apply the handicap of ``config`` to chosen actions (``demo_game.sim.actions.handicap_actions``'s rule).

    With weakness w = 1 - difficulty: the move slips to a uniformly random one with chance
    ``slip_move * w``; a shot's choice is replaced by a uniformly random shot choice with
    chance ``scramble_aim * w``; then a shot is held back with chance ``hold_fire * w``.

    Args:
        actions: ``(B, n_branches)`` int64 chosen actions (branch 0 moves, branch 1 fires: 0 holds).
        difficulty: ``(B,)`` in [0, 1].
        config: The chances and the branch sizes.
        generator: A CPU generator to draw from (None: torch's default one).

    Returns:
        ``(B, n_branches)`` int64 on the device of ``actions``.
    """
    device = actions.device
    weakness = 1.0 - difficulty.detach().to("cpu", torch.float32).view(-1).clamp(0.0, 1.0)  # (B,)
    draws = torch.rand((actions.shape[0], 5), generator=generator)  # (B, 5): hold, scramble, shot, slip, move
    played = actions.to("cpu").clone()
    n_moves, n_fire = config.action_nvec[0], config.action_nvec[1]
    slip = draws[:, 3] < config.slip_move * weakness
    random_move = (draws[:, 4] * n_moves).long().clamp(max=n_moves - 1)
    played[:, 0] = torch.where(slip, random_move, played[:, 0])
    fire = played[:, 1]
    scramble = (fire > 0) & (draws[:, 1] < config.scramble_aim * weakness)
    random_shot = 1 + (draws[:, 2] * (n_fire - 1)).long().clamp(max=n_fire - 2)
    fire = torch.where(scramble, random_shot, fire)
    hold = (fire > 0) & (draws[:, 0] < config.hold_fire * weakness)
    played[:, 1] = torch.where(hold, torch.zeros_like(fire), fire)
    return played.to(device)


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
            WEIGHTS_HASH_KEY: sha256_of(directory / WEIGHTS_FILE),
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
    check_weights_hash(directory / WEIGHTS_FILE, data.get(WEIGHTS_HASH_KEY))
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
