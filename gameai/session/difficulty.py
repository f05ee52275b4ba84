"""The difficulty hook of a session: match results in, a difficulty per NPC out.

A :class:`DifficultyController` sees every ``match.result`` of its session (with the
behaviour recognised at that moment) and answers the difficulty an ``act`` without an
explicit difficulty is served at. Sessions use :class:`AdaptiveDifficulty` (the rule is
in its docstring and in ``docs/difficulty.md``); :class:`FixedDifficulty` ignores results
(``gameai serve --difficulty-control fixed``, and the baseline of ``gameai eval adapt``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, Protocol


@dataclass(frozen=True)
class MatchRecord:
    """One ``match.result`` as the session stores it."""

    outcome: Literal["win", "loss", "draw"]
    """From the player's side."""
    npc_id: str | None
    """The NPC the player played against."""
    player_score: float | None
    npc_score: float | None
    duration_s: float | None
    difficulty: float
    """The difficulty in force for that NPC when the result arrived."""
    behaviour: str | None
    """The behaviour recognised when the result arrived."""
    received_at: float
    """Server wall clock, Unix seconds."""


class DifficultyController(Protocol):
    """Decides the difficulty NPCs are played at."""

    def difficulty(self, npc_id: str | None) -> float:
        """The difficulty in [0, 1] for this NPC (None: the session's default)."""
        ...

    def observe(self, record: MatchRecord) -> None:
        """Take one match result into account."""
        ...


class FixedDifficulty:
    """Always the same difficulty; match results are ignored (the placeholder controller).

    Args:
        value: The difficulty in [0, 1].
    """

    def __init__(self, value: float = 0.5) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"difficulty must be in [0, 1], got {value}")
        self.value = value

    def difficulty(self, npc_id: str | None) -> float:
        del npc_id
        return self.value

    def observe(self, record: MatchRecord) -> None:
        del record


OUTCOME_POINTS: Final[dict[str, float]] = {"win": 1.0, "draw": 0.5, "loss": 0.0}
"""The player's points for each outcome (a draw is half a win)."""


class AdaptiveDifficulty:
    """Holds the player's win rate near ``target`` by moving d after every match result.

    The rule (a weighted up-down staircase: a search whose step grows until the level is
    bracketed, then shrinks at each reversal, i.e. a Robbins-Monro search for the d at
    which the player wins ``target`` of the matches):

    * after a result worth p points to the player (win 1, draw 0.5, loss 0),
      ``d <- clip(d + 2 * step * (p - target), 0, 1)``: a win makes the NPC stronger, a loss
      weaker, and at equilibrium ``P(win) * (1 - target) = P(loss) * target``, i.e. the player
      scores ``target``;
    * search: a new player starts with a small step (``start_step``), so one or two results
      move d only a little; while d keeps moving the same way (evidence that the level is
      far) the step grows by ``grow`` per result, up to ``max_step``;
    * when d changes direction (a reversal: the level is bracketed) the search is over: the
      step shrinks by ``shrink`` at this and every later reversal, never below ``min_step``
      (the floor keeps following a player who improves);
    * when the recognised behaviour of a result differs from the previous one's, the player
      plays differently (or someone else took over): the search starts again from
      ``start_step``.

    With the defaults, wins in a row from 0.5 give 0.6, 0.75, 0.975, 1.0 (was 0.8, 1.0).

    One level per session, i.e. per player: every NPC of the session is served at it and
    every result moves it (difficulty describes the player, not the NPC).

    Args:
        start: d of a new session.
        target: The player's win rate to hold (a draw counts half).
        start_step: The first step, and the step after a change of behaviour.
        min_step: The smallest step once the level is bracketed.
        shrink: Factor applied to the step at each reversal.
        grow: Factor applied to the step after each result that moves d the same way as the
            one before, until the first reversal.
        max_step: The largest step.

    Raises:
        ValueError: If a value is out of range.
    """

    def __init__(
        self,
        start: float = 0.5,
        target: float = 0.5,
        start_step: float = 0.1,
        min_step: float = 0.15,
        shrink: float = 0.7,
        grow: float = 1.5,
        max_step: float = 0.3,
    ) -> None:
        if not 0.0 <= start <= 1.0 or not 0.0 < target < 1.0:
            raise ValueError(f"start must be in [0, 1] and target in (0, 1), got {start}, {target}")
        if not 0.0 < start_step <= max_step <= 1.0 or not 0.0 < min_step <= max_step:
            raise ValueError("need 0 < start_step <= max_step <= 1 and 0 < min_step <= max_step")
        if not 0.0 < shrink <= 1.0 or grow < 1.0:
            raise ValueError("need 0 < shrink <= 1 and grow >= 1")
        self.value = start
        self.target = target
        self.start_step = start_step
        self.min_step = min_step
        self.shrink = shrink
        self.grow = grow
        self.max_step = max_step
        self.step = start_step
        self.searching = True
        """Whether no reversal has happened yet (the step grows instead of shrinking)."""
        self._last_move = 0.0
        self._last_behaviour: str | None = None

    def difficulty(self, npc_id: str | None) -> float:
        """The session's level (the same for every NPC)."""
        del npc_id
        return self.value

    def observe(self, record: MatchRecord) -> None:
        """Move d after one result (see the class docstring)."""
        behaviour = record.behaviour
        if behaviour is not None:
            if self._last_behaviour is not None and behaviour != self._last_behaviour:
                self.step = self.start_step
                self.searching = True
                self._last_move = 0.0
            self._last_behaviour = behaviour
        direction = OUTCOME_POINTS[record.outcome] - self.target
        if direction * self._last_move < 0.0:
            self.searching = False
            self.step = max(self.step * self.shrink, self.min_step)
        elif direction * self._last_move > 0.0 and self.searching:
            self.step = min(self.step * self.grow, self.max_step)
        move = 2.0 * self.step * direction
        if move != 0.0:
            self._last_move = move
        self.value = min(max(self.value + move, 0.0), 1.0)
