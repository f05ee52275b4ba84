"""Fully scripted matches: the player plays a style, every enemy the scripted enemy style.

This is how labelled play is produced (the behaviour model's data, the demo's
autopilot) and how the styles are checked against their names.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from demo_game.sim import ArenaConfig, ArenaSimulation
from demo_game.sim.styles import ENEMY_STYLE, N_MEMORY, N_PARAMS, scripted_controls, style_params


class ScriptedMatches:
    """N arenas in which every actor is played by a scripted style.

    Calling order: :meth:`reset` with each arena's episode key, then :meth:`step`
    every tick; :attr:`sim` holds the state.

    Args:
        player_params: (N, len(StyleParam)) the player's style in each arena
            (see :func:`~demo_game.sim.styles.style_params`).
        config: Shape and rules of the arenas.
        enemy_rng: Draws the enemies' style parameters; a fixed default keeps runs repeatable.
    """

    def __init__(
        self,
        player_params: npt.NDArray[np.float64],
        config: ArenaConfig | None = None,
        enemy_rng: np.random.Generator | None = None,
    ) -> None:
        player_params = np.asarray(player_params, dtype=np.float64)
        if player_params.ndim != 2 or player_params.shape[1] != N_PARAMS:
            raise ValueError(f"player_params must have shape (N, {N_PARAMS}), got {player_params.shape}")
        num_arenas = player_params.shape[0]
        self.sim = ArenaSimulation(num_arenas, config)
        enemy_rng = enemy_rng or np.random.default_rng(0)
        n_actors = 1 + self.sim.config.n_enemies
        self.params = np.zeros((n_actors, num_arenas, N_PARAMS))
        """(1 + E, N, len(StyleParam)) the style of every actor in every arena."""
        self.params[0] = player_params
        for a in range(1, n_actors):
            self.params[a] = np.stack([style_params(ENEMY_STYLE, enemy_rng) for _ in range(num_arenas)])
        self.memory = np.zeros((n_actors, num_arenas, N_MEMORY))

    def set_style(
        self, actor: int, params: npt.NDArray[np.float64], arenas: npt.NDArray[np.bool_] | None = None
    ) -> None:
        """Give ``actor`` new style parameters, in the arenas of ``arenas`` (all when None)."""
        if arenas is None:
            self.params[actor] = params
        else:
            self.params[actor, arenas] = params

    def reset(
        self,
        keys: npt.NDArray[np.uint64],
        mask: npt.NDArray[np.bool_] | None = None,
        layouts: npt.NDArray[np.int64] | None = None,
    ) -> None:
        """Start new matches (see :meth:`ArenaSimulation.reset`); the styles' memory restarts too."""
        self.sim.reset(keys, mask, layouts)

    def step(self, before_tick: Callable[[ArenaSimulation], None] | None = None) -> None:
        """Let every style choose its controls, then advance one tick.

        Args:
            before_tick: Called after the styles chose and before the tick; it may overwrite
                ``sim.controls`` (say, of actors a policy drives in some arenas).
        """
        sim = self.sim
        s = sim.state
        for actor in range(self.params.shape[0]):
            scripted_controls(
                actor,
                self.params[actor],
                self.memory[actor],
                sim.controls,
                s.arena,
                s.keys,
                s.actors,
                s.bullets,
                s.pickups,
                sim.rules,
            )
        if before_tick is not None:
            before_tick(sim)
        sim.step()


class ScriptedController:
    """Drives one actor of a one-arena game with a style (scripted enemies, the autopilot).

    Call it every tick before the simulation steps; it writes the actor's row of
    ``sim.controls`` and returns a copy of it.

    Args:
        params: (len(StyleParam),) the style, from :func:`~demo_game.sim.styles.style_params`.
    """

    def __init__(self, params: npt.NDArray[np.float64]) -> None:
        self.params = np.asarray(params, dtype=np.float64).reshape(1, N_PARAMS)
        self.memory = np.zeros((1, N_MEMORY))

    def __call__(self, sim: ArenaSimulation, actor: int) -> npt.NDArray[np.float64]:
        """Choose ``actor``'s controls in arena 0 of ``sim`` for the next tick."""
        s = sim.state
        scripted_controls(
            actor, self.params, self.memory, sim.controls, s.arena, s.keys, s.actors, s.bullets, s.pickups,
            sim.rules,
        )  # fmt: skip
        return sim.controls[0, actor].copy()
