"""The served actor: observation vector -> action, for any flat Gymnasium action space.

Serving format (the contract with the export and import code): a directory
``assets/agents/<name>/`` holding

* ``actor.safetensors``: the :class:`ActorNet` state dict;
* ``actor.json``: ``{"format": "gameai-actor", "format_version": 2,
  "config": {...ActorConfig fields...}, "weights_sha256": "...", "metadata": {...free-form...}}``
  (version 1 files, MultiDiscrete actors written before the other action spaces, still load).

Write it with :func:`save_actor`, read it with :func:`load_actor`. The directory name
is the agent's name in the protocol (``act.agent``, ``welcome.agents``).

The network is an MLP ``body`` and a linear ``head``; what the head's outputs mean depends
on :attr:`ActorConfig.action_space` (the Stable-Baselines3 policy it was exported from, by
:mod:`gameai.training.agents.export`, decides them):

* ``Discrete`` / ``MultiDiscrete``: one logit (or Q-value) per choice of each branch; the
  action is the argmax of each branch (``Discrete(n)`` is the one branch ``(n,)``);
* ``MultiBinary``: one logit per element; the element is 1 when its logit is > 0;
* ``Box``: the mean of each element; clipped to ``[action_low, action_high]``, or, with
  :attr:`ActorConfig.action_squash` (SAC, TD3), squashed by tanh and scaled to the bounds.

Difficulty (``act.difficulty`` in [0, 1]) reaches an actor in two ways (``docs/agents.md``):

* the observation has a difficulty feature (the arena's ``DIFFICULTY``, index 40):
  :attr:`ActorConfig.difficulty_index` names it, and the actor overwrites it with the served
  difficulty before the network sees it (so the game may send anything there);
* the handicap spoils the chosen action below difficulty 1, with weakness ``w = 1 - d``, in
  this order: the arena's move/fire chances :attr:`~ActorConfig.hold_fire`,
  :attr:`~ActorConfig.scramble_aim`, :attr:`~ActorConfig.slip_move`
  (``demo_game.sim.actions.ActionHandicap``'s rule, for a MultiDiscrete action whose branch 0
  moves and branch 1 fires); :attr:`~ActorConfig.random_action` (any action space: each element
  is replaced by a uniformly random valid value with chance ``random_action * w``); last
  :attr:`~ActorConfig.freeze` (any action space: with chance ``freeze * w`` the whole action
  becomes :attr:`~ActorConfig.idle_action`, by default 0 in every element: the arena's NPC
  stands still and holds fire).

:meth:`ActorNet.choose` gives the network's own choice (deterministic); :meth:`ActorNet.act`
gives the action played, the choice after the handicap, which draws random numbers below
difficulty 1 and is the choice itself at 1.
"""

from __future__ import annotations

import numbers
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
FORMAT_VERSION: Final = 2
READABLE_VERSIONS: Final = (1, 2)
"""Format versions :func:`load_actor` reads (1: MultiDiscrete actors, before the other spaces)."""
WEIGHTS_FILE: Final = "actor.safetensors"
CONFIG_FILE: Final = "actor.json"

ActionSpaceKind = Literal["Discrete", "MultiDiscrete", "MultiBinary", "Box"]
"""The Gymnasium action space an actor plays."""
Activation = Literal["tanh", "relu", "elu", "leaky_relu"]
"""Activation after each hidden layer."""

UNBOUNDED: Final = 3.4028234663852886e38
"""An unbounded ``Box`` limit in the config and ``welcome`` (float32's largest: JSON has no infinity)."""

ACTIVATIONS: Final[dict[str, type[nn.Module]]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "elu": nn.ELU,
    "leaky_relu": nn.LeakyReLU,
}
"""The activations an actor may have, by their config name."""

HANDICAP_CHANCES: Final = ("random_action", "hold_fire", "scramble_aim", "slip_move", "freeze")
"""The config's handicap chances (``welcome.agents[...].handicap`` names those in use)."""


