"""A run of platformer levels as a person plays it: pure logic, no pygame.

:class:`PlatformerGame` wraps a simulation: the player's controls come from the keyboard
(or an autopilot), each goblin's from a controller (the scripted goblin until a served RL
agent replaces it). When a level ends, :meth:`PlatformerGame.new_level` makes the next
one from the game's seed sequence. It keeps the event log, the score over levels and the
results; the app draws it and moves bytes to the service.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from demo_game.platformer.sim import Control, Event, Outcome, PlatformerConfig, PlatformerSimulation
from demo_game.platformer.sim.level import FriendlyNpc

GoblinController = Callable[[PlatformerSimulation, int], npt.NDArray[np.float64]]
"""Returns goblin ``i``'s controls row (len(Control),) for the next tick."""


@dataclasses.dataclass
class PlayerInput:
    """What the person (or the autopilot) asks of the player this tick."""

    move_x: float = 0.0
    """-1 (left) .. 1 (right)."""
    jump: bool = False
    """Jump held."""
    talk: bool = False
    """Talk to the friendly NPC in reach (send once per key press)."""

    @classmethod
    def from_controls(cls, controls: npt.NDArray[np.float64]) -> PlayerInput:
        """Read a controls row of the simulation (e.g. from an autopilot)."""
        return cls(
            move_x=float(controls[Control.MOVE_X]),
            jump=bool(controls[Control.JUMP] > 0.5),
            talk=bool(controls[Control.TALK] > 0.5),
        )

    def as_controls(self) -> npt.NDArray[np.float64]:
        """The controls row of the simulation."""
        controls = np.zeros(len(Control))
        controls[Control.MOVE_X] = self.move_x
        controls[Control.JUMP] = float(self.jump)
        controls[Control.TALK] = float(self.talk)
        return controls


@dataclasses.dataclass(frozen=True)
class GameEvent:
    """Something that happened, for the log, the HUD and the service."""

    tick: int
    name: str
    """An :class:`~demo_game.platformer.sim.Event` name, lower-cased."""


class PlatformerGame:
    """Levels played one after another: step it with the player's input every tick.

    Args:
        config: Rules and level making.
        seed: Seeds the sequence of levels (None: fresh entropy).
    """

    def __init__(self, config: PlatformerConfig | None = None, seed: int | None = None) -> None:
        self.sim = PlatformerSimulation(config)
        self.rng = np.random.default_rng(seed)
        self.goblin_controllers: dict[int, GoblinController] = {}
        """Who drives each goblin (index -> controller); goblins without one stand still."""
        self.events: deque[GameEvent] = deque(maxlen=200)
        """Recent events, oldest first."""
        self.totals: Counter[str] = Counter()
        """Events counted over every level played."""
        self.levels_played = 0
        self.results: list[str] = []
        """Outcome of every finished level ("win", "loss", "timeout"), oldest first."""
        self.banked_score = 0
        """Score of the finished levels."""
        self._start_level()

    @property
    def tick(self) -> int:
        """Ticks played in the current level."""
        return self.sim.state.tick

    @property
    def tick_rate(self) -> float:
        """Simulation ticks per second of game time."""
        return self.sim.rules.tick_rate

    @property
    def outcome(self) -> Outcome:
        """How the current level stands."""
        return self.sim.state.outcome

    @property
    def over(self) -> bool:
        """Whether the current level has ended."""
        return self.sim.state.done

    @property
    def level_number(self) -> int:
        """1 for the first level, 2 for the next..."""
        return self.levels_played + (0 if self.over else 1)

    @property
    def score(self) -> int:
        """The player's score in the current level."""
        return self.sim.state.score

    @property
    def total_score(self) -> int:
        """The score of every level so far, the current one included."""
        return self.banked_score + self.score

    @property
    def hearts(self) -> int:
        """Hearts the player has left."""
        return self.sim.state.player.hearts

    @property
    def seconds_left(self) -> float:
        """Game time left on the level's clock, seconds."""
        rules = self.sim.rules
        return max(rules.level_ticks - self.tick, 0) / rules.tick_rate

    @property
    def player_position(self) -> tuple[float, float]:
        """The player's feet, world units."""
        body = self.sim.state.player.body
        return body.x, body.y

    @property
    def friendlies(self) -> tuple[FriendlyNpc, ...]:
        """The friendly NPCs of the current level."""
        return self.sim.level.friendlies

    def new_level(self) -> None:
        """Start the next level (a new seed from the game's sequence); the score so far is kept."""
        self.banked_score += self.score
        self._start_level()

    def _start_level(self) -> None:
        self.sim.reset(int(self.rng.integers(2**31 - 1)))
        self.events.append(GameEvent(0, "start"))

    def nearest_friendly(self) -> int | None:
        """The friendly NPC the player can talk to now, if any."""
        return self.sim.nearest_friendly()

    def step(self, player: PlayerInput) -> list[GameEvent]:
        """Play one tick and return the events it produced (nothing once the level is over)."""
        if self.over:
            return []
        sim = self.sim
        sim.controls[0] = player.as_controls()
        for goblin in range(sim.level.n_goblins):
            controller = self.goblin_controllers.get(goblin)
            sim.controls[1 + goblin] = 0.0 if controller is None else controller(sim, goblin)
        sim.step()
        tick = self.tick
        happened = [
            GameEvent(tick, event.name.lower())
            for event in Event
            for _ in range(int(sim.state.events[event]))
        ]
        self.events.extend(happened)
        self.totals.update(e.name for e in happened)
        if self.over:
            self.levels_played += 1
            self.results.append(self.outcome.name.lower())
        return happened
