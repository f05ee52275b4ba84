"""A client for game loops that must never block: the connection lives on a background thread.

Every method called from the game's thread returns at once. Frames are handed over
(at most one waits; a newer frame replaces it), requests get an id back immediately,
and everything the server sends arrives on :attr:`ThreadedGameAIClient.results` (a
``queue.Queue``; :meth:`~ThreadedGameAIClient.poll` drains it). When the server goes
away the client reports :attr:`~ConnectionState.OFFLINE`, fails the requests in flight
with :class:`RequestLost`, and reconnects with exponential backoff and jitter. It stops
retrying (state ``CLOSED``) only when the server refuses the hello for a reason that
retrying cannot fix (bad token, bad version, bad hello, unsupported frame format).

Usage from a game loop::

    client = ThreadedGameAIClient(ClientConfig(url=..., game_id="arena"))
    client.start()
    while running:
        client.send_frame(downscale_frame(world, size))     # never blocks
        request_id = client.act("npc-1", observation)
        for item in client.poll():                          # Action, BehaviourResult, ...
            ...
    client.close()
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gameai.client.async_client import (
    FRAME_ENCODINGS,
    ClientConfig,
    ConnectionLostError,
    DialogueStream,
    GameAIClient,
    HelloRefusedError,
    RequestTimeoutError,
    ServerError,
    npc_card,
)
from gameai.event_loops import EventLoopName, check_event_loop_name, new_event_loop
from gameai.protocol.errors import CloseCode, ErrorCode
from gameai.protocol.frames import encode_frame
from gameai.protocol.messages import NpcCard, ServerMessage, Welcome

logger = logging.getLogger(__name__)

#: Refusals that another attempt cannot fix.
PERMANENT_REFUSALS = frozenset(
    {
        ErrorCode.BAD_TOKEN,
        ErrorCode.BAD_VERSION,
        ErrorCode.BAD_HELLO,
        ErrorCode.UNSUPPORTED_FRAME_FORMAT,
    }
)
_PERMANENT_CLOSE_CODES = frozenset(
    {CloseCode.BAD_TOKEN, CloseCode.BAD_VERSION, CloseCode.BAD_HELLO, CloseCode.UNSUPPORTED_FRAME_FORMAT}
)


class ConnectionState(enum.Enum):
    """Where the background connection is."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    OFFLINE = "offline"
    """Disconnected; a reconnection is scheduled."""
    CLOSED = "closed"
    """Stopped: :meth:`ThreadedGameAIClient.close` was called or the server refused us for good."""


@dataclass(frozen=True)
class ConnectionChanged:
    """Put on the results queue whenever the state changes."""

    state: ConnectionState
    reason: str = ""
    welcome: Welcome | None = None
    """The new session's welcome (when the state is CONNECTED)."""


@dataclass(frozen=True)
class RequestLost:
    """A request will never be answered (sent while offline, the connection dropped, or no answer
    came within ``ClientConfig.request_timeout_s``)."""

    id: str
    reason: str


ClientEvent = ServerMessage | ConnectionChanged | RequestLost
"""What arrives on :attr:`ThreadedGameAIClient.results`."""


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff with jitter between connection attempts."""

    initial_delay_s: float = 0.25
    """Delay before the first retry."""
    max_delay_s: float = 5.0
    """Cap on the delay."""
    multiplier: float = 2.0
    """Growth of the delay per failed attempt."""
    jitter: float = 0.2
    """Each delay is scaled by a random factor in [1 - jitter, 1 + jitter]."""

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The delay before retry number ``attempt`` (0-based), in seconds."""
        base = min(self.max_delay_s, self.initial_delay_s * self.multiplier**attempt)
        return base * (1.0 + self.jitter * (2.0 * rng.random() - 1.0))


