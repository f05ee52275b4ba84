"""What a session remembers for dialogue: recent game events, the last turns and the card per NPC."""

from __future__ import annotations

from collections import OrderedDict, deque
from typing import Final

from gameai.dialogue.types import DialogueTurn
from gameai.protocol.messages import NpcCard

#: Most NPC cards one session remembers (``dialogue.request.npc``).
MAX_SESSION_CARDS: Final = 64


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


class NpcCardMemory:
    """The NPC cards a client gave in ``dialogue.request.npc``, by NPC id, for a bounded number of NPCs.

    A later request for the same NPC id need not send the card again.

    Args:
        max_cards: Cards remembered; the least recently given or used is forgotten first.
    """

    def __init__(self, max_cards: int = MAX_SESSION_CARDS) -> None:
        self.max_cards = max_cards
        self._cards: OrderedDict[str, NpcCard] = OrderedDict()

    def remember(self, npc_id: str, card: NpcCard) -> None:
        """Keep ``card`` as the card of ``npc_id`` (replacing the one it had)."""
        self._cards.pop(npc_id, None)
        self._cards[npc_id] = card
        while len(self._cards) > self.max_cards:
            self._cards.popitem(last=False)

    def card(self, npc_id: str) -> NpcCard | None:
        """The card given for ``npc_id`` (it becomes the most recently used), or None."""
        card = self._cards.get(npc_id)
        if card is not None:
            self._cards.move_to_end(npc_id)
        return card

    def __len__(self) -> int:
        return len(self._cards)
