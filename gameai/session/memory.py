"""What a session remembers for dialogue: recent game events and the last turns per NPC."""

from __future__ import annotations

from collections import OrderedDict, deque

from gameai.dialogue.types import DialogueTurn


class EventLog:
    """The most recent game events of a session, oldest first.

    Args:
        capacity: How many events are kept.
    """

    def __init__(self, capacity: int = 16) -> None:
        self._events: deque[str] = deque(maxlen=capacity)

    def extend(self, events: tuple[str, ...] | list[str]) -> None:
        """Record events in the order they happened."""
        self._events.extend(events)

    def recent(self, n: int | None = None) -> tuple[str, ...]:
        """The last ``n`` events (all kept when None), oldest first."""
        events = tuple(self._events)
        return events if n is None else events[-n:] if n > 0 else ()


class NpcMemory:
    """The last few dialogue turns per NPC id, for a bounded number of NPCs.

    Args:
        turns_per_npc: Turns kept per NPC.
        max_npcs: NPCs remembered; the least recently talked-to is forgotten first.
    """

    def __init__(self, turns_per_npc: int = 4, max_npcs: int = 64) -> None:
        self.turns_per_npc = turns_per_npc
        self.max_npcs = max_npcs
        self._turns: OrderedDict[str, deque[DialogueTurn]] = OrderedDict()

    def history(self, npc_id: str) -> tuple[DialogueTurn, ...]:
        """Earlier turns with this NPC, oldest first."""
        return tuple(self._turns.get(npc_id, ()))

    def remember(self, npc_id: str, turn: DialogueTurn) -> None:
        """Add a finished turn."""
        turns = self._turns.pop(npc_id, None) or deque(maxlen=self.turns_per_npc)
        turns.append(turn)
        self._turns[npc_id] = turns
        while len(self._turns) > self.max_npcs:
            self._turns.popitem(last=False)

    def __len__(self) -> int:
        return len(self._turns)