@dataclass(frozen=True)
class ActorConfig:
    """Shape and preprocessing of an actor (saved beside its weights)."""

    obs_dim: int = 32
    """Length of the observation vector (the difficulty feature, if any, included)."""
    action_space: ActionSpaceKind = "MultiDiscrete"
    """The action space played (see the module docstring for what the head's outputs mean)."""
    action_nvec: tuple[int, ...] = (9, 4, 2)
    """Choices per element: the MultiDiscrete ``nvec``, ``(n,)`` for ``Discrete(n)``, ``(2,) * n`` for
    ``MultiBinary(n)``; empty for ``Box`` (the arena's move, fire, dash by default)."""
    action_low: tuple[float, ...] | None = None
    """``Box`` only: the lower bound of each element (``-UNBOUNDED``: none)."""
    action_high: tuple[float, ...] | None = None
    """``Box`` only: the upper bound of each element (``UNBOUNDED``: none)."""
    action_squash: bool = False
    """``Box`` only: tanh-squash the head's output and scale it to the bounds (SAC, TD3); else clip it."""
    hidden_sizes: tuple[int, ...] = (64, 64)
    """Widths of the hidden layers (SB3's default ``pi`` net is (64, 64))."""
    activation: Activation = "tanh"
    """Activation after each hidden layer (SB3's default: tanh for PPO and A2C, relu for DQN, SAC, TD3)."""
    difficulty_index: int | None = None
    """Observation feature overwritten with the served difficulty (arena: 40); None: no difficulty input."""
    random_action: float = 0.0
    """Handicap, any action space: chance at difficulty 0 that each element is replaced by a random one."""
    hold_fire: float = 0.0
    """Arena handicap: chance at difficulty 0 that a shot (branch 1 > 0) is held back."""
    scramble_aim: float = 0.0
    """Arena handicap: chance at difficulty 0 that a shot's choice becomes a random shot (1..n-1)."""
    slip_move: float = 0.0
    """Arena handicap: chance at difficulty 0 that the move (branch 0) is replaced by a random one."""
    freeze: float = 0.0
    """Handicap, any action space: chance at difficulty 0 that the agent does nothing this decision
    (the whole action becomes ``idle_action``)."""
    idle_action: tuple[float, ...] | None = None
    """The action a frozen agent plays: one valid value per element (ints for discrete spaces, stored
    as ints; within the bounds for Box); None: 0 in every element (the arena: stand still, hold fire)."""
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
        self._check_action_space()
        if not all(isinstance(h, int) and h >= 1 for h in self.hidden_sizes):
            raise ValueError(f"hidden_sizes must be positive ints, got {self.hidden_sizes}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {self.activation!r}")
        if self.difficulty_index is not None and not 0 <= self.difficulty_index < self.obs_dim:
            raise ValueError(f"difficulty_index must be in [0, {self.obs_dim}), got {self.difficulty_index}")
        for name in HANDICAP_CHANCES:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if self.has_arena_handicap and (
            self.action_space != "MultiDiscrete" or len(self.action_nvec) < 2 or self.action_nvec[1] < 2
        ):
            raise ValueError(
                "hold_fire, scramble_aim and slip_move need a MultiDiscrete action with a move branch (0) "
                "and a fire branch (1) with a shot choice; use random_action or freeze for other actions"
            )
        self._check_idle_action()
        if self.random_action > 0 and self.action_space == "Box" and not self.bounded:
            raise ValueError("random_action needs a Box action bounded on every side")
        if (self.obs_mean is None) != (self.obs_var is None):
            raise ValueError("obs_mean and obs_var go together")
        if self.obs_mean is not None and self.obs_var is not None:
            if len(self.obs_mean) != self.obs_dim or len(self.obs_var) != self.obs_dim:
                raise ValueError(f"obs_mean and obs_var need obs_dim={self.obs_dim} values")
            if min(self.obs_var) < 0:
                raise ValueError("obs_var must be >= 0")

    def _check_action_space(self) -> None:
        kind = self.action_space
        if kind not in ("Discrete", "MultiDiscrete", "MultiBinary", "Box"):
            raise ValueError(
                f"action_space must be Discrete, MultiDiscrete, MultiBinary or Box, got {kind!r}"
            )
        if kind == "Box":
            low, high = self.action_low, self.action_high
            if low is None or high is None or not low or len(low) != len(high):
                raise ValueError("a Box action needs action_low and action_high of one length >= 1")
            if any(not lo <= hi for lo, hi in zip(low, high, strict=True)):
                raise ValueError("action_low must be <= action_high")
            if self.action_nvec:
                raise ValueError("a Box action has no action_nvec (give ())")
            return
        if self.action_low is not None or self.action_high is not None or self.action_squash:
            raise ValueError(f"action_low, action_high and action_squash are for Box actions, not {kind}")
        if not self.action_nvec or not all(isinstance(n, int) and n >= 1 for n in self.action_nvec):
            raise ValueError(f"action_nvec must be positive ints, got {self.action_nvec}")
        if kind == "Discrete" and len(self.action_nvec) != 1:
            raise ValueError(f"a Discrete action has one branch, got action_nvec={self.action_nvec}")
        if kind == "MultiBinary" and any(n != 2 for n in self.action_nvec):
            raise ValueError(f"a MultiBinary action has action_nvec of 2s, got {self.action_nvec}")

    def _check_idle_action(self) -> None:
        """Refuse an idle action that is not one valid action; store a discrete one's values as ints."""
        if self.idle_action is None:
            if self.freeze > 0.0 and self.continuous:
                low, high = self.action_low or (), self.action_high or ()
                outside = [i for i, (lo, hi) in enumerate(zip(low, high, strict=True)) if not lo <= 0.0 <= hi]
                if outside:
                    raise ValueError(
                        f"freeze on this Box action needs an idle_action: the default 0 lies outside "
                        f"the bounds of element {outside[0]}"
                    )
            return
        values = tuple(self.idle_action)
        if len(values) != self.action_dim:
            raise ValueError(
                f"idle_action needs {self.action_dim} values (one per action element), got {len(values)}: "
                f"{list(values)}"
            )
        if any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in values):
            raise ValueError(f"idle_action must be numbers, got {list(values)}")
        if self.continuous:
            assert self.action_low is not None and self.action_high is not None
            for i, (v, lo, hi) in enumerate(zip(values, self.action_low, self.action_high, strict=True)):
                if not lo <= v <= hi:
                    raise ValueError(f"idle_action[{i}] = {v} lies outside the Box bounds [{lo}, {hi}]")
            object.__setattr__(self, "idle_action", tuple(float(v) for v in values))
            return
        for i, (v, n) in enumerate(zip(values, self.action_nvec, strict=True)):
            if not (float(v).is_integer() and 0 <= v < n):
                raise ValueError(f"idle_action[{i}] must be an int in [0, {n}) (a valid choice), got {v}")
        object.__setattr__(self, "idle_action", tuple(int(v) for v in values))

    @property
    def action_dim(self) -> int:
        """Elements of an action (branches, bits or Box elements)."""
        return len(self.action_low) if self.action_low is not None else len(self.action_nvec)

    @property
    def head_size(self) -> int:
        """Outputs of the head: a logit per choice or per bit; a mean per Box element."""
        if self.action_space in ("Discrete", "MultiDiscrete"):
            return sum(self.action_nvec)
        return self.action_dim

    @property
    def continuous(self) -> bool:
        """Whether actions are floats (Box) rather than ints."""
        return self.action_space == "Box"

    @property
    def bounded(self) -> bool:
        """Whether every element of a Box action has finite bounds (always true for the others)."""
        if self.action_low is None or self.action_high is None:
            return True
        return max(abs(v) for v in (*self.action_low, *self.action_high)) < UNBOUNDED

    @property
    def difficulty_input(self) -> bool:
        """Whether the policy is conditioned on the difficulty (``welcome.agents[...].difficulty_input``)."""
        return self.difficulty_index is not None

    @property
    def idle(self) -> tuple[float, ...]:
        """The action a frozen agent plays: :attr:`idle_action`, or 0 in every element."""
        if self.idle_action is not None:
            return self.idle_action
        return (0.0,) * self.action_dim if self.continuous else (0,) * self.action_dim

    @property
    def has_arena_handicap(self) -> bool:
        """Whether the arena's move/fire chances (hold_fire, scramble_aim, slip_move) spoil the actions."""
        return self.hold_fire > 0.0 or self.scramble_aim > 0.0 or self.slip_move > 0.0

    @property
    def handicap_in_use(self) -> tuple[str, ...]:
        """The handicap chances above 0, in :data:`HANDICAP_CHANCES` order."""
        return tuple(name for name in HANDICAP_CHANCES if getattr(self, name) > 0.0)

    @property
    def has_handicap(self) -> bool:
        """Whether the actions are spoiled below difficulty 1."""
        return self.random_action > 0.0 or self.freeze > 0.0 or self.has_arena_handicap


