"""The clients of ``gameai bench capacity``: one OS process driving its share of demo-like sessions.

:mod:`gameai.bench.capacity` starts ``client_processes`` of these
(``python -m gameai.bench.capacity_client URL CONFIG_JSON``) and talks to each in JSON lines,
commands on its stdin and answers on its stdout, one ramp step at a time:

1. ``["open", count, first_index, total]``: connect ``count`` sessions, numbered from
   ``first_index`` out of ``total`` in the step; answer ``["opened", connected, refused]``.
2. ``["go", start_at]``: drive them from ``start_at`` (``time.time()``) for ``warmup_s + seconds``,
   keeping the latencies of what was sent in the measuring window (after the warm-up); wait for
   the answers still in flight, close the sessions and answer ``["figures", {...}]``.
3. ``["quit"]`` or the end of stdin: end the process.

Any exception is answered ``["failed", traceback]``. A demo-like session (every number a field
of :class:`~gameai.bench.capacity.CapacityBenchConfig`): random frames at the behaviour model's
``sample_fps``; ``npcs`` NPCs each asking for an action at ``act_hz``, together in one
``act.batch`` per tick (``act_batch``, as the demo games do) or one ``act`` each; ``events`` every
``events_every_s``; a dialogue request every ``dialogue_every_s`` (staggered over the
sessions) with a card-sized context (:func:`dialogue_fields`); a match result every
``match_every_s``. Latencies: ``act`` -> its action (an ``act.batch``'s, once per action in
it); a frame -> its behaviour result; a dialogue request -> its first delta. Errors, by kind:
``server_error:<code>`` (a refused request), ``error_message:<code>`` (an error tied to no
request: rate limits, frames), ``timeout``, ``connection_lost``, ``session_closed`` and
``refused_connect``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gameai import event_loops
from gameai.bench.pacing import every
from gameai.vocabulary import EVENTS

if TYPE_CHECKING:
    from gameai.bench.capacity_config import CapacityBenchConfig
    from gameai.client.async_client import GameAIClient

LATENCIES: tuple[str, ...] = ("act", "behaviour", "dialogue_first_token")
"""The latencies each session records (seconds)."""

_PERSONAS = ("blacksmith", "scout", "healer", "rival")
_MOODS = ("cheerful", "wary", "tired", "proud")
_PLAYER_LINES = (
    "I just came back from the north gate and the raiders are still there. Can you help me?",
    "My sword broke in the last fight against the arena champion. What would you charge?",
    "You said the healer would be here by noon, but nobody came. What happened to her?",
    "I beat you twice already today. Want to try again, or are you scared of losing?",
)


def dialogue_fields(index: int, turn: int) -> dict[str, Any]:
    """The context of session ``index``'s ``turn``-th dialogue request: about 400 characters, as a card.

    Returns:
        ``persona``, ``player_line``, ``mood``, ``events`` and ``game_state`` (the
        :class:`~gameai.dialogue.types.DialogueContext` fields a game sends).
    """
    k = index + turn
    return {
        "persona": _PERSONAS[k % len(_PERSONAS)],
        "player_line": _PLAYER_LINES[(index + 2 * turn) % len(_PLAYER_LINES)],
        "mood": _MOODS[(index * 3 + turn) % len(_MOODS)],
        "events": tuple(EVENTS[(k + i) % len(EVENTS)] for i in range(6)),
        "game_state": {
            "health": 40 + k % 60, "max_health": 100, "coins": 17 * k % 250, "score": 120 * turn,
            "level": 3 + k % 5, "zone": "arena-north", "time_left_s": 95.5, "kills": k % 7,
            "deaths": turn % 3, "quest": "find the missing healer", "weapon": "bronze sword",
        },
    }  # fmt: skip


class _Window:
    """The measuring window of a step, in ``time.perf_counter()`` seconds."""

    def __init__(self, start: float, end: float) -> None:
        self.start = start
        self.end = end

    def holds(self, t: float) -> bool:
        return self.start <= t < self.end


class _LiveSession:
    """One demo-like session: what it sends, the latencies and errors of what was sent in the window."""

    def __init__(self, client: GameAIClient, index: int, config: CapacityBenchConfig) -> None:
        behaviour = client.welcome.behaviour
        agent = client.welcome.agents.get(client.welcome.default_agent or "")
        rng = np.random.default_rng(index)
        size = (behaviour.height, behaviour.width) if behaviour else (84, 84)
        self.client = client
        self.index = index
        self.config = config
        self.frames = rng.integers(0, 256, (8, *size, 3), dtype=np.uint8)  # (8, H, W, 3)
        self.sample_fps = behaviour.sample_fps if behaviour else 0.0
        self.first_result_seq = (behaviour.frames_per_window - 1) if behaviour else 0
        self.observation = rng.standard_normal(agent.obs_dim if agent else 0).astype(np.float32)
        self.batch_observations = {f"npc-{npc}": self.observation for npc in range(config.npcs)}
        self.window = _Window(0.0, 0.0)
        self.latencies: dict[str, list[float]] = {name: [] for name in LATENCIES}
        self.errors: collections.Counter[str] = collections.Counter()
        self.counts: collections.Counter[str] = collections.Counter()
        self.sent_at: dict[int, float] = {}
        self.seq = 0
        self.turn = 0
        client.on_message = self.on_message

    def on_message(self, message: Any) -> None:
        if message.TYPE != "behaviour":
            return
        sent = self.sent_at.pop(message.seq, None)
        if sent is not None and self.window.holds(sent):
            self.latencies["behaviour"].append(time.perf_counter() - sent)
            self.counts["frames_dropped_by_server"] += message.dropped_frames

    def _failed(self, exc: Exception) -> bool:
        """Count a request's failure; True if it was one (a lost connection is raised again)."""
        from gameai.client.async_client import ConnectionLostError, RequestTimeoutError, ServerError

        if isinstance(exc, ServerError):
            self.errors[f"server_error:{exc.code.value}"] += 1
        elif isinstance(exc, RequestTimeoutError):
            self.errors["timeout"] += 1
        elif isinstance(exc, ConnectionLostError):
            self.errors["connection_lost"] += 1
            raise exc
        else:
            return False
        return True

    async def send_frame(self) -> None:
        seq = self.seq
        self.seq += 1
        sent = time.perf_counter()
        if seq >= self.first_result_seq:  # the first K - 1 frames fill the window: no result
            self.sent_at[seq] = sent
        if self.window.holds(sent):
            self.counts["frames_sent"] += 1
        await self.client.send_frame(self.frames[seq % len(self.frames)], seq=seq)

    async def act(self, npc: int) -> None:
        sent = time.perf_counter()
        try:
            await self.client.act(f"npc-{npc}", self.observation)
        except Exception as exc:
            if not self._failed(exc):
                raise
            return
        if self.window.holds(sent):
            self.latencies["act"].append(time.perf_counter() - sent)

    async def act_batch(self) -> None:
        """Every NPC's action in one ``act.batch``; its latency counts once per action."""
        sent = time.perf_counter()
        try:
            await self.client.act_batch(self.batch_observations)
        except Exception as exc:
            if not self._failed(exc):
                raise
            return
        if self.window.holds(sent):
            self.latencies["act"].extend([time.perf_counter() - sent] * self.config.npcs)

    async def talk(self) -> None:
        fields = dialogue_fields(self.index, self.turn)
        npc = f"npc-{self.turn % max(1, self.config.npcs)}"
        self.turn += 1
        sent = time.perf_counter()
        first: float | None = None
        try:
            stream = await self.client.dialogue(npc, max_new_tokens=self.config.dialogue_tokens, **fields)
            async for _ in stream:
                first = first or time.perf_counter()
            await stream.done
        except Exception as exc:
            if not self._failed(exc):
                raise
            return
        if self.window.holds(sent):  # a reply with no delta: its end stands for its first token
            self.latencies["dialogue_first_token"].append((first or time.perf_counter()) - sent)

    async def events(self) -> None:
        await self.client.events([EVENTS[(self.index + self.seq + i) % len(EVENTS)] for i in range(2)])

    async def match(self) -> None:
        outcome: Literal["win", "loss", "draw"] = ("win", "loss", "draw")[(self.index + self.seq) % 3]
        await self.client.match_result(
            outcome, npc_id="npc-0", player_score=3.0, npc_score=2.0, duration_s=self.config.match_every_s
        )

    async def drive(self, offset: float, over: Callable[[], bool]) -> None:
        """Everything a demo session sends, each stream staggered by ``offset`` (0..1) of its period."""
        config = self.config
        streams = [every(self.sample_fps, offset, over, self.send_frame)]
        if self.observation.size and config.act_batch and config.npcs > 0:
            streams.append(every(config.act_hz, offset, over, self.act_batch))
        elif self.observation.size:
            for npc in range(config.npcs):
                phase = (offset + npc / config.npcs) % 1.0
                streams.append(every(config.act_hz, phase, over, lambda n=npc: self.act(n)))  # type: ignore[misc]
        dialogue = self.client.welcome.models.get("dialogue")
        if dialogue is not None and dialogue.status == "ready":
            streams.append(every(1.0 / config.dialogue_every_s, offset, over, self.talk))
        streams.append(every(1.0 / config.events_every_s, offset, over, self.events))
        streams.append(every(1.0 / config.match_every_s, offset, over, self.match))
        await asyncio.gather(*streams)

    def unanswered_frames(self) -> int:
        """Frames sent in the window that got no behaviour result."""
        return sum(1 for sent in self.sent_at.values() if self.window.holds(sent))

    def finish(self) -> None:
        """Count the errors not tied to a request and a session the server closed."""
        for error in self.client.errors:
            self.errors[f"error_message:{error.code.value}"] += 1
        if self.client.closed.done():
            self.errors["session_closed"] += 1


