"""Scripted player styles of the platformer: parameterised, noisy players with a skill.

Every style is one controller, :class:`ScriptedPlayer`, driven by a parameter vector
(:class:`StyleParam`); a named style is a box of parameter ranges (:data:`STYLES`).
Sampling a point of the box and a skill (:func:`style_params`) gives one player. They are
the labelled players of the behaviour dataset (the label is the style's name,
:mod:`demo_game.platformer.record`), the opponents the goblin agent trains against
(``gameai/Platformer-v0``) and the demo's autopilot.

A player picks a target now and then (the flag, a gem, a spot to explore, a goblin to
stomp; by the style's weights), runs towards it, and jumps at pits, steps, ledges on the
way up, goblins ahead, and at random. Humans (every style but ``bot_like``) jump a little
early or late at pit edges (``TIMING_NOISE``), vary their speed, hesitate and hop; skill
shrinks the timing noise and raises the speed.

What each style does (checked on trajectories in
``tests/demo_game/platformer/test_styles.py``):

- speedrunner: straight for the flag at top speed; the fastest progress, jumps only when it must.
- explorer: wanders both ways between spots, climbs ledges; the most turns and time up high.
- collector: goes from gem to gem, up ledges and over pits; the most gems per minute.
- stomper: hunts the goblins and jumps on them; the most stomps per minute.
- idle: AFK: stands still for seconds at a time, then ambles a little; the most idle time.
- bot_like: inhumanly regular: one constant speed, a jump every ``PERIOD`` ticks on a
  fixed clock, frame-perfect jumps at pit edges, no noise at all.
"""

from __future__ import annotations

import enum
import math
from typing import Final

import numpy as np
import numpy.typing as npt

from demo_game.platformer.sim.senses import drop_ahead, ledge_to_climb, rise_ahead
from demo_game.platformer.sim.simulation import PlatformerSimulation
from demo_game.platformer.sim.state import Body, Control, PlatformerState
from demo_game.style_space import Style, make_style, sample_style

FloatArray = npt.NDArray[np.float64]


class StyleParam(enum.IntEnum):
    """Columns of a style parameter vector."""

    SPEED = 0
    """Fraction of top speed it runs at."""
    FORWARD = 1
    """Weight of heading for the flag when it picks a target."""
    COLLECT = 2
    """Weight of going for a gem."""
    EXPLORE = 3
    """Weight of wandering to a spot (a ledge or some ground, either way)."""
    HUNT = 4
    """Weight of going for a goblin to stomp."""
    IDLE = 5
    """Tendency to go AFK: 0 never, 1 most of the time."""
    HOP = 6
    """Jumps for no reason, per second."""
    TIMING_NOISE = 7
    """Spread of its jump timing at pit edges, ticks."""
    HESITATE = 8
    """Short pauses per minute."""
    SPEED_NOISE = 9
    """Relative wobble of its running speed."""
    AVOID = 10
    """Chance that it jumps over (or onto) a goblin ahead."""
    REGULAR = 11
    """1 for a machine: constant speed, clock-driven jumps, frame-perfect edges, no noise."""
    PERIOD = 12
    """Ticks between a machine's jumps (REGULAR only)."""
    RETARGET = 13
    """Seconds it keeps a target before it may pick another."""
    JUMP_HOLD = 14
    """Ticks it holds jump for an ordinary jump (12 or more: a full jump)."""


N_PARAMS: Final = len(StyleParam)


def _style(name: str, **ranges: tuple[float, float]) -> Style:
    defaults: dict[str, tuple[float, float]] = {
        "SPEED": (0.8, 0.95),
        "FORWARD": (0.2, 0.3),
        "COLLECT": (0.0, 0.0),
        "EXPLORE": (0.0, 0.0),
        "HUNT": (0.0, 0.0),
        "IDLE": (0.0, 0.0),
        "HOP": (0.0, 0.2),
        "TIMING_NOISE": (1.0, 2.0),
        "HESITATE": (0.5, 2.0),
        "SPEED_NOISE": (0.05, 0.15),
        "AVOID": (0.5, 0.9),
        "REGULAR": (0.0, 0.0),
        "PERIOD": (30.0, 30.0),
        "RETARGET": (3.0, 6.0),
        "JUMP_HOLD": (10.0, 14.0),
    }
    return make_style(name, StyleParam, defaults, ranges)


