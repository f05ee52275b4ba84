"""Options of ``gameai agents import`` and ``gameai agents export-onnx`` (no heavy imports here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ImportAgentConfig:
    """Options of ``gameai agents import``."""

    name: str = ""
    """The agent's name (its folder and its name in the protocol); empty: the zip's file name."""
    agents_dir: str = "assets/agents"
    """Where served agents live (as ``gameai serve --agents-dir``)."""
    obs_dim: int = 0
    """The observation's length, when the zip's observation space is unreadable (0: from the zip)."""
    action_space: str = ""
    """The action space, when the zip's is unreadable: ``Discrete(5)``, ``MultiDiscrete(9,4,2)``,
    ``MultiBinary(4)`` or ``Box(-1,1,2)`` (low, high, size); empty: from the zip."""
    activation: str = ""
    """Activation of the hidden layers (tanh, relu, elu, leaky_relu); empty: the zip's, or SB3's default."""
    vecnormalize: str = ""
    """A JSON file of the VecNormalize observation statistics it was trained behind (obs_mean, obs_var,
    clip_obs, epsilon); a pickled ``vecnormalize.pkl`` is refused."""
    random_action: float = 0.5
    """Handicap: chance at difficulty 0 that each action element is replaced by a random valid one."""
    freeze: float = 0.0
    """Handicap: chance at difficulty 0 that the whole action is idle_action (the agent does nothing)."""
    idle_action: tuple[float, ...] | None = None
    """The action a frozen agent plays, one valid value per element (e.g. 1 0); None: 0 in every element."""
    difficulty_index: int = -1
    """Observation feature the served difficulty is written into, if it was trained with one (-1: none)."""
    force: bool = False
    """Replace an agent of the same name."""


@dataclass(frozen=True)
class ExportOnnxConfig:
    """Options of ``gameai agents export-onnx``."""

    agents_dir: str = "assets/agents"
    """Where served agents live."""
    output: str = ""
    """The ONNX file to write; empty: ``exports/<name>.onnx``."""


@dataclass(frozen=True)
class HandicapConfig:
    """Options of ``gameai agents handicap``: each one given replaces the agent's own (None keeps it)."""

    random_action: float | None = None
    """Chance at difficulty 0 that each action element is replaced by a random valid one."""
    freeze: float | None = None
    """Chance at difficulty 0 that the whole action is idle_action (the agent does nothing)."""
    idle_action: tuple[float, ...] | None = None
    """The action a frozen agent plays, one valid value per element (e.g. 1 0)."""
    hold_fire: float | None = None
    """Arena actions only: chance at difficulty 0 that a shot is held back."""
    scramble_aim: float | None = None
    """Arena actions only: chance at difficulty 0 that a shot's choice is replaced by a random shot."""
    slip_move: float | None = None
    """Arena actions only: chance at difficulty 0 that the move is replaced by a random one."""

    def changes(self) -> dict[str, Any]:
        """The fields given, by name."""
        return {name: value for name, value in vars(self).items() if value is not None}