class ActorNet(nn.Module):
    """MLP policy: observation -> the head's outputs, and the action they choose.

    Args:
        config: Shapes and preprocessing.
    """

    obs_mean: torch.Tensor
    obs_scale: torch.Tensor
    action_low: torch.Tensor
    action_high: torch.Tensor

    def __init__(self, config: ActorConfig) -> None:
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width = config.obs_dim
        for hidden in config.hidden_sizes:
            layers += [nn.Linear(width, hidden), ACTIVATIONS[config.activation]()]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, config.head_size)
        if config.obs_mean is not None and config.obs_var is not None:
            mean = torch.tensor(config.obs_mean, dtype=torch.float32)
            scale = 1.0 / torch.sqrt(torch.tensor(config.obs_var, dtype=torch.float32) + config.obs_epsilon)
        else:
            mean, scale = torch.zeros(config.obs_dim), torch.ones(config.obs_dim)
        self.register_buffer("obs_mean", mean, persistent=False)
        self.register_buffer("obs_scale", scale, persistent=False)
        low = torch.tensor(config.action_low or (), dtype=torch.float32)
        high = torch.tensor(config.action_high or (), dtype=torch.float32)
        self.register_buffer("action_low", low, persistent=False)
        self.register_buffer("action_high", high, persistent=False)
        self._normalise = config.obs_mean is not None

    def forward(self, obs: torch.Tensor, difficulty: torch.Tensor | None = None) -> torch.Tensor:
        """The head's outputs (logits, Q-values or Box means; see the module docstring).

        Args:
            obs: ``(B, obs_dim)`` float32 raw observations.
            difficulty: ``(B,)`` in [0, 1], written into feature ``difficulty_index`` (clipped);
                None keeps the observation's own value. Ignored without ``difficulty_index``.

        Returns:
            ``(B, config.head_size)``.
        """
        index = self.config.difficulty_index
        if index is not None and difficulty is not None:
            obs = obs.clone()
            obs[:, index] = difficulty.to(obs.dtype).view(-1).clamp(0.0, 1.0)
        if self._normalise:
            clip = self.config.obs_clip
            obs = ((obs - self.obs_mean) * self.obs_scale).clamp(-clip, clip)
        outputs: torch.Tensor = self.head(self.body(obs))
        return outputs

    def choose(self, obs: torch.Tensor, difficulty: torch.Tensor | None = None) -> torch.Tensor:
        """The network's choice (deterministic): what SB3's ``predict(deterministic=True)`` plays.

        Args:
            obs: ``(B, obs_dim)`` float32.
            difficulty: ``(B,)`` in [0, 1], see :meth:`forward`.

        Returns:
            ``(B, action_dim)``: int64 (the argmax of each branch; a bit per MultiBinary
            element), or float32 within the bounds for a Box action.
        """
        outputs = self.forward(obs, difficulty)
        kind = self.config.action_space
        if kind == "MultiBinary":
            return (outputs > 0).long()
        if kind == "Box":
            if self.config.action_squash:
                return self.action_low + (torch.tanh(outputs) + 1.0) * 0.5 * (
                    self.action_high - self.action_low
                )
            return torch.maximum(torch.minimum(outputs, self.action_high), self.action_low)
        branches = torch.split(outputs, list(self.config.action_nvec), dim=1)
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
            As :meth:`choose`; equal to it at difficulty 1.
        """
        actions = self.choose(obs, difficulty)
        config = self.config
        if difficulty is None or not config.has_handicap:
            return actions
        if config.has_arena_handicap:
            actions = spoil_actions(actions, difficulty, config, generator)
        frozen = freeze_draws(difficulty, config, generator) if config.freeze > 0.0 else None
        if config.random_action > 0.0:
            actions = randomise_actions(actions, difficulty, config, generator)
        if frozen is not None:
            actions = play_idle(actions, frozen, config)
        return actions


def spoil_actions(
    actions: torch.Tensor,
    difficulty: torch.Tensor,
    config: ActorConfig,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Apply the arena's move/fire chances of ``config`` to chosen actions (``demo_game.sim.actions``' rule).

    With weakness w = 1 - difficulty: the move slips to a uniformly random one with chance
    ``slip_move * w``; a shot's choice is replaced by a uniformly random shot choice with
    chance ``scramble_aim * w``; then a shot is held back with chance ``hold_fire * w``.
    (``freeze`` is any action space's: :func:`freeze_draws` and :func:`play_idle`.)

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


def freeze_draws(
    difficulty: torch.Tensor, config: ActorConfig, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Which agents are frozen this decision: each with chance ``freeze * (1 - difficulty)``.

    :meth:`ActorNet.act` draws them after the arena's chances and before ``random_action``'s
    draws (the order of the draws of earlier versions, so an arena actor replays alike), and
    applies them last (:func:`play_idle`).

    Args:
        difficulty: ``(B,)`` in [0, 1].
        config: The chance.
        generator: A CPU generator to draw from (None: torch's default one).

    Returns:
        ``(B,)`` bool on the CPU.
    """
    weakness = 1.0 - difficulty.detach().to("cpu", torch.float32).view(-1).clamp(0.0, 1.0)  # (B,)
    return torch.rand(weakness.shape[0], generator=generator) < config.freeze * weakness


