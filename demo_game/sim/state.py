"""The state of N arenas as a few arrays with a leading batch dimension."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import numpy.typing as npt

from demo_game.sim.fields import (
    ActorField,
    ArenaField,
    BulletField,
    Event,
    FriendlyField,
    Outcome,
    PickupField,
)


@dataclasses.dataclass
class ArenaState:
    """Everything that changes during a match, for N arenas at once.

    Axis 0 is the arena; the last axis of each float array holds the named fields of
    :mod:`demo_game.sim.fields`. Actor 0 is the player, actors 1..E the enemies.
    """

    arena: npt.NDArray[np.float64]
    """(N, len(ArenaField)) tick, outcome, layout, score and match counters."""
    keys: npt.NDArray[np.uint64]
    """(N,) the episode key every random draw of the arena derives from."""
    actors: npt.NDArray[np.float64]
    """(N, 1 + E, len(ActorField)) the player and the enemies."""
    bullets: npt.NDArray[np.float64]
    """(N, B, len(BulletField)) bullet slots; OWNER < 0 marks a free slot."""
    pickups: npt.NDArray[np.float64]
    """(N, P, len(PickupField)) health packs and coins."""
    friendlies: npt.NDArray[np.float64]
    """(N, F, len(FriendlyField)) friendly NPCs."""
    events: npt.NDArray[np.int32]
    """(N, len(Event)) what happened during the last tick, counted from the player's side."""

    @classmethod
    def zeros(
        cls, num_arenas: int, n_enemies: int, n_bullets: int, n_pickups: int, n_friendlies: int
    ) -> ArenaState:
        """Allocate the state of ``num_arenas`` arenas (all fields zero, every bullet slot free)."""
        bullets = np.zeros((num_arenas, n_bullets, len(BulletField)))
        bullets[:, :, BulletField.OWNER] = -1.0
        return cls(
            arena=np.zeros((num_arenas, len(ArenaField))),
            keys=np.zeros(num_arenas, dtype=np.uint64),
            actors=np.zeros((num_arenas, 1 + n_enemies, len(ActorField))),
            bullets=bullets,
            pickups=np.zeros((num_arenas, n_pickups, len(PickupField))),
            friendlies=np.zeros((num_arenas, n_friendlies, len(FriendlyField))),
            events=np.zeros((num_arenas, len(Event)), dtype=np.int32),
        )

    @property
    def num_arenas(self) -> int:
        """N, the number of arenas."""
        return int(self.arena.shape[0])

    @property
    def n_enemies(self) -> int:
        """E, enemies per arena."""
        return int(self.actors.shape[1]) - 1

    @property
    def outcome(self) -> npt.NDArray[np.int64]:
        """(N,) each arena's :class:`Outcome` as ints."""
        return self.arena[:, ArenaField.OUTCOME].astype(np.int64)

    @property
    def done(self) -> npt.NDArray[np.bool_]:
        """(N,) whether each arena's match is over."""
        return self.arena[:, ArenaField.OUTCOME] != Outcome.RUNNING

    def arrays(self) -> dict[str, Any]:
        """Return the arrays by field name (for saving, comparing or sending)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def copy(self) -> ArenaState:
        """Return a deep copy."""
        return ArenaState(**{name: array.copy() for name, array in self.arrays().items()})

    def select(self, index: int | slice | npt.NDArray[np.intp]) -> ArenaState:
        """Return the state of some arenas (an int keeps a batch of one); views where numpy allows."""
        if isinstance(index, int):
            index = slice(index, index + 1)
        return ArenaState(**{name: array[index] for name, array in self.arrays().items()})
