"""One match of the demo game, as a person plays it: pure logic, no pygame.

:class:`ArenaGame` wraps a one-arena simulation: the player's controls come from the
keyboard and mouse (or an autopilot), each enemy from a controller (the scripted
enemy style until a served RL agent replaces it). It keeps the match's event log and
score; the app draws it and moves bytes to the service.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter, deque
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from demo_game.sim import (
    ActorField,
    ArenaConfig,
    ArenaField,
    ArenaSimulation,
    ControlField,
    Event,
    FriendlyField,
    Outcome,
    key_from_generator,
)

EnemyController = Callable[[ArenaSimulation, int], npt.NDArray[np.float64]]
"""Returns the controls (len(ControlField),) of enemy actor ``a`` of arena 0 for the next tick."""


@dataclasses.dataclass
class PlayerInput:
    """What the person (or the autopilot) asks of the player this tick."""

    move_x: float = 0.0
    """-1..1, left to right."""
    move_y: float = 0.0
    """-1..1, up to down."""
    aim: float = 0.0
    """Aim direction, radians."""
    fire: bool = False
    dash: bool = False
    talk: bool = False
    """Talk to the nearest friendly NPC in reach (send once per key press)."""

    @classmethod
    def from_controls(cls, controls: npt.NDArray[np.float64]) -> PlayerInput:
        """Read a controls row of the simulation (e.g. from an autopilot)."""
        return cls(
            move_x=float(controls[ControlField.MOVE_X]),
            move_y=float(controls[ControlField.MOVE_Y]),
            aim=float(controls[ControlField.AIM]),
            fire=bool(controls[ControlField.FIRE] > 0.5),
            dash=bool(controls[ControlField.DASH] > 0.5),
            talk=bool(controls[ControlField.TALK] > 0.5),
        )

    def as_controls(self) -> npt.NDArray[np.float64]:
        """The controls row of the simulation."""
        controls = np.zeros(len(ControlField))
        controls[ControlField.MOVE_X] = self.move_x
        controls[ControlField.MOVE_Y] = self.move_y
        controls[ControlField.AIM] = self.aim
        controls[ControlField.FIRE] = float(self.fire)
        controls[ControlField.DASH] = float(self.dash)
        controls[ControlField.TALK] = float(self.talk)
        return controls


@dataclasses.dataclass(frozen=True)
class GameEvent:
    """Something that happened, for the log, the HUD and the service."""

    tick: int
    name: str
    """An :class:`~demo_game.sim.Event` name, lower-cased (:data:`gameai.vocabulary.EVENTS`)."""


class ArenaGame:
    """A match in one arena: step it with the player's input every tick.

    Args:
        config: Arena shape and rules (two enemies, two friendlies by default).
        seed: Seeds the sequence of matches (layouts, spawns).
    """

    def __init__(self, config: ArenaConfig | None = None, seed: int | None = None) -> None:
        self.sim = ArenaSimulation(1, config or ArenaConfig())
        self.rng = np.random.default_rng(seed)
        self.enemy_controllers: dict[int, EnemyController] = {}
        """Who drives each enemy (actor index -> controller); unset enemies stand still."""
        self.events: deque[GameEvent] = deque(maxlen=200)
        """Recent events, oldest first."""
        self.totals: Counter[str] = Counter()
        """Events counted over every match played."""
        self.matches_played = 0
        self.results: list[str] = []
        """Outcome of every finished match ("win", "loss", "timeout"), oldest first."""
        self.new_match()

    @property
    def tick(self) -> int:
        """Ticks played in the current match."""
        return int(self.sim.state.arena[0, ArenaField.TICK])

    @property
    def tick_rate(self) -> float:
        """Simulation ticks per second of game time."""
        return self.sim.config.rules.tick_rate

    @property
    def outcome(self) -> Outcome:
        """How the current match stands."""
        return Outcome(int(self.sim.state.arena[0, ArenaField.OUTCOME]))

    @property
    def over(self) -> bool:
        """Whether the current match has ended."""
        return self.outcome != Outcome.RUNNING

    @property
    def score(self) -> int:
        """The player's score in the current match."""
        return int(self.sim.state.arena[0, ArenaField.SCORE])

    @property
    def seconds_left(self) -> float:
        """Game time left in the match, seconds."""
        rules = self.sim.config.rules
        return max(rules.match_ticks - self.tick, 0) / rules.tick_rate

    @property
    def player_position(self) -> tuple[float, float]:
        """The player's position, world units."""
        actor = self.sim.state.actors[0, 0]
        return float(actor[ActorField.X]), float(actor[ActorField.Y])

    def new_match(self) -> None:
        """Start a new match (new layout and spawns)."""
        self.sim.reset(np.array([key_from_generator(self.rng)], dtype=np.uint64))
        self.events.append(GameEvent(0, "start"))

    def nearest_friendly(self) -> int | None:
        """The friendly NPC the player can talk to now, if any."""
        x, y = self.player_position
        reach = self.sim.config.rules.talk_radius
        best, best_distance = None, reach
        for slot, friendly in enumerate(self.sim.state.friendlies[0]):
            distance = math.hypot(friendly[FriendlyField.X] - x, friendly[FriendlyField.Y] - y)
            if distance <= best_distance:
                best, best_distance = slot, distance
        return best

    def step(self, player: PlayerInput) -> list[GameEvent]:
        """Play one tick and return the events it produced."""
        if self.over:
            return []
        sim = self.sim
        sim.controls[0, 0] = player.as_controls()
        for actor in range(1, sim.controls.shape[1]):
            controller = self.enemy_controllers.get(actor)
            sim.controls[0, actor] = 0.0 if controller is None else controller(sim, actor)
        sim.step()
        tick = self.tick
        happened = [
            GameEvent(tick, event.name.lower())
            for event in Event
            for _ in range(int(sim.state.events[0, event]))
        ]
        self.events.extend(happened)
        self.totals.update(e.name for e in happened)
        if self.over:
            self.matches_played += 1
            self.results.append(self.outcome.name.lower())
        return happened

    def win_rate(self, last: int = 10) -> float | None:
        """The player's share of wins over the last ``last`` matches, or None before any."""
        recent = self.results[-last:]
        return None if not recent else recent.count("win") / len(recent)
