"""The simulation facade: one level, stepped a tick at a time with everyone's controls."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import numpy.typing as npt

from demo_game.platformer.sim.level import LEVEL_HEIGHT, Level, LevelConfig, generate_level
from demo_game.platformer.sim.physics import Mover, move_body
from demo_game.platformer.sim.rules import PlatformerRules
from demo_game.platformer.sim.state import (
    Body,
    Control,
    Event,
    Goblin,
    Outcome,
    PlatformerState,
    Player,
)


@dataclasses.dataclass(frozen=True)
class PlatformerConfig:
    """Rules and level making of one simulation."""

    rules: PlatformerRules = dataclasses.field(default_factory=PlatformerRules)
    """Physics, hearts, scores, timings."""
    level: LevelConfig = dataclasses.field(default_factory=LevelConfig)
    """How levels are made from their seeds."""


class PlatformerSimulation:
    """One level of the platformer.

    Calling order: :meth:`reset` with a seed (or a ready level), then fill :attr:`controls`
    and call :meth:`step`, again and again; :attr:`state` holds everything that changes.
    A level that is over stays frozen until the next :meth:`reset`. Deterministic: the
    same seed (or level and generator) and the same controls give the same states.

    Row 0 of :attr:`controls` is the player, row ``1 + i`` goblin ``i``: goblins are driven
    from outside (a scripted policy, an RL agent); a goblin whose row is zero stands still.

    Example:
        >>> sim = PlatformerSimulation()
        >>> sim.reset(seed=7)
        >>> sim.controls[0, Control.MOVE_X] = 1.0
        >>> sim.step()
    """

    def __init__(self, config: PlatformerConfig | None = None) -> None:
        self.config = config or PlatformerConfig()
        self.rules = self.config.rules
        rules = self.rules
        self.player_mover = Mover(rules.player_speed, rules.player_jump_speed)
        self.goblin_mover = Mover(rules.goblin_speed, rules.goblin_jump_speed)
        self.rng = np.random.default_rng(0)
        """Draws the goblins' respawn delays; reseeded by :meth:`reset`."""
        self.controls: npt.NDArray[np.float64] = np.zeros((1, len(Control)))
        """(1 + E, len(Control)) what the player (row 0) and each goblin do on the next :meth:`step`."""
        self._state: PlatformerState | None = None

    @property
    def state(self) -> PlatformerState:
        """The level in play.

        Raises:
            RuntimeError: Before the first :meth:`reset`.
        """
        if self._state is None:
            raise RuntimeError("call reset() before using the simulation")
        return self._state

    @property
    def level(self) -> Level:
        """The level in play."""
        return self.state.level

    def reset(self, seed: int, level: Level | None = None, rng: np.random.Generator | None = None) -> None:
        """Start a level.

        Args:
            seed: Makes the level (unless ``level`` is given) and seeds the generator.
            level: A ready level to play instead of ``generate_level(seed)``.
            rng: The generator of the level's random draws (default: seeded from ``seed``).
        """
        if level is None:
            level = generate_level(seed, self.config.level)
        self.rng = rng if rng is not None else np.random.default_rng([int(seed), 1])
        rules = self.rules
        start_x, start_y = level.start
        player = Player(
            body=Body(start_x, start_y, rules.player_width, rules.player_height, on_ground=True),
            hearts=rules.player_hearts,
            checkpoint=(start_x, start_y),
        )
        goblins = [
            Goblin(
                body=Body(x, y, rules.goblin_width, rules.goblin_height, on_ground=True, facing=-1.0),
                home_x=x,
                home_y=y,
                patrol_min=lo,
                patrol_max=hi,
            )
            for x, y, lo, hi in level.goblin_homes.tolist()
        ]
        self._state = PlatformerState(
            level=level,
            player=player,
            goblins=goblins,
            gems_taken=np.zeros(level.n_gems, dtype=np.bool_),
            talking=np.zeros(len(level.friendlies), dtype=np.int64),
            events=np.zeros(len(Event), dtype=np.int32),
        )
        self.controls = np.zeros((1 + level.n_goblins, len(Control)))

    # ------------------------------------------------------------------ stepping
    def step(self) -> None:
        """Advance the level one tick with :attr:`controls`; :attr:`state`'s events say what happened."""
        s = self.state
        s.events[:] = 0
        for goblin in s.goblins:
            goblin.hit = goblin.stomped = goblin.fell = False
        if s.done:
            return
        s.tick += 1
        s.talking[:] = np.maximum(s.talking - 1, 0)
        feet_before = self._step_player()
        self._step_goblins()
        if not s.done:
            self._contacts(feet_before)
            self._gems()
            self._talk()
        self._finish()

    def _event(self, event: Event) -> None:
        self.state.events[event] += 1

    def _step_player(self) -> float:
        s, rules = self.state, self.rules
        player, body = s.player, s.player.body
        feet_before = body.y
        moved = move_body(
            body, float(self.controls[0, Control.MOVE_X]), bool(self.controls[0, Control.JUMP] > 0.5),
            self.player_mover, s.level, rules,
        )  # fmt: skip
        if moved.jumped:
            self._event(Event.JUMP)
        if moved.landed:
            self._event(Event.LAND)
        if player.invulnerable > 0:
            player.invulnerable -= 1
        if body.on_ground:
            self._update_checkpoint()
        if body.y > LEVEL_HEIGHT + rules.fall_margin:
            self._lose_heart(Event.FALL)
            if not s.done:
                x, y = player.checkpoint
                player.body = Body(x, y, rules.player_width, rules.player_height, on_ground=True)
                player.invulnerable = rules.invulnerable_ticks
        return feet_before

    def _update_checkpoint(self) -> None:
        """Remember the ground the player stands on, away from its edges, as where a fall returns it."""
        player = self.state.player
        body, solids = player.body, self.state.level.solids
        under = (solids[:, 0] <= body.x) & (body.x <= solids[:, 2]) & (np.abs(solids[:, 1] - body.y) < 0.5)
        if under.any():
            x0, x1 = float(solids[under, 0].min()), float(solids[under, 2].max())
            if x0 + 40.0 <= body.x <= x1 - 40.0:
                player.checkpoint = (body.x, body.y)

    def _lose_heart(self, event: Event) -> None:
        s = self.state
        self._event(event)
        s.player.hearts -= 1
        if s.player.hearts <= 0:
            s.player.hearts = 0
            self._event(Event.DEATH)
            self._event(Event.LOSS)
            s.outcome = Outcome.LOSS

    def _step_goblins(self) -> None:
        s, rules = self.state, self.rules
        for i, goblin in enumerate(s.goblins):
            if not goblin.alive:
                goblin.respawn -= 1
                near = abs(s.player.body.x - goblin.home_x) < 200.0
                if goblin.respawn <= 0 and not near:
                    goblin.body = Body(
                        goblin.home_x, goblin.home_y, rules.goblin_width, rules.goblin_height,
                        on_ground=True, facing=-1.0,
                    )  # fmt: skip
                    goblin.alive = True
                continue
            move_body(
                goblin.body, float(self.controls[1 + i, Control.MOVE_X]),
                bool(self.controls[1 + i, Control.JUMP] > 0.5), self.goblin_mover, s.level, rules,
            )  # fmt: skip
            if goblin.body.y > LEVEL_HEIGHT + rules.fall_margin:
                goblin.fell = True
                self._kill(goblin)

    def _kill(self, goblin: Goblin) -> None:
        goblin.alive = False
        mean = self.rules.goblin_respawn_ticks
        goblin.respawn = int(self.rng.integers(mean // 2, mean + mean // 2 + 1))

    def _contacts(self, feet_before: float) -> None:
        """Stomps (falling onto a goblin's head) and hits (any other touch)."""
        s, rules = self.state, self.rules
        player = s.player
        body = player.body
        for goblin in s.goblins:
            if s.done:
                return
            if not goblin.alive or not body.overlaps(goblin.body):
                continue
            if body.vy > 0.0 and feet_before <= goblin.body.top + rules.stomp_tolerance:
                goblin.stomped = True
                self._kill(goblin)
                body.vy = -rules.stomp_bounce_speed
                body.on_ground = False
                s.stomps += 1
                s.score += rules.score_stomp
                self._event(Event.STOMP)
            elif player.invulnerable == 0:
                goblin.hit = True
                side = 1.0 if body.x >= goblin.body.x else -1.0
                body.vx = side * rules.knockback_speed
                body.vy = -8.0
                body.on_ground = False
                player.invulnerable = rules.invulnerable_ticks
                self._lose_heart(Event.HURT)

    def _gems(self) -> None:
        s = self.state
        if s.level.n_gems == 0:
            return
        body, gems = s.player.body, s.level.gems
        nearest_x = np.clip(gems[:, 0], body.left, body.right)
        nearest_y = np.clip(gems[:, 1], body.top, body.y)
        touched = (gems[:, 0] - nearest_x) ** 2 + (gems[:, 1] - nearest_y) ** 2 <= self.rules.gem_radius**2
        new = touched & ~s.gems_taken
        if new.any():
            count = int(new.sum())
            s.gems_taken |= new
            s.score += count * self.rules.score_gem
            s.events[Event.GEM] += count

    def nearest_friendly(self) -> int | None:
        """The friendly NPC the player can talk to now (its index in ``level.friendlies``), if any."""
        s = self.state
        body = s.player.body
        best, best_distance = None, self.rules.talk_radius
        for slot, npc in enumerate(s.level.friendlies):
            distance = math.hypot(npc.x - body.x, npc.y - body.y)
            if distance <= best_distance:
                best, best_distance = slot, distance
        return best

    def _talk(self) -> None:
        if self.controls[0, Control.TALK] <= 0.5:
            return
        slot = self.nearest_friendly()
        if slot is not None:
            self.state.talking[slot] = self.rules.talk_ticks
            self._event(Event.TALK)

    def _finish(self) -> None:
        s, rules = self.state, self.rules
        if s.done:
            return
        if s.player.body.x >= s.level.flag[0]:
            s.outcome = Outcome.WIN
            seconds_left = max(rules.level_ticks - s.tick, 0) / rules.tick_rate
            s.score += rules.score_win + int(seconds_left) * rules.score_per_second_left
            self._event(Event.WIN)
        elif s.tick >= rules.level_ticks:
            s.outcome = Outcome.TIMEOUT
            self._event(Event.TIMEOUT)
