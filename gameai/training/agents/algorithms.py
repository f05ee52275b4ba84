"""The SB3 algorithms ``gameai train agent --algo`` trains with, and the action spaces each fits.

========  =========================  ==========
algo      action spaces              family
========  =========================  ==========
``ppo``   any (Box, Discrete,        on-policy
          MultiDiscrete, MultiBinary)
``a2c``   any                        on-policy
``dqn``   Discrete                   off-policy
``sac``   Box                        off-policy
``td3``   Box                        off-policy
========  =========================  ==========

An off-policy algorithm's replay buffer is saved beside each checkpoint
(``ckpt_<steps>.replay.pkl``, SB3's own pickle, a training-only file) so a resumed run
continues with the transitions it had.
"""

from __future__ import annotations

from typing import Any

from gymnasium import spaces
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

ALGORITHMS: dict[str, type[BaseAlgorithm]] = {"ppo": PPO, "a2c": A2C, "dqn": DQN, "sac": SAC, "td3": TD3}
"""``--algo`` name -> SB3 class."""

ACTION_SPACES: dict[str, tuple[type[spaces.Space[Any]], ...]] = {
    "ppo": (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
    "a2c": (spaces.Box, spaces.Discrete, spaces.MultiDiscrete, spaces.MultiBinary),
    "dqn": (spaces.Discrete,),
    "sac": (spaces.Box,),
    "td3": (spaces.Box,),
}
"""The action spaces each algorithm trains on."""


def algorithm_class(algo: str) -> type[BaseAlgorithm]:
    """The SB3 class of ``algo``.

    Raises:
        ValueError: If ``algo`` is not one of :data:`ALGORITHMS`.
    """
    try:
        return ALGORITHMS[algo]
    except KeyError:
        raise ValueError(f"--algo {algo}: not one of {', '.join(ALGORITHMS)}") from None


def is_off_policy(algo: str) -> bool:
    """Whether ``algo`` learns from a replay buffer (DQN, SAC, TD3)."""
    return issubclass(algorithm_class(algo), OffPolicyAlgorithm)


def check_action_space(algo: str, env_id: str, action_space: spaces.Space[Any]) -> None:
    """Raise if ``algo`` cannot act in ``action_space``.

    Raises:
        ValueError: One line naming the algorithm, the env, its space and what fits it.
    """
    fits = ACTION_SPACES[algo]
    if isinstance(action_space, fits):
        return
    kinds = " or ".join(kind.__name__ for kind in fits)
    others = [name for name, kinds_ in ACTION_SPACES.items() if isinstance(action_space, kinds_)]
    hint = f"; try --algo {' / '.join(others)}" if others else ""
    raise ValueError(
        f"--algo {algo} needs {kinds} actions; {env_id} has {type(action_space).__name__} actions{hint}"
    )