async def _open(
    url: str, count: int, first_index: int, config: CapacityBenchConfig
) -> tuple[list[_LiveSession], int]:
    """Connect ``count`` sessions; returns them and how many connects were refused or failed."""
    from gameai.client.async_client import ClientConfig, GameAIClient, HelloRefusedError

    sessions: list[_LiveSession] = []
    refused = 0
    for index in range(first_index, first_index + count):
        client_config = ClientConfig(
            url=url, game_id=f"capacity-{index}", behaviour_every=config.behaviour_every
        )
        try:
            client = await GameAIClient.connect(client_config)
        except (HelloRefusedError, OSError, TimeoutError):
            refused += 1
            continue
        sessions.append(_LiveSession(client, index, config))
    return sessions, refused


def _figures(sessions: list[_LiveSession], refused: int) -> dict[str, Any]:
    errors: collections.Counter[str] = collections.Counter()
    counts: collections.Counter[str] = collections.Counter()
    for session in sessions:
        errors.update(session.errors)
        counts.update(session.counts)
    if refused:
        errors["refused_connect"] += refused
    return {
        "latencies": {name: [x for s in sessions for x in s.latencies[name]] for name in LATENCIES},
        "errors": dict(errors),
        "frames_sent": counts["frames_sent"],
        "frames_dropped_by_server": counts["frames_dropped_by_server"],
        "frames_unanswered": sum(s.unanswered_frames() for s in sessions),
    }