class ThreadedGameAIClient:
    """A never-blocking client on a background thread (see the module docstring).

    Args:
        config: Server URL, game id, token, services.
        reconnect: Backoff between connection attempts.
        ping_interval_s: How often the round-trip time is measured.
        rng: Randomness of the backoff jitter (seeded for reproducible tests).
        results_maxsize: Capacity of :attr:`results`; when the game does not drain it, the
            oldest events are dropped rather than blocking the network thread.
        event_loop: The background thread's event loop (:mod:`gameai.event_loops`): auto
            (uvloop when installed, else asyncio's own), uvloop or asyncio.

    Raises:
        EventLoopUnavailableError: If ``event_loop`` names a loop that cannot run here.
    """

    def __init__(
        self,
        config: ClientConfig,
        reconnect: ReconnectPolicy = ReconnectPolicy(),
        ping_interval_s: float = 1.0,
        rng: random.Random | None = None,
        results_maxsize: int = 4096,
        event_loop: EventLoopName = "auto",
    ) -> None:
        check_event_loop_name(event_loop)
        self.config = config
        self.event_loop = event_loop
        self.reconnect = reconnect
        self.ping_interval_s = ping_interval_s
        self.results: queue.Queue[ClientEvent] = queue.Queue(maxsize=results_maxsize)
        self._rng = rng or random.Random()
        self._state = ConnectionState.CONNECTING
        self._state_lock = threading.Lock()
        self._rtt: float | None = None
        self._welcome: Welcome | None = None
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._client: GameAIClient | None = None
        self._frame_slot: bytes | None = None
        self._frame_ready: asyncio.Event | None = None
        self._streams: dict[str, DialogueStream] = {}
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self.frames_sent = 0
        self.frames_dropped = 0

    # ------------------------------------------------------------------ game thread

    @property
    def state(self) -> ConnectionState:
        """The connection state now."""
        return self._state

    @property
    def connected(self) -> bool:
        """Whether a session is open."""
        return self._state is ConnectionState.CONNECTED

    @property
    def rtt_ms(self) -> float | None:
        """The last measured round trip to the server, in milliseconds (None before the first)."""
        return None if self._rtt is None else self._rtt * 1000.0

    @property
    def welcome(self) -> Welcome | None:
        """The current session's welcome (None while not connected)."""
        return self._welcome if self.connected else None

    def start(self) -> None:
        """Start the background thread; returns at once (the connection comes later)."""
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._thread_main, name="gameai-client", daemon=True)
        self._thread.start()
        self._started.wait()

    def close(self, timeout_s: float = 5.0) -> None:
        """Close the connection and stop the thread (waits up to ``timeout_s``)."""
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(timeout_s)

    def poll(self, max_items: int | None = None) -> list[ClientEvent]:
        """Take everything (or up to ``max_items``) waiting on :attr:`results`; never blocks."""
        items: list[ClientEvent] = []
        while max_items is None or len(items) < max_items:
            try:
                items.append(self.results.get_nowait())
            except queue.Empty:
                break
        return items

    def send_frame(self, pixels: np.ndarray, timestamp: float | None = None) -> bool:
        """Hand over a frame (``welcome.behaviour``'s size); never blocks.

        Returns:
            False if the frame was dropped at once (not connected); True if it was queued
            (a newer frame may still replace it before it is sent).
        """
        if not self.connected or self._loop is None:
            self.frames_dropped += 1
            return False
        stamp = time.time() if timestamp is None else timestamp
        data = encode_frame(pixels, next(self._seq), stamp, FRAME_ENCODINGS[self.config.frame_encoding])
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._put_frame, data)
        return True

    def act(
        self,
        npc_id: str,
        observation: np.ndarray | list[float] | tuple[float, ...],
        difficulty: float | None = None,
        agent: str | None = None,
    ) -> str:
        """Ask for an action; the :class:`~gameai.protocol.messages.Action` arrives on :attr:`results`.

        Returns:
            The request id (the answer echoes it).
        """
        request_id = self._next_id()
        observation = np.asarray(observation, dtype=np.float64).copy()

        async def run(client: GameAIClient) -> None:
            action = await client.act(npc_id, observation, difficulty, agent, request_id=request_id)
            del action  # delivered through on_message

        self._submit(request_id, run)
        return request_id

    def act_batch(
        self,
        observations: Mapping[str, np.ndarray | list[float] | tuple[float, ...]],
        difficulty: float | None = None,
        agent: str | None = None,
    ) -> str:
        """Ask for several NPCs' actions in one message (``act.batch``); the
        :class:`~gameai.protocol.messages.ActionBatch` arrives on :attr:`results`.

        Args:
            observations: Each NPC's observation by NPC id.
            difficulty: Their difficulty (default: the session's controller).
            agent: Their agent (default: ``welcome.default_agent``).

        Returns:
            The request id (the answer echoes it).
        """
        request_id = self._next_id()
        copies = {npc_id: np.asarray(obs, dtype=np.float64).copy() for npc_id, obs in observations.items()}

        async def run(client: GameAIClient) -> None:
            batch = await client.act_batch(copies, difficulty, agent, request_id=request_id)
            del batch  # delivered through on_message

        self._submit(request_id, run)
        return request_id

    def request_dialogue(
        self,
        npc_id: str,
        persona: str | None = None,
        player_line: str = "",
        npc: NpcCard | Mapping[str, Any] | None = None,
        **options: Any,
    ) -> str:
        """Start an NPC reply; deltas and ``dialogue.done`` arrive on :attr:`results`.

        With ``n`` > 1 alternatives, every alternative's deltas and its own ``dialogue.done``
        arrive (their ``alternative`` field tells them apart).

        Args:
            npc_id: The NPC (a card id of ``welcome.npcs``, or the game's own id).
            persona: A card id of the server, or a free-text description (optional).
            player_line: What the player said.
            npc: The NPC's card (see :meth:`GameAIClient.dialogue`).
            **options: Other ``dialogue.request`` fields (mood, events, game_state, seed, n...).

        Returns:
            The request id.

        Raises:
            ProtocolError: If ``npc`` is a mapping that is not a valid card.
        """
        card = None if npc is None else npc_card(npc)  # a bad card raises here, in the caller
        request_id = self._next_id()

        async def run(client: GameAIClient) -> None:
            stream = await client.dialogue(
                npc_id, persona, player_line, request_id=request_id, npc=card, **options
            )
            self._streams[request_id] = stream
            try:
                await stream.done
            finally:
                self._streams.pop(request_id, None)

        self._submit(request_id, run)
        return request_id

    def cancel_dialogue(self, request_id: str) -> None:
        """Ask the server to stop a reply."""

        async def run(client: GameAIClient) -> None:
            stream = self._streams.get(request_id)
            if stream is not None:
                await stream.cancel()

        self._submit(None, run)

    def match_result(self, outcome: Literal["win", "loss", "draw"], **fields: Any) -> None:
        """Report a finished match (npc_id, player_score, npc_score, duration_s optional)."""

        async def run(client: GameAIClient) -> None:
            await client.match_result(outcome, **fields)

        self._submit(None, run)

    def events(self, events: list[str] | tuple[str, ...]) -> None:
        """Report game events, oldest first."""
        events = tuple(events)

        async def run(client: GameAIClient) -> None:
            await client.events(events)

        self._submit(None, run)

    def label(self, label: str | None) -> None:
        """Label the recorded frames sent from now on (``hello.record``; None: unlabelled)."""

        async def run(client: GameAIClient) -> None:
            await client.label(label)

        self._submit(None, run)

    # ------------------------------------------------------------------ helpers (any thread)

    def _next_id(self) -> str:
        return f"t{next(self._ids)}"

    def _emit(self, event: ClientEvent) -> None:
        """Put an event on the results queue, dropping the oldest when it is full."""
        while True:
            try:
                self.results.put_nowait(event)
                return
            except queue.Full:
                with contextlib.suppress(queue.Empty):
                    self.results.get_nowait()

    def _set_state(self, state: ConnectionState, reason: str = "", welcome: Welcome | None = None) -> None:
        with self._state_lock:
            if self._state is state and state is not ConnectionState.CONNECTED:
                return
            self._state = state
        self._emit(ConnectionChanged(state, reason, welcome))

    def _submit(
        self, request_id: str | None, run: Callable[[GameAIClient], Coroutine[Any, Any, None]]
    ) -> None:
        """Run a coroutine with the current connection on the client thread; never blocks."""
        if not self.connected or self._loop is None:
            if request_id is not None:
                self._emit(RequestLost(request_id, f"not connected ({self._state.value})"))
            return
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._start_on_loop, request_id, run)

    # ------------------------------------------------------------------ client thread

    def _thread_main(self) -> None:
        loop = new_event_loop(self.event_loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        finally:
            loop.close()

    def _put_frame(self, data: bytes) -> None:
        if self._frame_slot is not None:
            self.frames_dropped += 1
        self._frame_slot = data
        if self._frame_ready is not None:
            self._frame_ready.set()

    def _start_on_loop(
        self, request_id: str | None, run: Callable[[GameAIClient], Coroutine[Any, Any, None]]
    ) -> None:
        client = self._client
        if client is None:
            if request_id is not None:
                self._emit(RequestLost(request_id, "connection lost"))
            return

        async def guarded() -> None:
            try:
                await run(client)
            except (ConnectionLostError, RequestTimeoutError) as exc:
                if request_id is not None:
                    self._emit(RequestLost(request_id, str(exc)))
            except ServerError:
                pass  # the error message itself was delivered through on_message

        asyncio.get_running_loop().create_task(guarded())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        self._frame_ready = asyncio.Event()
        self._started.set()
        attempt = 0
        while not self._stop.is_set():
            self._set_state(ConnectionState.CONNECTING)
            try:
                client = await GameAIClient.connect(self.config, on_message=self._emit)
            except HelloRefusedError as exc:
                permanent = (exc.error is not None and exc.error.code in PERMANENT_REFUSALS) or (
                    exc.close_code in _PERMANENT_CLOSE_CODES
                )
                if permanent:
                    logger.error("server refused the hello: %s", exc)
                    self._set_state(ConnectionState.CLOSED, str(exc))
                    return
                reason = str(exc)
            except (OSError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # invalid handshake, bad URI...: keep trying, say why
                reason = f"{type(exc).__name__}: {exc}"
            else:
                attempt = 0
                await self._serve(client)
                reason = "connection lost"
                if self._stop.is_set():
                    break
            self._set_state(ConnectionState.OFFLINE, reason)
            delay = self.reconnect.delay(attempt, self._rng)
            attempt += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._stop.wait()
        self._set_state(ConnectionState.CLOSED, "closed by the game")

    async def _serve(self, client: GameAIClient) -> None:
        """Run one connection until it closes or :meth:`close` is called."""
        assert self._stop is not None and self._frame_ready is not None
        self._client = client
        self._welcome = client.welcome
        self._frame_slot = None
        self._set_state(ConnectionState.CONNECTED, welcome=client.welcome)
        tasks = [
            asyncio.create_task(self._send_frames(client)),
            asyncio.create_task(self._measure_rtt(client)),
        ]
        stop_task: asyncio.Future[Any] = asyncio.create_task(self._stop.wait())
        closed: asyncio.Future[Any] = client.closed
        try:
            await asyncio.wait([closed, stop_task], return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._client = None
            for task in [*tasks, stop_task]:
                task.cancel()
            await asyncio.gather(*tasks, stop_task, return_exceptions=True)
            await client.close()

    async def _send_frames(self, client: GameAIClient) -> None:
        assert self._frame_ready is not None
        while True:
            await self._frame_ready.wait()
            self._frame_ready.clear()
            data, self._frame_slot = self._frame_slot, None
            if data is None:
                continue
            try:
                await client.websocket.send(data)
            except Exception:
                return
            self.frames_sent += 1

    async def _measure_rtt(self, client: GameAIClient) -> None:
        while True:
            with contextlib.suppress(TimeoutError, ServerError):
                async with asyncio.timeout(max(5.0, self.ping_interval_s * 5)):
                    self._rtt = await client.ping()
            await asyncio.sleep(self.ping_interval_s)
