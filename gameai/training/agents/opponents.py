"""The self-play pool: frozen earlier checkpoints of the agent, playing the player.

A :class:`FrozenPolicyPool` is an ``opponent_policy`` of the arena envs: it maps the
player's view of every arena, ``(n, 44)``, to the player's actions, ``(n, 3)``. Each arena
gets one member of the pool for a whole match, drawn when the match starts (seen as
``TIME_LEFT == 1`` in the player's observation, the first tick of every match), so a
snapshot added during training is met from the next matches on.

Members play at full strength: the player's view shows ``DIFFICULTY = 1`` and no
handicap applies to the player.
"""

from __future__ import annotations

import copy

import numpy as np
import numpy.typing as npt
import torch

from demo_game.sim.observation import ObservationField
from gameai.agents.actor import ActorNet


class FrozenPolicyPool:
    """Frozen actors; each arena's player is one of them, redrawn at every match start.

    Args:
        max_size: Most members kept; adding one more drops the oldest.
        rng: Draws the member of each match.
    """

    def __init__(self, max_size: int, rng: np.random.Generator) -> None:
        if max_size < 1:
            raise ValueError("max_size must be >= 1")
        self.max_size = max_size
        self.rng = rng
        self.members: list[ActorNet] = []
        """The frozen actors, oldest first."""
        self.labels: list[str] = []
        """A name per member (e.g. the env step of its snapshot)."""
        self._assignment: npt.NDArray[np.int64] | None = None

    def add(self, actor: ActorNet, label: str) -> None:
        """Freeze a copy of ``actor`` into the pool (CPU, eval mode, no gradients)."""
        frozen = copy.deepcopy(actor).to("cpu").eval().requires_grad_(False)
        self.members.append(frozen)
        self.labels.append(label)
        if len(self.members) > self.max_size:
            del self.members[0], self.labels[0]
            if self._assignment is not None:  # arenas that met the dropped member get the oldest kept
                self._assignment = np.maximum(self._assignment - 1, 0)

    def __call__(self, player_obs: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
        """The players' actions: (n, OBSERVATION_SIZE) player views -> (n, 3) actions.

        Raises:
            RuntimeError: If the pool is empty.
        """
        if not self.members:
            raise RuntimeError("the self-play pool is empty; add a member first")
        n = player_obs.shape[0]
        if self._assignment is None or self._assignment.shape[0] != n:
            self._assignment = np.asarray(self.rng.integers(len(self.members), size=n), dtype=np.int64)
        assignment: npt.NDArray[np.int64] = self._assignment
        starting = player_obs[:, ObservationField.TIME_LEFT] >= 1.0
        if starting.any():
            assignment[starting] = self.rng.integers(len(self.members), size=int(starting.sum()))
        actions = np.zeros((n, 3), dtype=np.int64)
        obs = torch.from_numpy(np.ascontiguousarray(player_obs, dtype=np.float32))
        with torch.inference_mode():
            for member in np.unique(assignment):
                rows = np.flatnonzero(assignment == member)
                actions[rows] = self.members[member].choose(obs[rows]).numpy()
        return actions
