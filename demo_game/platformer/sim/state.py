"""The state of one level in play: bodies, hearts, gems, goblins, events and outcome.

Plain dataclasses of floats plus a few small arrays; :meth:`PlatformerState.snapshot`
flattens it into arrays for comparing two runs or saving one.
"""

from __future__ import annotations

import copy
import dataclasses
import enum
from typing import Any

import numpy as np
import numpy.typing as npt

from demo_game.platformer.sim.level import Level


class Outcome(enum.IntEnum):
    """How a level stands."""

    RUNNING = 0
    WIN = 1
    """The player reached the flag."""
    LOSS = 2
    """The player lost its last heart."""
    TIMEOUT = 3
    """The clock ran out."""


class Event(enum.IntEnum):
    """What can happen during a tick, counted from the player's side."""

    JUMP = 0
    """The player took off."""
    LAND = 1
    """The player landed after being in the air."""
    GEM = 2
    """The player picked up a gem."""
    STOMP = 3
    """The player stomped a goblin."""
    HURT = 4
    """A goblin hit the player (one heart less)."""
    FALL = 5
    """The player fell into a pit (one heart less; back at the last safe ground)."""
    DEATH = 6
    """The player lost its last heart."""
    WIN = 7
    LOSS = 8
    TIMEOUT = 9
    TALK = 10
    """The player talked to a friendly NPC in reach."""


class Control(enum.IntEnum):
    """Columns of a body's controls row (:attr:`PlatformerSimulation.controls`)."""

    MOVE_X = 0
    """-1 (left) .. 1 (right): fraction of top speed wanted."""
    JUMP = 1
    """> 0.5 while the jump button is held: takes off from the ground; letting go early cuts the jump."""
    TALK = 2
    """> 0.5 to talk to the nearest friendly NPC in reach (player only)."""


@dataclasses.dataclass
class Body:
    """Something that runs and jumps: the player or a goblin. ``x`` is its centre, ``y`` its feet."""

    x: float
    y: float
    width: float
    height: float
    vx: float = 0.0
    vy: float = 0.0
    on_ground: bool = False
    facing: float = 1.0
    """+1 right, -1 left."""
    coyote: int = 0
    """Ticks left in which a jump still works after leaving the ground."""

    @property
    def left(self) -> float:
        return self.x - self.width / 2

    @property
    def right(self) -> float:
        return self.x + self.width / 2

    @property
    def top(self) -> float:
        return self.y - self.height

    def overlaps(self, other: Body) -> bool:
        """Whether the two boxes overlap."""
        return (
            self.left < other.right and other.left < self.right and self.top < other.y and other.top < self.y
        )


@dataclasses.dataclass
class Player:
    """The player's body and standing."""

    body: Body
    hearts: int
    invulnerable: int = 0
    """Ticks of safety left after a hit or a fall."""
    checkpoint: tuple[float, float] = (0.0, 0.0)
    """Where a fall puts it back: the last safe ground it stood on (feet)."""


@dataclasses.dataclass
class Goblin:
    """A goblin: its body, its home and what happened to it during the last tick."""

    body: Body
    home_x: float
    home_y: float
    patrol_min: float
    patrol_max: float
    alive: bool = True
    respawn: int = 0
    """Ticks until a dead goblin returns home."""
    hit: bool = False
    """It hurt the player during the last tick."""
    stomped: bool = False
    """The player stomped it during the last tick."""
    fell: bool = False
    """It fell into a pit during the last tick."""


@dataclasses.dataclass
class PlatformerState:
    """Everything that changes while a level is played (the level itself does not)."""

    level: Level
    player: Player
    goblins: list[Goblin]
    gems_taken: npt.NDArray[np.bool_]
    """(G,) which gems the player has picked up."""
    talking: npt.NDArray[np.int64]
    """(F,) ticks each friendly NPC still shows that it talks."""
    events: npt.NDArray[np.int32]
    """(len(Event),) what happened during the last tick."""
    tick: int = 0
    outcome: Outcome = Outcome.RUNNING
    score: int = 0
    stomps: int = 0
    """Goblins stomped in this level."""

    @property
    def done(self) -> bool:
        """Whether the level is over."""
        return self.outcome != Outcome.RUNNING

    @property
    def gems_collected(self) -> int:
        """Gems picked up in this level."""
        return int(self.gems_taken.sum())

    def copy(self) -> PlatformerState:
        """A deep copy (the level is shared: it never changes)."""
        return dataclasses.replace(
            self,
            player=copy.deepcopy(self.player),
            goblins=copy.deepcopy(self.goblins),
            gems_taken=self.gems_taken.copy(),
            talking=self.talking.copy(),
            events=self.events.copy(),
        )

    def snapshot(self) -> dict[str, Any]:
        """The state as arrays and numbers (for comparing two runs or saving one)."""

        def body_row(body: Body) -> list[float]:
            return [body.x, body.y, body.vx, body.vy, float(body.on_ground), body.facing, float(body.coyote)]

        player = self.player
        return {
            "level_seed": self.level.seed,
            "tick": self.tick,
            "outcome": int(self.outcome),
            "score": self.score,
            "player": np.array(
                [*body_row(player.body), float(player.hearts), float(player.invulnerable), *player.checkpoint]
            ),
            "goblins": np.array(
                [
                    [*body_row(g.body), float(g.alive), float(g.respawn), float(g.hit), float(g.stomped)]
                    for g in self.goblins
                ]
            ).reshape(len(self.goblins), 11),
            "gems_taken": self.gems_taken.copy(),
            "talking": self.talking.copy(),
            "events": self.events.copy(),
        }
