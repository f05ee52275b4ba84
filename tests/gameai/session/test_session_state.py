"""Per-session state: frame ring, drop-oldest queue, event log, NPC memory, difficulty hook."""

from __future__ import annotations

import numpy as np
import pytest

from gameai.dialogue.types import DialogueTurn
from gameai.protocol import Hello
from gameai.protocol.messages import NpcCard
from gameai.session.difficulty import FixedDifficulty, MatchRecord
from gameai.session.frame_queue import DropOldestQueue
from gameai.session.frames import FrameRingBuffer
from gameai.session.memory import MAX_SESSION_CARDS, EventLog, NpcCardMemory, NpcMemory
from gameai.session.state import RecognisedBehaviour, Session


def _frame(value: int) -> np.ndarray:
    return np.full((2, 3, 3), value, dtype=np.uint8)


def test_ring_buffer_window_is_the_last_k_frames_oldest_first() -> None:
    ring = FrameRingBuffer(4, 2, 3)
    for value in range(3):
        ring.push(_frame(value))
    assert not ring.full
    with pytest.raises(ValueError):
        ring.window()
    for value in range(3, 7):
        ring.push(_frame(value))
    window = ring.window()
    assert window.shape == (4, 2, 3, 3)
    assert [int(frame[0, 0, 0]) for frame in window] == [3, 4, 5, 6]
    window[0] = 99  # a copy: the ring is untouched
    assert [int(frame[0, 0, 0]) for frame in ring.window()] == [3, 4, 5, 6]


def test_ring_buffer_frames_are_the_read_only_frames_pushed_without_a_copy() -> None:
    ring = FrameRingBuffer(2, 2, 3)
    wire = [np.frombuffer(bytes([value]) * 18, dtype=np.uint8).reshape(2, 3, 3) for value in (1, 2, 3)]
    for frame in wire:
        ring.push(frame)
    frames = ring.frames()
    assert frames[0] is wire[1] and frames[1] is wire[2]  # read-only frames are kept as they are
    with pytest.raises(ValueError):
        FrameRingBuffer(2, 2, 3).frames()


def test_ring_buffer_copies_writable_frames_so_later_writes_do_not_reach_it() -> None:
    ring = FrameRingBuffer(1, 2, 3)
    frame = _frame(5)
    ring.push(frame)
    frame[:] = 7  # the game reuses its buffer
    (kept,) = ring.frames()
    assert int(kept[0, 0, 0]) == 5
    assert not kept.flags.writeable


def test_ring_buffer_refuses_other_shapes_and_dtypes() -> None:
    with pytest.raises(ValueError):
        FrameRingBuffer(4, 2, 3).push(np.zeros((3, 2, 3), dtype=np.uint8))
    with pytest.raises(ValueError):
        FrameRingBuffer(4, 2, 3).push(np.zeros((2, 3, 3), dtype=np.float32))


def test_queue_drops_the_oldest_and_counts() -> None:
    queue: DropOldestQueue[int] = DropOldestQueue(3)
    dropped = [queue.push(i) for i in range(5)]
    assert dropped == [False, False, False, True, True]
    assert [queue.pop(), queue.pop(), queue.pop(), queue.pop()] == [2, 3, 4, None]
    assert queue.take_dropped() == 2 and queue.take_dropped() == 0
    assert queue.dropped_total == 2


def test_event_log_keeps_the_most_recent() -> None:
    log = EventLog(capacity=3)
    log.extend(["a", "b"])
    log.extend(["c", "d"])
    assert log.recent() == ("b", "c", "d")
    assert log.recent(2) == ("c", "d")
    assert log.recent(0) == ()


def test_npc_memory_keeps_last_turns_per_npc_and_forgets_least_recent_npcs() -> None:
    memory = NpcMemory(turns_per_npc=2, max_npcs=2)
    for i in range(3):
        memory.remember("smith", DialogueTurn(f"p{i}", f"n{i}"))
    assert [t.player_line for t in memory.history("smith")] == ["p1", "p2"]
    memory.remember("scout", DialogueTurn("a", "b"))
    memory.remember("smith", DialogueTurn("p3", "n3"))  # smith is now the most recent
    memory.remember("healer", DialogueTurn("c", "d"))  # evicts scout
    assert memory.history("scout") == ()
    assert len(memory.history("smith")) == 2 and len(memory) == 2


def test_a_session_remembers_64_npc_cards_and_forgets_the_oldest() -> None:
    cards = Session(session_id="s", hello=Hello(protocol=1, game_id="g")).cards
    assert cards.max_cards == MAX_SESSION_CARDS == 64
    for i in range(65):
        cards.remember(f"npc-{i}", NpcCard(name=f"N{i}"))
    assert len(cards) == 64
    assert cards.card("npc-0") is None  # the 65th card pushed out the oldest
    assert cards.card("npc-1") == NpcCard(name="N1") and cards.card("npc-64") == NpcCard(name="N64")


def test_npc_card_memory_replaces_a_card_and_keeps_the_ones_in_use() -> None:
    cards = NpcCardMemory(max_cards=2)
    cards.remember("a", NpcCard(name="A"))
    cards.remember("b", NpcCard(name="B"))
    cards.remember("a", NpcCard(name="A2"))  # replaced, and now the most recent
    cards.remember("c", NpcCard(name="C"))  # evicts b
    assert cards.card("b") is None and cards.card("a") == NpcCard(name="A2")
    assert cards.card("c") is not None
    cards.card("a")  # using a card keeps it
    cards.remember("d", NpcCard(name="D"))  # evicts c, the least recently used
    assert cards.card("c") is None and cards.card("a") is not None and len(cards) == 2


class CountingController:
    """A controller that lowers the difficulty after each player loss (test double of a plug-in)."""

    def __init__(self) -> None:
        self.value = 0.5
        self.seen: list[MatchRecord] = []

    def difficulty(self, npc_id: str | None) -> float:
        return self.value

    def observe(self, record: MatchRecord) -> None:
        self.seen.append(record)
        if record.outcome == "loss":
            self.value = max(0.0, self.value - 0.1)


def test_match_results_are_stored_and_reach_the_controller() -> None:
    controller = CountingController()
    session = Session(session_id="s", hello=Hello(protocol=1, game_id="g"), difficulty=controller)
    session.behaviour = RecognisedBehaviour(label="evasive", probabilities={"evasive": 1.0}, seq=3)
    record = session.record_match("loss", "rival", 1.0, 3.0, 30.0)
    assert record.behaviour == "evasive" and record.difficulty == 0.5
    assert list(session.matches) == [record] and controller.seen == [record]
    assert session.difficulty.difficulty("rival") == pytest.approx(0.4)


def test_fixed_difficulty_is_fixed() -> None:
    fixed = FixedDifficulty(0.7)
    session = Session(session_id="s", hello=Hello(protocol=1, game_id="g"), difficulty=fixed)
    for _ in range(5):
        session.record_match("loss", None, None, None, None)
    assert fixed.difficulty(None) == 0.7
    with pytest.raises(ValueError):
        FixedDifficulty(1.5)
