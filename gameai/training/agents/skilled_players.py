"""Simulated players of a chosen skill, independent of the scripted styles the agent trained against.

The agent learnt against :mod:`demo_game.sim.styles`; measuring it only against those
styles measures it inside its own training distribution. These players are written
apart from them: each reads the player's own vector observation
(:mod:`demo_game.sim.observation`, the same features the agent sees from its side) and
answers an arena action (move, fire with a lead choice, dash), so it plugs into an arena
as its ``opponent_policy`` (:class:`envs.vector_env.ArenaVectorEnv`).

Behaviours (:data:`BEHAVIOURS`):

- ``rusher``: runs straight at the agent and shoots whenever it has a line of fire;
- ``kiter``: keeps about 260 units away, circles the agent and shoots from range.

``skill`` in [0, 1] sets how well a behaviour is played (every setting is linear in it):

- reaction: decisions are taken on the observation of ``round(6 (1 - skill))`` steps ago
  (0 to 400 ms at 15 decisions per game second);
- decision rate: each step the player re-plans with chance ``0.3 + 0.7 skill``, else it
  repeats its last action;
- aim: a shot takes the lead that fits the target's sideways motion with chance
  ``skill``, else a random one of the three; the trigger is pulled with chance
  ``0.3 + 0.7 skill`` per step while the target is in sight;
- dodging: an incoming bullet on course is side-stepped with chance ``0.9 skill``,
  with a dash when ``skill`` > 0.5;
- fumbling: a random move with chance ``0.3 (1 - skill)``.

Randomness comes from one injected ``np.random.Generator`` (``seed``), so a player
replays exactly on the same observations.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.sim.actions import ACTION_NVEC, LEAD_ANGLE
from demo_game.sim.layouts import ARENA_HEIGHT, ARENA_WIDTH
from demo_game.sim.observation import BULLET_RANGE, RAY_COUNT, RAY_RANGE, ObservationField
from demo_game.sim.rules import ArenaRules

F = ObservationField

BEHAVIOURS: Final = ("rusher", "kiter")
"""The behaviours a :class:`SkilledPlayer` can play."""

MAX_DELAY_STEPS: Final = 6
"""Reaction delay of a skill-0 player, env steps (15 per game second)."""

_RULES = ArenaRules()
_DIAGONAL = math.hypot(ARENA_WIDTH, ARENA_HEIGHT)
_ENEMY_TOP_SPEED = _RULES.enemy_speed * _RULES.dash_speed_factor
"""Target velocity features are divided by this (the agent is an enemy)."""
_MOVES = ACTION_NVEC[0] - 1
"""Directions of movement (move k = 1..8 is angle (k - 1) x 45 degrees, the same as ray k - 1)."""
_KITE_RANGE = 260.0
"""Distance a kiter keeps, world units."""
_WALL_CLEARANCE = 30.0 / RAY_RANGE
"""A direction whose wall ray is shorter than this (in ray units) is blocked."""


@dataclasses.dataclass(frozen=True)
class PlayerSpec:
    """A behaviour at a skill, written ``behaviour@skill`` (e.g. ``rusher@0.3``)."""

    behaviour: str
    """One of :data:`BEHAVIOURS`."""
    skill: float
    """0 (beginner) .. 1 (expert)."""

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown player behaviour {self.behaviour!r}; known: {', '.join(BEHAVIOURS)}")
        if not 0.0 <= self.skill <= 1.0:
            raise ValueError(f"player skill must be in [0, 1], got {self.skill} for {self.behaviour!r}")

    @property
    def name(self) -> str:
        """``behaviour@skill``."""
        return f"{self.behaviour}@{self.skill:g}"


class SkilledPlayer:
    """Plays the player in N arenas: (N, OBSERVATION_SIZE) player-view observations -> (N, 3) actions.

    Call it once per env step with the player's observations (the arena's
    ``opponent_policy`` hook). It keeps each arena's last observations (for the
    reaction delay) and last action (for the decision rate).

    Args:
        spec: Behaviour and skill.
        num_arenas: N.
        seed: Seeds the player's generator.
    """

    def __init__(self, spec: PlayerSpec, num_arenas: int, seed: int = 0) -> None:
        self.spec = spec
        self.num_arenas = num_arenas
        self.rng = np.random.default_rng(seed)
        skill = spec.skill
        self.delay = round(MAX_DELAY_STEPS * (1.0 - skill))
        """Reaction delay, env steps."""
        self.replan_chance = 0.3 + 0.7 * skill
        self.lead_chance = skill
        self.trigger_chance = 0.3 + 0.7 * skill
        self.dodge_chance = 0.9 * skill
        self.dash_dodges = skill > 0.5
        self.fumble_chance = 0.3 * (1.0 - skill)
        self._history: list[npt.NDArray[np.float32]] = []
        self._last = np.zeros((num_arenas, 3), dtype=np.int64)
        self._circle = np.where(self.rng.random(num_arenas) < 0.5, 1.0, -1.0)
        """(N,) direction a kiter circles in (+1 counter-clockwise in screen angles)."""

    def __call__(self, obs: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
        """The actions of one env step.

        Args:
            obs: (N, OBSERVATION_SIZE) the player's observations now.

        Returns:
            (N, 3) move, fire and dash choices.
        """
        obs = np.asarray(obs, dtype=np.float32).reshape(self.num_arenas, -1)
        self._history.append(obs.copy())
        if len(self._history) > self.delay + 1:
            self._history.pop(0)
        seen = self._history[0]  # what the player has reacted to so far
        draws = self.rng.random((self.num_arenas, 8))  # (N, 8) every chance of this step
        planned = self._plan(seen, draws)
        replan = draws[:, 0] < self.replan_chance
        self._last = np.where(replan[:, None], planned, self._last)
        return self._last.copy()

    def _plan(self, obs: npt.NDArray[np.float32], draws: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        """Fresh actions from (delayed) observations; ``draws`` (N, 8) uniform in [0, 1)."""
        n = self.num_arenas
        dx = obs[:, F.TARGET_DX].astype(np.float64) * ARENA_WIDTH  # (N,) world units
        dy = obs[:, F.TARGET_DY].astype(np.float64) * ARENA_HEIGHT
        distance = obs[:, F.TARGET_DISTANCE].astype(np.float64) * _DIAGONAL
        bearing = np.arctan2(dy, dx)  # (N,) radians, towards the target
        alive = obs[:, F.TARGET_ALIVE] > 0.5
        visible = (obs[:, F.TARGET_VISIBLE] > 0.5) & alive
        if self.spec.behaviour == "rusher":
            heading = bearing  # out of sight too: the freest way round a wall (below)
        else:
            away = np.where(
                distance < _KITE_RANGE - 50.0, -1.0, np.where(distance > _KITE_RANGE + 50.0, 1.0, 0.0)
            )
            side = self._circle * (math.pi / 2.0)
            # Towards (+1), away (-1) or around (0) the target, always with a sideways part.
            heading = bearing + np.where(away > 0, side / 3.0, np.where(away < 0, math.pi - side / 3.0, side))
        move = _free_direction(heading, obs)
        if self.spec.behaviour == "kiter":
            blocked = _ray(obs, move) < 2.0 * _WALL_CLEARANCE
            self._circle = np.where(blocked & (draws[:, 7] < 0.5), -self._circle, self._circle)
        move = np.where(alive, move, 0)
        dash = np.zeros(n, dtype=np.int64)

        dodge_dir = _dodge_direction(obs)
        dodge = (dodge_dir >= 0) & (draws[:, 1] < self.dodge_chance)
        move = np.where(dodge, _free_direction(_move_angle(dodge_dir), obs), move)
        if self.dash_dodges:
            dash = np.where(dodge & (obs[:, F.SELF_DASH_COOLDOWN] <= 0.0), 1, 0)

        fumble = draws[:, 2] < self.fumble_chance
        move = np.where(fumble, np.minimum((draws[:, 3] * (_MOVES + 1)).astype(np.int64), _MOVES), move)

        lead = _lead_choice(obs, bearing)
        random_lead = 1 + np.minimum((draws[:, 5] * 3).astype(np.int64), 2)
        lead = np.where(draws[:, 4] < self.lead_chance, lead, random_lead)
        trigger = visible & (draws[:, 6] < self.trigger_chance)
        fire = np.where(trigger, lead, 0)
        return np.stack([move, fire, dash], axis=1).astype(np.int64)


def _move_angle(move: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The angle of move choices 1..8, radians."""
    return (move.astype(np.float64) - 1.0) * (2.0 * math.pi / _MOVES)


