"""The difficulty hook of a session: match results in, a difficulty per NPC out.

A :class:`DifficultyController` sees every ``match.result`` of its session (with the
behaviour recognised at that moment) and answers the difficulty an ``act`` without an
explicit difficulty is served at. The adaptive controller comes with the agents
(issue 6); until then every session uses :class:`FixedDifficulty`, which deliberately
ignores the results: it is the trivial placeholder, not an adaptive policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


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