def play_idle(actions: torch.Tensor, frozen: torch.Tensor, config: ActorConfig) -> torch.Tensor:
    """Replace the actions of the frozen agents by :attr:`ActorConfig.idle` (0 everywhere by default).

    Args:
        actions: ``(B, action_dim)`` actions (int64, or float32 for Box).
        frozen: ``(B,)`` bool, from :func:`freeze_draws`.
        config: The idle action.

    Returns:
        ``(B, action_dim)`` of the dtype and on the device of ``actions``.
    """
    idle = torch.tensor(config.idle, dtype=actions.dtype, device=actions.device)  # (action_dim,)
    return torch.where(frozen.to(actions.device).view(-1, 1), idle, actions)


def randomise_actions(
    actions: torch.Tensor,
    difficulty: torch.Tensor,
    config: ActorConfig,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Replace each element of chosen actions by a random valid value with chance ``random_action * (1 - d)``.

    A random value is a choice in ``[0, n)`` of the element's branch (discrete), a bit
    (MultiBinary), or a value uniform in ``[low, high]`` (Box).

    Args:
        actions: ``(B, action_dim)`` chosen actions (int64, or float32 for Box).
        difficulty: ``(B,)`` in [0, 1].
        config: The chance and the action space.
        generator: A CPU generator to draw from (None: torch's default one).

    Returns:
        ``(B, action_dim)`` of the dtype and on the device of ``actions``.
    """
    device = actions.device
    weakness = 1.0 - difficulty.detach().to("cpu", torch.float32).view(-1, 1).clamp(0.0, 1.0)  # (B, 1)
    shape = (actions.shape[0], config.action_dim)
    replace = torch.rand(shape, generator=generator) < config.random_action * weakness
    uniform = torch.rand(shape, generator=generator)
    played = actions.to("cpu")
    if config.continuous:
        low = torch.tensor(config.action_low or (), dtype=torch.float32)
        high = torch.tensor(config.action_high or (), dtype=torch.float32)
        random = low + uniform * (high - low)
    else:
        nvec = torch.tensor(config.action_nvec, dtype=torch.long)
        random = torch.minimum((uniform * nvec).long(), nvec - 1)
    return torch.where(replace, random.to(played.dtype), played).to(device)


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
    directory: Path
    """Where it was loaded from."""


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
    if data.get("format_version") not in READABLE_VERSIONS:
        raise ModelLoadError(
            f"{path}: format_version {data.get('format_version')!r} unsupported "
            f"(this server reads {READABLE_VERSIONS})"
        )
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
        directory=directory,
    )