def _answer(*message: Any) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _step(url: str, config: CapacityBenchConfig, count: int, first: int, total: int) -> None:
    sessions, refused = await _open(url, count, first, config)
    _answer("opened", len(sessions), refused)
    _, start_at = json.loads(await asyncio.to_thread(sys.stdin.readline))
    start = time.perf_counter() + (start_at - time.time())
    window = _Window(start + config.warmup_s, start + config.warmup_s + config.seconds)
    for session in sessions:
        session.window = window
    await asyncio.sleep(max(0.0, start - time.perf_counter()))

    def over() -> bool:
        return time.perf_counter() >= window.end

    try:
        await asyncio.gather(*(s.drive(s.index / max(1, total), over) for s in sessions))
        settle = time.perf_counter() + 2.0  # behaviour results still in flight
        while any(s.unanswered_frames() for s in sessions) and time.perf_counter() < settle:
            await asyncio.sleep(0.05)
        for session in sessions:
            session.finish()
        figures = _figures(sessions, refused)
    finally:
        for session in sessions:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(session.client.close(), 5.0)
    _answer("figures", figures)


def main(argv: list[str]) -> None:
    """Answer the commands of stdin (module docstring) until ``quit``; ``argv``: URL, the config as JSON."""
    from gameai.bench.capacity_config import CapacityBenchConfig

    url, settings = argv
    fields: dict[str, Any] = {
        key: tuple(v) if isinstance(v, list) else v for key, v in json.loads(settings).items()
    }
    config = CapacityBenchConfig(**fields)
    for line in sys.stdin:
        command = json.loads(line)
        if command[0] == "quit":
            return
        _, count, first, total = command
        try:
            event_loops.run(_step(url, config, count, first, total), config.event_loop)
        except Exception:
            _answer("failed", traceback.format_exc())


if __name__ == "__main__":
    main(sys.argv[1:])