#: The player styles, by name (the behaviour classes of the platformer).
STYLES: Final[dict[str, Style]] = {
    style.name: style
    for style in (
        _style(
            "speedrunner",
            SPEED=(0.95, 1.0), FORWARD=(1.0, 1.0), HOP=(0.0, 0.15), TIMING_NOISE=(0.5, 1.5),
            HESITATE=(0.0, 0.3), SPEED_NOISE=(0.02, 0.06), AVOID=(0.8, 1.0), RETARGET=(8.0, 12.0),
        ),
        _style(
            "explorer",
            SPEED=(0.6, 0.8), FORWARD=(0.05, 0.15), EXPLORE=(0.9, 1.0), HOP=(0.3, 0.8),
            HESITATE=(1.5, 4.0), RETARGET=(2.0, 4.0),
        ),
        _style(
            "collector",
            SPEED=(0.85, 1.0), FORWARD=(0.0, 0.05), COLLECT=(0.95, 1.0), HOP=(0.0, 0.2),
            HESITATE=(0.0, 1.0), RETARGET=(5.0, 8.0),
        ),
        _style(
            "stomper",
            SPEED=(0.8, 0.95), FORWARD=(0.05, 0.15), HUNT=(0.9, 1.0), AVOID=(1.0, 1.0), HOP=(0.0, 0.2),
            RETARGET=(5.0, 8.0),
        ),
        _style(
            "idle",
            SPEED=(0.35, 0.55), FORWARD=(0.5, 0.8), EXPLORE=(0.2, 0.5), IDLE=(0.9, 1.0), HOP=(0.0, 0.1),
            HESITATE=(0.0, 1.0), AVOID=(0.2, 0.5),
        ),
        _style(
            "bot_like",
            SPEED=(0.85, 1.0), FORWARD=(1.0, 1.0), HOP=(0.0, 0.0), TIMING_NOISE=(0.0, 0.0),
            HESITATE=(0.0, 0.0), SPEED_NOISE=(0.0, 0.0), AVOID=(1.0, 1.0), REGULAR=(1.0, 1.0),
            PERIOD=(30.0, 40.0), RETARGET=(10.0, 10.0), JUMP_HOLD=(12.0, 12.0),
        ),
    )
}  # fmt: skip

#: The styles a person could be accused of (the dataset's accusation classes).
ACCUSATION_STYLES: Final = ("bot_like",)


def style_params(
    style: Style | str,
    rng: np.random.Generator,
    skill: float = 0.5,
    variation: tuple[float, float] = (0.0, 1.0),
) -> FloatArray:
    """Sample the parameter vector of one player of a style.

    Args:
        style: A :class:`Style` or the name of one in :data:`STYLES`.
        rng: Source of each parameter's position within its range.
        skill: 0 (weak) .. 1 (strong): 0 doubles the timing noise and slows the player by a
            tenth, 1 halves the noise and speeds it up by a tenth (capped at top speed); a
            machine's precision does not change.
        variation: Sub-range of each parameter's range to draw from, as fractions (hold out
            a part of style space for a generalisation test).

    Returns:
        (len(StyleParam),) float64.

    Raises:
        KeyError: If the style name is unknown.
        ValueError: If skill or variation is out of [0, 1].
    """
    params = sample_style(style, STYLES, rng, skill, variation)
    params[StyleParam.PERIOD] = round(params[StyleParam.PERIOD])
    params[StyleParam.JUMP_HOLD] = round(params[StyleParam.JUMP_HOLD])
    if params[StyleParam.REGULAR] < 0.5:
        factor = 2.0 ** (1.0 - 2.0 * skill)  # 2 at skill 0, 1 at 0.5, 0.5 at 1
        params[StyleParam.TIMING_NOISE] *= factor
        params[StyleParam.SPEED] = min(params[StyleParam.SPEED] * (1.0 + 0.2 * (skill - 0.5)), 1.0)
    return params


