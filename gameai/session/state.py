"""Everything the server keeps about one connected game."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from gameai.protocol.messages import Hello
from gameai.session.difficulty import AdaptiveDifficulty, DifficultyController, MatchRecord
from gameai.session.memory import EventLog, NpcCardMemory, NpcMemory
from gameai.vocabulary import UNKNOWN_BEHAVIOUR


@dataclass(frozen=True)
class RecognisedBehaviour:
    """The latest behaviour result of a session."""

    label: str
    """The label sent (a class of the model, or ``unknown``)."""
    probabilities: dict[str, float]
    """The probabilities sent with it."""
    seq: int
    """The newest frame of its window."""

    @property
    def known_label(self) -> str | None:
        """The label, or None when it is ``unknown`` (the frames were not the model's game)."""
        return None if self.label == UNKNOWN_BEHAVIOUR else self.label


@dataclass
class Session:
    """Per-game state, one per connection."""

    session_id: str
    """The id sent in ``welcome`` and carried by every log line of the session."""
    hello: Hello
    """The client's hello (game id, services, frame format)."""
    created_at: float = field(default_factory=time.time)
    """Server wall clock at the welcome, Unix seconds."""
    events: EventLog = field(default_factory=EventLog)
    """Recent game events (from ``events`` messages and dialogue requests)."""
    memory: NpcMemory = field(default_factory=NpcMemory)
    """The last few dialogue turns per NPC id."""
    cards: NpcCardMemory = field(default_factory=NpcCardMemory)
    """The NPC cards the client gave (``dialogue.request.npc``), by NPC id."""
    matches: deque[MatchRecord] = field(default_factory=lambda: deque(maxlen=100))
    """The last 100 match results."""
    difficulty: DifficultyController = field(default_factory=AdaptiveDifficulty)
    """Decides the difficulty of ``act`` requests that give none."""
    behaviour: RecognisedBehaviour | None = None
    """The latest recognised behaviour (put into dialogue contexts)."""

    def record_match(
        self,
        outcome: Literal["win", "loss", "draw"],
        npc_id: str | None,
        player_score: float | None,
        npc_score: float | None,
        duration_s: float | None,
    ) -> MatchRecord:
        """Store a match result and hand it to the difficulty controller."""
        record = MatchRecord(
            outcome=outcome,
            npc_id=npc_id,
            player_score=player_score,
            npc_score=npc_score,
            duration_s=duration_s,
            difficulty=self.difficulty.difficulty(npc_id),
            behaviour=self.behaviour.known_label if self.behaviour else None,
            received_at=time.time(),
        )
        self.matches.append(record)
        self.difficulty.observe(record)
        return record