def _ray(obs: npt.NDArray[np.float32], move: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """(N,) the wall ray along each move (1.0 for standing still), ray units."""
    rays = obs[:, F.RAY0 : F.RAY0 + RAY_COUNT].astype(np.float64)
    index = np.clip(move - 1, 0, RAY_COUNT - 1)
    return np.where(move > 0, rays[np.arange(len(move)), index], 1.0)


def _free_direction(heading: npt.NDArray[np.float64], obs: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """The move nearest ``heading`` (N,) radians, or the nearest one to it with no wall close ahead."""
    step = 2.0 * math.pi / _MOVES
    nearest = np.mod(np.rint(heading / step).astype(np.int64), _MOVES)  # 0..7, = ray index
    rays = obs[:, F.RAY0 : F.RAY0 + RAY_COUNT].astype(np.float64)
    rows = np.arange(len(heading))
    candidates = np.stack([nearest, (nearest + 1) % _MOVES, (nearest - 1) % _MOVES,
                           (nearest + 2) % _MOVES, (nearest - 2) % _MOVES], axis=1)  # fmt: skip
    free = rays[rows[:, None], candidates] >= _WALL_CLEARANCE  # (N, 5)
    first_free = np.where(free.any(axis=1), free.argmax(axis=1), 0)
    return candidates[rows, first_free] + 1


def _dodge_direction(obs: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    """(N,) the move that steps off the nearest incoming bullet's line, or -1 when none threatens."""
    bx = obs[:, F.BULLET0_DX].astype(np.float64) * BULLET_RANGE  # bullet - me, world units
    by = obs[:, F.BULLET0_DY].astype(np.float64) * BULLET_RANGE
    vx = obs[:, F.BULLET0_VX].astype(np.float64)
    vy = obs[:, F.BULLET0_VY].astype(np.float64)
    speed = np.hypot(vx, vy)
    ux = np.where(speed > 0, vx / np.maximum(speed, 1e-9), 0.0)
    uy = np.where(speed > 0, vy / np.maximum(speed, 1e-9), 0.0)
    along = -(bx * ux + by * uy)  # how far ahead of the bullet I stand
    across = bx * uy - by * ux  # signed miss distance
    threat = (obs[:, F.BULLET0_PRESENT] > 0.5) & (along > 0) & (along < 150.0) & (np.abs(across) < 24.0)
    # Step perpendicular to the bullet, to the side it would miss on.
    side = np.where(across >= 0, 1.0, -1.0)
    angle = np.arctan2(uy, ux) - side * (math.pi / 2.0)
    step = 2.0 * math.pi / _MOVES
    move = np.mod(np.rint(angle / step).astype(np.int64), _MOVES) + 1
    return np.where(threat, move, -1)


def _lead_choice(obs: npt.NDArray[np.float32], bearing: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """(N,) the fire choice 1..3 whose lead (-0.2, 0, +0.2 rad) best fits the target's sideways speed."""
    vx = obs[:, F.TARGET_VX].astype(np.float64) * _ENEMY_TOP_SPEED
    vy = obs[:, F.TARGET_VY].astype(np.float64) * _ENEMY_TOP_SPEED
    sideways = -vx * np.sin(bearing) + vy * np.cos(bearing)  # world units per tick, + = counter-clockwise
    ideal = np.arcsin(np.clip(sideways / _RULES.player_bullet_speed, -1.0, 1.0))
    return np.clip(2 + np.rint(ideal / LEAD_ANGLE).astype(np.int64), 1, 3)