class Target(enum.IntEnum):
    """What a player is heading for."""

    FLAG = 0
    GEM = 1
    SPOT = 2
    GOBLIN = 3


_GEM_RANGE: Final = 1200.0
"""Gems farther than this (horizontally) are not worth a detour."""
_GIVE_UP_TICKS: Final = 240
"""A gem or spot not reached in this many ticks is given up."""


def _pit_within(s: PlatformerState, body: Body, direction: float, distance: float) -> bool:
    """Whether a pit opens within ``distance`` units ahead of the body's leading side."""
    return any(
        drop_ahead(s.level, body, direction, ahead) is None for ahead in np.arange(0.0, distance + 1.0, 16.0)
    )


def _step_off(s: PlatformerState, body: Body) -> float:
    """Which way (+1 right, -1 left) is the nearer end of the ledge the body stands on (0: on the ground)."""
    ledges = s.level.ledges
    under = (ledges[:, 0] < body.right) & (body.left < ledges[:, 2]) & (np.abs(ledges[:, 1] - body.y) < 0.5)
    if not under.any():
        return 0.0
    x0, x1 = float(ledges[under, 0].min()), float(ledges[under, 2].max())
    return -1.0 if body.x - x0 < x1 - body.x else 1.0


class ScriptedPlayer:
    """Plays the player of a one-level simulation in a style: call it every tick before the step.

    Args:
        params: (len(StyleParam),) from :func:`style_params`.
        rng: Source of its noise and choices (its own: two players never share one).
    """

    def __init__(self, params: npt.ArrayLike, rng: np.random.Generator) -> None:
        self.params = np.asarray(params, dtype=np.float64).reshape(N_PARAMS)
        self.rng = rng
        p = self.params
        self.regular = bool(p[StyleParam.REGULAR] > 0.5)
        self.period = max(int(p[StyleParam.PERIOD]), 1)
        self.phase = int(rng.integers(0, self.period))
        self.tick_rate = 30.0
        """The simulation's ticks per second (read from it every tick)."""
        self._level_seed: int | None = None
        self._tick = -1
        self._restart()

    def _restart(self) -> None:
        """Forget the last level's plans."""
        self.target = Target.FLAG
        self.target_xy = (0.0, 0.0)
        self.target_index = -1
        self.target_ticks = 0
        self.retarget_ticks = 0
        self.afk_ticks = 0
        self.pause_ticks = 0
        self.jump_ticks = 0
        self.last_jump = -self.phase
        self.pit_jump = False
        self.lead = self._draw_lead()
        self.speed_wobble = 0.5
        self.check_x = 0.0
        self.check_ticks = 0
        self.stuck_checks = 0
        self.given_up: set[int] = set()
        self.avoided: set[int] = set()

    def _draw_lead(self) -> float:
        """Ticks before a pit edge it will jump at (a machine: at the last moment)."""
        if self.regular:
            return 0.0
        noise = self.params[StyleParam.TIMING_NOISE]
        return float(np.clip(2.5 + self.rng.normal(0.0, noise), -6.0, 8.0))

    # ------------------------------------------------------------------ targets
    def _choose_target(self, s: PlatformerState) -> None:
        p, rng = self.params, self.rng
        body = s.player.body
        options: list[tuple[Target, float, tuple[float, float], int]] = [
            (Target.FLAG, p[StyleParam.FORWARD], (s.level.flag[0] + 40.0, s.level.flag[1]), -1)
        ]
        gem = self._nearest_gem(s)
        if gem >= 0:
            options.append((Target.GEM, p[StyleParam.COLLECT], self._gem_goal(s, gem), gem))
        if p[StyleParam.EXPLORE] > 0.0:
            options.append((Target.SPOT, p[StyleParam.EXPLORE], self._spot(s), -1))
        goblin = self._nearest_goblin(s)
        if goblin >= 0:
            options.append((Target.GOBLIN, p[StyleParam.HUNT], (0.0, 0.0), goblin))
        weights = np.array([o[1] for o in options])
        if weights.sum() <= 0.0:
            weights[0] = 1.0
        kind, _, xy, index = options[int(rng.choice(len(options), p=weights / weights.sum()))]
        self.target, self.target_xy, self.target_index = kind, xy, index
        self.target_ticks = 0
        seconds = p[StyleParam.RETARGET] * (1.0 if self.regular else rng.uniform(0.7, 1.3))
        if kind == Target.FLAG and p[StyleParam.FORWARD] < 0.5:
            seconds = 1.0  # not what it came for: look around again soon
        self.retarget_ticks = int(seconds * self.tick_rate)
        self.check_x, self.stuck_checks = body.x, 0

    def _nearest_gem(self, s: PlatformerState) -> int:
        body, gems = s.player.body, s.level.gems
        if gems.shape[0] == 0:
            return -1
        cost = np.abs(gems[:, 0] - body.x) + 1.5 * np.clip(body.y - gems[:, 1], 0.0, None)
        cost += np.where(gems[:, 0] < body.x, 0.5 * (body.x - gems[:, 0]), 0.0)  # ahead first
        blocked = s.gems_taken.copy()
        blocked[list(self.given_up)] = True
        cost[blocked | (np.abs(gems[:, 0] - body.x) > _GEM_RANGE)] = np.inf
        best = int(cost.argmin())
        return best if np.isfinite(cost[best]) else -1

    @staticmethod
    def _gem_goal(s: PlatformerState, gem: int) -> tuple[float, float]:
        """Where to go for a gem: the gem itself, or for a gem over a pit the far side of the pit
        (it is picked up in the jump's arc)."""
        level, body = s.level, s.player.body
        gx, gy = (float(v) for v in level.gems[gem])
        if level.ground_top(gx) is not None:
            return gx, gy
        direction = 1.0 if gx >= body.x else -1.0
        x = gx
        while 0.0 < x < level.width:
            top = level.ground_top(x)
            if top is not None:
                return x + direction * 48.0, top
            x += direction * 16.0
        return gx, gy

    def _nearest_goblin(self, s: PlatformerState) -> int:
        body = s.player.body
        best, best_distance = -1, 1200.0
        for i, goblin in enumerate(s.goblins):
            distance = abs(goblin.body.x - body.x) + abs(goblin.body.y - body.y)
            if goblin.alive and distance < best_distance:
                best, best_distance = i, distance
        return best

    def _spot(self, s: PlatformerState) -> tuple[float, float]:
        """A place to explore: a ledge within reach of a wander, or ground either way."""
        level, body, rng = s.level, s.player.body, self.rng
        ledges = level.ledges
        near = ledges[np.abs((ledges[:, 0] + ledges[:, 2]) / 2 - body.x) < 700.0] if ledges.size else ledges
        if near.shape[0] and rng.random() < 0.8:
            x0, top, x1, _ = near[int(rng.integers(near.shape[0]))]
            return float(rng.uniform(x0 + 12.0, x1 - 12.0)), float(top)
        for _ in range(8):
            x = float(np.clip(body.x + rng.uniform(-700.0, 800.0), 40.0, level.width - 40.0))
            top = level.ground_top(x)
            if top is not None:
                return x, top
        return body.x, body.y

    def _target_position(self, s: PlatformerState) -> tuple[float, float] | None:
        """Where the current target is now (None: it is gone)."""
        if self.target == Target.GOBLIN:
            goblin = s.goblins[self.target_index]
            return (goblin.body.x, goblin.body.y) if goblin.alive else None
        if self.target == Target.GEM and s.gems_taken[self.target_index]:
            return None
        return self.target_xy

    # ------------------------------------------------------------------ one tick
    def __call__(self, sim: PlatformerSimulation) -> npt.NDArray[np.float64]:
        """The player's controls row for the next tick of ``sim`` (written into ``sim.controls[0]`` too)."""
        s = sim.state
        self.tick_rate = sim.rules.tick_rate
        if self._level_seed != s.level.seed or s.tick < self._tick:
            self._level_seed = s.level.seed
            self._restart()
            self._choose_target(s)
        self._tick = s.tick
        controls = self._decide(s)
        sim.controls[0] = controls
        return controls

    def _decide(self, s: PlatformerState) -> npt.NDArray[np.float64]:
        p, rng = self.params, self.rng
        controls = np.zeros(len(Control))
        if s.done:
            return controls
        body = s.player.body

        # AFK stretches and short pauses (humans only).
        if self.afk_ticks > 0 or self.pause_ticks > 0:
            self.afk_ticks = max(self.afk_ticks - 1, 0)
            self.pause_ticks = max(self.pause_ticks - 1, 0)
            self.jump_ticks = 0
            return controls
        if p[StyleParam.IDLE] > 0.0 and body.on_ground and rng.random() < 0.02 * p[StyleParam.IDLE]:
            self.afk_ticks = int(rng.integers(90, 241))
            return controls
        per_tick = p[StyleParam.HESITATE] / (60.0 * self.tick_rate)
        if per_tick > 0.0 and body.on_ground and rng.random() < per_tick:
            self.pause_ticks = int(rng.integers(8, 26))
            return controls

        # The target: keep it, or pick another when reached, gone, stale or out of reach.
        self.target_ticks += 1
        position = self._target_position(s)
        reached = (
            position is not None and abs(position[0] - body.x) < 16.0 and abs(position[1] - body.y) < 48.0
        )
        given_up = self.target in (Target.GEM, Target.SPOT) and self.target_ticks > _GIVE_UP_TICKS
        if (given_up or reached) and self.target == Target.GEM:  # reached the goal, missed the gem
            self.given_up.add(self.target_index)
        if position is None or reached or given_up or self.target_ticks > self.retarget_ticks:
            self._choose_target(s)
            position = self._target_position(s) or (body.x, body.y)
        tx, ty = position

        # Going up: aim for the ledge on the way, then jump when under its near end.
        climb = None
        if ty < body.y - 40.0 and body.on_ground:
            climb = ledge_to_climb(s.level, body, tx)
            if climb is not None:
                x0, x1, _ = climb
                tx = min(max(tx, x0 + 14.0), x1 - 14.0)
        dx = tx - body.x
        direction = 0.0 if abs(dx) < 10.0 else math.copysign(1.0, dx)
        if ty > body.y + 40.0 and abs(dx) < 40.0 and body.on_ground:
            direction = _step_off(s, body)  # right above it: off the ledge, the nearer way
        # Hunting a goblin on its own level: let one that comes at it come, chase one that does not.
        prey = s.goblins[self.target_index] if self.target == Target.GOBLIN else None
        waiting = (
            prey is not None
            and abs(ty - body.y) < 40.0
            and abs(dx) < 250.0
            and prey.body.vx * -math.copysign(1.0, dx) > 1.0
        )
        if waiting:
            direction = 0.0

        # Speed: a machine's never changes; a person's wobbles below its usual speed and picks up
        # before a pit.
        speed = p[StyleParam.SPEED]
        if not self.regular:
            if s.tick % 15 == 0:
                self.speed_wobble = float(np.clip(self.speed_wobble + rng.normal(0.0, 0.4), 0.0, 1.0))
            speed = speed * (1.0 - p[StyleParam.SPEED_NOISE] * self.speed_wobble)
            if body.on_ground:
                self.pit_jump = False
            if self.pit_jump or (direction and body.on_ground and _pit_within(s, body, direction, 120.0)):
                speed = max(speed, 0.95 - 0.05 * self.speed_wobble)  # a run-up, held through the jump
            speed = min(max(speed, 0.2), 1.0)
        controls[Control.MOVE_X] = direction * speed

        jump = self._jump(s, body, direction, climb, tx, ty)
        if jump > 0:
            self.jump_ticks = jump
            self.last_jump = s.tick
        controls[Control.JUMP] = float(self.jump_ticks > 0)
        self.jump_ticks = max(self.jump_ticks - 1, 0)
        self._unstick(body, direction)
        return controls

    def _jump(
        self,
        s: PlatformerState,
        body: Body,
        direction: float,
        climb: tuple[float, float, float] | None,
        tx: float,
        ty: float,
    ) -> int:
        """Ticks to hold jump if it jumps now, else 0."""
        p, rng = self.params, self.rng
        hold = int(p[StyleParam.JUMP_HOLD])
        if not (body.on_ground or (body.coyote > 0 and body.vy >= 0.0)) or self.jump_ticks > 0:
            return 0
        if self.regular and s.tick - self.last_jump >= self.period:
            # On its clock, unless the jump would come down in a pit (then at the pit's edge).
            reach = abs(body.vx) * 2.0 * self.params[StyleParam.JUMP_HOLD] + 40.0
            if not direction or not _pit_within(s, body, direction, reach):
                return hold
        if direction:
            # A person looks ``lead`` ticks ahead (late when negative: the point looked at is inside
            # its own body); a machine jumps on the very last tick before its leading side is over.
            lookahead = abs(body.vx) + 0.5 if self.regular else max(abs(body.vx), 1.0) * self.lead
            if drop_ahead(s.level, body, direction, lookahead) is None:
                self.lead = self._draw_lead()
                self.pit_jump = True
                return max(hold, 12)
            if rise_ahead(s.level, body, direction, 8.0) > 4.0:
                return max(hold, 12)
        if climb is not None and abs(tx - body.x) < 40.0:
            return max(hold, 12)
        if ty < body.y - 40.0 and abs(tx - body.x) < 30.0:
            return max(hold, 12)
        for i, goblin in enumerate(s.goblins):
            gdx = goblin.body.x - body.x
            if not goblin.alive or abs(goblin.body.y - body.y) > 40.0:
                continue
            if self.target == Target.GOBLIN and self.target_index == i:
                # Take off so as to come down on its head: about 21 ticks before the boxes meet at
                # the speed they close in at (a person's timing is off by its lead's error).
                closing = (body.vx - goblin.body.vx) * math.copysign(1.0, gdx)
                if closing > 0.5 and abs(gdx) - 24.0 <= closing * (21.0 + self.lead - 2.5):
                    self.lead = self._draw_lead()
                    return max(hold, 12)
                continue
            if direction and 0.0 < gdx * direction < 110.0 and i not in self.avoided:
                self.avoided.add(i)
                if rng.random() < p[StyleParam.AVOID]:
                    return max(hold, 12)
            elif gdx * direction > 200.0:
                self.avoided.discard(i)
        if p[StyleParam.HOP] > 0.0 and rng.random() < p[StyleParam.HOP] / self.tick_rate:
            return int(rng.integers(4, hold + 1))
        return 0

    def _unstick(self, body: Body, direction: float) -> None:
        """Every two seconds: not moving though it wants to, it jumps; stuck three times, it gives up."""
        self.check_ticks += 1
        if self.check_ticks < 60:
            return
        self.check_ticks = 0
        if direction and abs(body.x - self.check_x) < 20.0:
            self.stuck_checks += 1
            self.jump_ticks = int(self.params[StyleParam.JUMP_HOLD])
            if self.stuck_checks >= 3:
                if self.target == Target.GEM:
                    self.given_up.add(self.target_index)
                self.retarget_ticks = 0
        else:
            self.stuck_checks = 0
        self.check_x = body.x
