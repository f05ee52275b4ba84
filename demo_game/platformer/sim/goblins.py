"""The scripted goblin: patrols its segment, chases a player who comes near, never walks into a pit.

It drives goblins until an RL agent does (``gameai/Platformer-v0`` trains that agent), and
plays the other goblins of the env's episodes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from demo_game.platformer.sim.senses import drop_ahead, rise_ahead
from demo_game.platformer.sim.simulation import PlatformerSimulation
from demo_game.platformer.sim.state import Control


class ScriptedGoblin:
    """Drives one goblin: call it each tick before the simulation steps.

    Args:
        rng: Source of its choices (chase range, hop timing).
        chase_range: How near (horizontally) the player must come before it gives chase,
            units; drawn from 220..380 when None.
    """

    def __init__(self, rng: np.random.Generator, chase_range: float | None = None) -> None:
        self.rng = rng
        self.chase_range = float(rng.uniform(220.0, 380.0)) if chase_range is None else chase_range
        self.direction = -1.0
        self.jump_ticks = 0

    def __call__(self, sim: PlatformerSimulation, goblin: int) -> npt.NDArray[np.float64]:
        """Goblin ``goblin``'s controls row for the next tick."""
        controls = np.zeros(len(Control))
        s = sim.state
        me = s.goblins[goblin]
        if not me.alive or s.done:
            self.jump_ticks = 0
            return controls
        body, player = me.body, s.player.body
        dx, dy = player.x - body.x, player.y - body.y
        chasing = abs(dx) < self.chase_range and abs(dy) < 160.0
        if chasing:
            direction = 0.0 if abs(dx) < 4.0 else float(np.sign(dx))
            speed = 1.0
        else:
            if body.x <= me.patrol_min:
                self.direction = 1.0
            elif body.x >= me.patrol_max:
                self.direction = -1.0
            direction, speed = self.direction, 0.55
        jump = False
        if body.on_ground and direction != 0.0:
            if drop_ahead(s.level, body, direction, 4.0) is None:  # a pit: stop, or turn back
                self.direction = -direction
                direction = 0.0 if chasing else -direction
            elif rise_ahead(s.level, body, direction, 4.0) > 2.0:
                jump = True
        if body.on_ground and chasing and dy < -40.0 and abs(dx) < 90.0 and self.rng.random() < 0.1:
            jump = True
        if jump:
            self.jump_ticks = 10
        controls[Control.MOVE_X] = direction * speed
        controls[Control.JUMP] = float(self.jump_ticks > 0)
        self.jump_ticks = max(self.jump_ticks - 1, 0)
        return controls
