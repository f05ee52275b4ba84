"""The simulation facade: N arenas stepped together by the compiled kernels."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

from demo_game.sim.fields import ControlField
from demo_game.sim.kernels import reset_arenas, step_arenas
from demo_game.sim.layouts import LAYOUT_NAMES, MAX_FRIENDLIES
from demo_game.sim.rules import ArenaRules
from demo_game.sim.state import ArenaState


@dataclasses.dataclass(frozen=True)
class ArenaConfig:
    """Shape and rules of the arenas of one simulation."""

    n_enemies: int = 2
    """Enemy NPCs per arena (actors 1..n_enemies)."""
    n_friendlies: int = 2
    """Friendly NPCs per arena (at most 2)."""
    n_pickups: int = 4
    """Pickups lying in each arena at once."""
    n_bullets: int | None = None
    """Bullet slots per arena (a shot is skipped when all are in flight); None: as many as
    can ever fly at once under the rules, so no shot is ever skipped."""
    rules: ArenaRules = dataclasses.field(default_factory=ArenaRules)
    """Speeds, health, damage and timings."""

    def __post_init__(self) -> None:
        if self.n_enemies < 1:
            raise ValueError(f"n_enemies must be >= 1, got {self.n_enemies}")
        if not 0 <= self.n_friendlies <= MAX_FRIENDLIES:
            raise ValueError(f"n_friendlies must be in 0..{MAX_FRIENDLIES}, got {self.n_friendlies}")
        if self.n_pickups < 0 or (self.n_bullets is not None and self.n_bullets < 1):
            raise ValueError("n_pickups must be >= 0 and n_bullets >= 1")

    @property
    def bullet_slots(self) -> int:
        """The number of bullet slots per arena (``n_bullets`` or the most that can fly at once)."""
        if self.n_bullets is not None:
            return self.n_bullets
        rules = self.rules
        per_player = math.ceil(rules.bullet_ttl / rules.player_fire_cooldown)
        per_enemy = math.ceil(rules.bullet_ttl / rules.enemy_fire_cooldown)
        return per_player + self.n_enemies * per_enemy


class ArenaSimulation:
    """N arenas of the game, stepped in lockstep.

    Calling order: :meth:`reset` (every arena, or some with ``mask``), then fill
    :attr:`controls` and call :meth:`step`, again and again. An arena whose match is
    over stays frozen until it is reset. Pure numpy state, no pygame; deterministic
    given the episode keys and the controls.

    Example:
        >>> sim = ArenaSimulation(num_arenas=1)
        >>> sim.reset(np.array([7], dtype=np.uint64))
        >>> sim.controls[0, 0, ControlField.MOVE_X] = 1.0
        >>> sim.step()
    """

    def __init__(self, num_arenas: int, config: ArenaConfig | None = None) -> None:
        if num_arenas < 1:
            raise ValueError(f"num_arenas must be >= 1, got {num_arenas}")
        self.config = config or ArenaConfig()
        self.num_arenas = num_arenas
        self.rules = self.config.rules.as_array()
        self.state = ArenaState.zeros(
            num_arenas,
            n_enemies=self.config.n_enemies,
            n_bullets=self.config.bullet_slots,
            n_pickups=self.config.n_pickups,
            n_friendlies=self.config.n_friendlies,
        )
        self.controls = np.zeros((num_arenas, 1 + self.config.n_enemies, len(ControlField)))
        """(N, 1 + E, len(ControlField)) what each actor does on the next :meth:`step`."""
        self._all = np.ones(num_arenas, dtype=np.bool_)
        self._random_layouts = np.full(num_arenas, -1, dtype=np.int64)

    def reset(
        self,
        keys: npt.NDArray[np.uint64],
        mask: npt.NDArray[np.bool_] | None = None,
        layouts: npt.NDArray[np.int64] | None = None,
    ) -> None:
        """Start new matches.

        Args:
            keys: (N,) episode keys (see :func:`~demo_game.sim.counter_rng.key_from_generator`);
                entries of arenas not reset are ignored.
            mask: (N,) which arenas to reset; all when None.
            layouts: (N,) layout index per arena, -1 to draw it from the key; random when None.

        Raises:
            ValueError: If a layout index is out of range or an array has the wrong length.
        """
        mask = self._all if mask is None else np.asarray(mask, dtype=np.bool_)
        layouts = self._random_layouts if layouts is None else np.asarray(layouts, dtype=np.int64)
        keys = np.asarray(keys, dtype=np.uint64)
        for name, array in (("keys", keys), ("mask", mask), ("layouts", layouts)):
            if array.shape != (self.num_arenas,):
                raise ValueError(f"{name} must have shape ({self.num_arenas},), got {array.shape}")
        if np.any(layouts >= len(LAYOUT_NAMES)) or np.any(layouts < -1):
            raise ValueError(f"layout indices must be -1 or in 0..{len(LAYOUT_NAMES) - 1}")
        s = self.state
        reset_arenas(
            mask,
            keys,
            layouts,
            s.arena,
            s.keys,
            s.actors,
            s.bullets,
            s.pickups,
            s.friendlies,
            s.events,
            self.rules,
        )

    def step(self, active: npt.NDArray[np.bool_] | None = None) -> None:
        """Advance every running arena by one tick using :attr:`controls`.

        Args:
            active: (N,) which arenas to step; all when None.
        """
        s = self.state
        active = self._all if active is None else active
        step_arenas(
            active,
            self.controls,
            s.arena,
            s.keys,
            s.actors,
            s.bullets,
            s.pickups,
            s.friendlies,
            s.events,
            self.rules,
        )
