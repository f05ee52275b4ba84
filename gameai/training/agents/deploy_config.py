"""Options of ``gameai agents import`` and ``gameai agents export-onnx`` (no heavy imports here)."""

from __future__ import annotations

from dataclasses import dataclass


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
