"""An asyncio client of the gameai protocol.

Usage::

    client = await GameAIClient.connect(ClientConfig(url="ws://127.0.0.1:8765/", game_id="arena"))
    print(client.welcome.models)
    await client.send_frame(pixels)                       # (H, W, 3) uint8, the model's size
    action = await client.act("npc-1", observation)       # -> Action
    batch = await client.act_batch({"npc-1": obs1, "npc-2": obs2})  # -> ActionBatch, one message
    stream = await client.dialogue("blacksmith", player_line="Hello!")  # a card of welcome.npcs
    async for delta in stream:                            # DialogueDelta pieces
        print(delta.text, end="")
    done = await stream.done                              # DialogueDone
    card = {"name": "Ada", "role": "ferry keeper", "facts": ["The ferry leaves at dawn."]}
    stream = await client.dialogue("ada", player_line="When do you leave?", npc=card)  # remembered
    stream = await client.dialogue("ada", player_line="Hello!", n=3, seed=7)
    replies = await stream.all_done                       # 3 DialogueDone, alternative 0, 1, 2
    rtt = await client.ping()                             # seconds
    await client.close()

Behaviour results arrive by themselves: :attr:`GameAIClient.latest_behaviour`, and every
server message is also handed to ``on_message`` if one is given. Errors answering a
request raise :class:`ServerError` from that request's call; a lost connection raises
:class:`ConnectionLostError` from every call still waiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from gameai import __version__
from gameai.protocol.codec import encode_message, parse_server_message
from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.fields import build_dataclass
from gameai.protocol.frames import FrameEncoding, encode_frame
from gameai.protocol.messages import (
    ALL_SERVICES,
    MAX_BATCH_ACTS,
    PROTOCOL_VERSION,
    Act,
    ActBatch,
    Action,
    ActionBatch,
    ActItem,
    BehaviourResult,
    DialogueCancel,
    DialogueDelta,
    DialogueDone,
    DialogueRequest,
    Error,
    Events,
    Hello,
    Label,
    MatchResult,
    Message,
    NpcCard,
    Ping,
    Pong,
    RecordRequest,
    ServerMessage,
    Service,
    Welcome,
)

logger = logging.getLogger(__name__)


def observation_values(observation: np.ndarray | list[float] | tuple[float, ...]) -> tuple[float, ...]:
    """An observation as the protocol's tuple of floats (flattened)."""
    values: list[float] = np.asarray(observation, dtype=np.float64).ravel().tolist()
    return tuple(values)


def npc_card(value: NpcCard | Mapping[str, Any]) -> NpcCard:
    """An NPC card from a card or a mapping of its fields (lists or tuples), checked as the server does.

    Raises:
        ProtocolError: If the mapping is not a valid card (the message names the field).
    """
    if isinstance(value, NpcCard):
        return value
    fields = {key: list(item) if isinstance(item, tuple) else item for key, item in value.items()}
    card = build_dataclass(NpcCard, fields, "npc")
    assert isinstance(card, NpcCard)
    return card


FRAME_ENCODINGS = {"raw": FrameEncoding.RAW, "png": FrameEncoding.PNG, "jpeg": FrameEncoding.JPEG}


@dataclass(frozen=True)
class ClientConfig:
    """How a client connects and what it asks for."""

    url: str = "ws://127.0.0.1:8765/"
    """The server's websocket URL."""
    game_id: str = "game"
    """Which game this is (for the server's logs and metrics)."""
    token: str | None = None
    """Auth token (required when the server is not on loopback)."""
    services: tuple[Service, ...] = ALL_SERVICES
    """Services this session uses."""
    behaviour_every: int = 1
    """Ask for a behaviour result every this many frames."""
    frame_encoding: Literal["raw", "png", "jpeg"] = "raw"
    """How frames are sent; raw is cheapest (PNG costs milliseconds per frame)."""
    client_name: str = f"gameai-python/{__version__}"
    """Reported in hello."""
    open_timeout_s: float = 5.0
    """Time allowed to connect and receive welcome."""
    request_timeout_s: float = 10.0
    """An ``act`` or ``ping`` with no answer after this long fails with :class:`RequestTimeoutError`,
    and so does a dialogue reply that gets no message for this long (it is also cancelled on
    the server); 0: wait forever."""
    record: RecordRequest | None = None
    """Ask the server to record this session for training (``hello.record``: the player's id and
    consent); ``welcome.recording`` says whether it is. None: never recorded."""


class ServerError(Exception):
    """The server answered a request with an ``error``.

    Attributes:
        error: The error message (``code``, ``message``, ``fatal``...).
    """

    def __init__(self, error: Error) -> None:
        super().__init__(f"{error.code.value}: {error.message}")
        self.error = error

    @property
    def code(self) -> ErrorCode:
        """The error code."""
        return self.error.code


class ConnectionLostError(Exception):
    """The connection closed before the answer came.

    Attributes:
        code: The websocket close code (None if unknown).
        reason: The close reason.
    """

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection closed ({code}): {reason}")
        self.code = code
        self.reason = reason


class RequestTimeoutError(Exception):
    """No answer to a request within ``ClientConfig.request_timeout_s``.

    Attributes:
        request_id: The request's id.
        timeout_s: How long the client waited.
    """

    def __init__(self, request_id: str, timeout_s: float) -> None:
        super().__init__(f"no answer to request {request_id!r} within {timeout_s:g} s")
        self.request_id = request_id
        self.timeout_s = timeout_s


class HelloRefusedError(Exception):
    """The server refused the hello (bad token, bad version, server full...).

    Attributes:
        error: The fatal error the server sent, if it sent one.
        close_code: The close code.
    """

    def __init__(self, error: Error | None, close_code: int | None) -> None:
        message = f"{error.code.value}: {error.message}" if error else "connection closed during hello"
        super().__init__(f"{message} (close code {close_code})")
        self.error = error
        self.close_code = close_code


class DialogueStream:
    """A streamed reply: iterate it for :class:`DialogueDelta`; :attr:`done` gives :class:`DialogueDone`.

    A request for ``n`` > 1 alternatives streams them all through the one iteration,
    interleaved (each delta's ``alternative`` says whose); :attr:`texts` holds each
    alternative's text so far. :attr:`done` and :attr:`all_done` resolve once every
    alternative has its ``dialogue.done``: with alternative 0's, and with all of them in
    alternative order.

    Args:
        request_id: The request's id.
        client: The client that sent it.
        n: Alternatives asked for.
    """

    def __init__(self, request_id: str, client: GameAIClient, n: int = 1) -> None:
        self.id = request_id
        self.n = n
        self._client = client
        self._deltas: asyncio.Queue[DialogueDelta | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self.done: asyncio.Future[DialogueDone] = loop.create_future()
        self.all_done: asyncio.Future[tuple[DialogueDone, ...]] = loop.create_future()
        self.texts: list[str] = [""] * n
        """The text of each alternative so far."""
        self._dones: dict[int, DialogueDone] = {}
        self._last_message_at = 0.0

    @property
    def text(self) -> str:
        """The reply so far (alternative 0's)."""
        return self.texts[0]

    def _watch(self, timeout_s: float) -> None:
        """Fail the stream once ``timeout_s`` pass without a message for it (0: never)."""
        if timeout_s <= 0:
            return
        loop = asyncio.get_running_loop()
        self._last_message_at = loop.time()

        def check() -> None:
            if self.done.done():
                return
            quiet = loop.time() - self._last_message_at
            if quiet < timeout_s:
                loop.call_later(timeout_s - quiet, check)
                return
            self._client._abandon(self, RequestTimeoutError(self.id, timeout_s))

        loop.call_later(timeout_s, check)

    def _on_delta(self, delta: DialogueDelta) -> None:
        self._last_message_at = asyncio.get_running_loop().time()
        alternative = delta.alternative or 0
        if alternative < self.n:
            self.texts[alternative] += delta.text
        self._deltas.put_nowait(delta)

    def _on_done(self, done: DialogueDone) -> bool:
        """Record one alternative's end; True once every alternative ended (the stream is then over)."""
        self._last_message_at = asyncio.get_running_loop().time()
        self._dones[done.alternative or 0] = done
        if any(alternative not in self._dones for alternative in range(self.n)):
            return False
        self._finish(tuple(self._dones[alternative] for alternative in range(self.n)))
        return True

    def _finish(self, done: tuple[DialogueDone, ...] | BaseException) -> None:
        if not self.done.done():
            if isinstance(done, BaseException):
                self.done.set_exception(done)
                self.all_done.set_exception(done)
                self.all_done.exception()  # raised through `done` already; no "never retrieved" warning
            else:
                self.done.set_result(done[0])
                self.all_done.set_result(done)
        self._deltas.put_nowait(None)

    async def cancel(self) -> None:
        """Ask the server to stop this reply, every alternative (``done`` then says ``cancelled``).

        A no-op once ``done`` has arrived (the server would answer ``unknown_request``).
        """
        if self.done.done():
            return
        await self._client._send(DialogueCancel(id=self.id))

    def __aiter__(self) -> DialogueStream:
        return self

    async def __anext__(self) -> DialogueDelta:
        delta = await self._deltas.get()
        if delta is None:
            self._deltas.put_nowait(None)
            if self.done.done() and self.done.exception() is not None:
                raise self.done.exception()  # type: ignore[misc]
            raise StopAsyncIteration
        return delta


class GameAIClient:
    """One connection to a gameai server (see the module docstring). Build it with :meth:`connect`.

    Args:
        websocket: An open connection whose hello was answered by ``welcome``.
        welcome: The welcome message.
        on_message: Called with every server message, in the reader task.
        config: The config it connected with (its ``request_timeout_s`` applies).
    """

    def __init__(
        self,
        websocket: ClientConnection,
        welcome: Welcome,
        on_message: Callable[[ServerMessage], None] | None = None,
        config: ClientConfig | None = None,
    ) -> None:
        self.config = config or ClientConfig()
        self.websocket = websocket
        self.welcome = welcome
        self.on_message = on_message
        self.latest_behaviour: BehaviourResult | None = None
        self.errors: list[Error] = []
        """Errors not tied to a request (about frames, rate limits...), oldest first (last 100)."""
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self._pending: dict[str, asyncio.Future[Any]] = {}
        self._streams: dict[str, DialogueStream] = {}
        self._encoding = FrameEncoding.RAW
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(self._read(), name="gameai-client-reader")

    @classmethod
    async def connect(
        cls, config: ClientConfig, on_message: Callable[[ServerMessage], None] | None = None
    ) -> GameAIClient:
        """Connect, send hello and wait for welcome.

        Raises:
            HelloRefusedError: If the server refused the hello.
            OSError, TimeoutError: If the server cannot be reached in ``config.open_timeout_s``.
        """
        websocket = await connect(
            config.url, compression=None, open_timeout=config.open_timeout_s, max_size=2**22
        )
        try:
            hello = Hello(
                protocol=PROTOCOL_VERSION,
                game_id=config.game_id,
                token=config.token,
                services=config.services,
                behaviour_every=config.behaviour_every,
                client=config.client_name,
                record=config.record,
            )
            await websocket.send(encode_message(hello))
            async with asyncio.timeout(config.open_timeout_s):
                first = parse_server_message(await websocket.recv())
        except ConnectionClosed as exc:
            await websocket.close()
            raise HelloRefusedError(None, exc.rcvd.code if exc.rcvd else None) from None
        except (ProtocolError, TimeoutError):
            await websocket.close()
            raise
        if isinstance(first, Error):
            with contextlib.suppress(ConnectionClosed):
                await websocket.recv()
            await websocket.close()
            code = websocket.close_code
            raise HelloRefusedError(first, code)
        if not isinstance(first, Welcome):
            await websocket.close()
            raise HelloRefusedError(None, None)
        client = cls(websocket, first, on_message, config)
        client._encoding = FRAME_ENCODINGS[config.frame_encoding]
        return client

    # ------------------------------------------------------------------ sending

    async def _send(self, message: Message) -> None:
        try:
            await self.websocket.send(encode_message(message))
        except ConnectionClosed as exc:
            raise ConnectionLostError(exc.rcvd.code if exc.rcvd else None, str(exc)) from None

    def next_id(self) -> str:
        """A fresh request id."""
        return f"r{next(self._ids)}"

    async def send_frame(
        self, pixels: np.ndarray, seq: int | None = None, timestamp: float | None = None
    ) -> int:
        """Send one frame (already downscaled to ``welcome.behaviour``'s size).

        Args:
            pixels: ``(H, W, 3)`` uint8 RGB.
            seq: Sequence number (default: 0, 1, 2...).
            timestamp: Client clock in seconds (default ``time.time()``), echoed in results.

        Returns:
            The sequence number used.
        """
        seq = next(self._seq) if seq is None else seq
        data = encode_frame(pixels, seq, time.time() if timestamp is None else timestamp, self._encoding)
        try:
            await self.websocket.send(data)
        except ConnectionClosed as exc:
            raise ConnectionLostError(exc.rcvd.code if exc.rcvd else None, str(exc)) from None
        return seq

    async def _request(self, message: Act | ActBatch | Ping, request_id: str) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        timeout_s = self.config.request_timeout_s
        try:
            await self._send(message)
            async with asyncio.timeout(timeout_s if timeout_s > 0 else None):
                return await future
        except TimeoutError:
            raise RequestTimeoutError(request_id, timeout_s) from None
        finally:
            self._pending.pop(request_id, None)

    def _abandon(self, stream: DialogueStream, error: BaseException) -> None:
        """End a reply that will not be waited for any more, and ask the server to stop it."""
        if self._streams.get(stream.id) is stream:
            del self._streams[stream.id]
        stream._finish(error)
        task = asyncio.get_running_loop().create_task(self._send(DialogueCancel(id=stream.id)))
        task.add_done_callback(
            lambda t: t.cancelled() or t.exception()
        )  # a closed connection: nothing to stop

    async def act(
        self,
        npc_id: str,
        observation: np.ndarray | list[float] | tuple[float, ...],
        difficulty: float | None = None,
        agent: str | None = None,
        request_id: str | None = None,
    ) -> Action:
        """Ask for an NPC's action.

        Raises:
            ServerError: If the server refused (bad observation, unknown agent...).
            ConnectionLostError: If the connection closed first.
        """
        request_id = request_id or self.next_id()
        message = Act(
            id=request_id,
            npc_id=npc_id,
            observation=observation_values(observation),
            difficulty=difficulty,
            agent=agent,
        )
        action: Action = await self._request(message, request_id)
        return action

    async def act_batch(
        self,
        acts: Mapping[str, np.ndarray | list[float] | tuple[float, ...]] | Sequence[ActItem],
        difficulty: float | None = None,
        agent: str | None = None,
        request_id: str | None = None,
    ) -> ActionBatch:
        """Ask for several NPCs' actions in one message (``act.batch``: one message each way).

        Args:
            acts: Each NPC's observation by NPC id (played with ``difficulty`` and ``agent``), or
                :class:`~gameai.protocol.messages.ActItem` s with their own.
            difficulty: Difficulty of the NPCs given by id (default: the session's controller).
            agent: Agent of the NPCs given by id (default: ``welcome.default_agent``).
            request_id: Request id (default: a fresh one).

        Returns:
            The actions, in the order of ``acts``.

        Raises:
            ValueError: If ``acts`` is empty or has more than ``MAX_BATCH_ACTS`` (64) items.
            ServerError: If the server refused the batch (its message names the bad item).
            ConnectionLostError: If the connection closed first.
        """
        if not 1 <= len(acts) <= MAX_BATCH_ACTS:
            raise ValueError(
                f"an act.batch needs at least one and at most {MAX_BATCH_ACTS} acts, got {len(acts)}"
            )
        request_id = request_id or self.next_id()
        if isinstance(acts, Mapping):
            items = tuple(
                ActItem(
                    npc_id=npc_id, observation=observation_values(obs), difficulty=difficulty, agent=agent
                )
                for npc_id, obs in acts.items()
            )
        else:
            items = tuple(acts)
        batch: ActionBatch = await self._request(ActBatch(id=request_id, acts=items), request_id)
        return batch

    async def dialogue(
        self,
        npc_id: str,
        persona: str | None = None,
        player_line: str = "",
        request_id: str | None = None,
        npc: NpcCard | Mapping[str, Any] | None = None,
        **options: Any,
    ) -> DialogueStream:
        """Start an NPC reply.

        Which NPC speaks: ``npc`` when given (the server then remembers it for ``npc_id``),
        else the card the server knows for ``npc_id`` (given earlier, or ``welcome.npcs``),
        else ``persona``.

        Args:
            npc_id: The NPC (a card id of ``welcome.npcs``, or the game's own id).
            persona: A card id of the server, or a free-text description (optional).
            player_line: What the player said.
            request_id: Request id (default: a fresh one).
            npc: The NPC's card, as a :class:`~gameai.protocol.messages.NpcCard` or a mapping
                of its fields.
            **options: Other ``dialogue.request`` fields (mood, behaviour, events, game_state,
                max_new_tokens, temperature, top_p, seed, stop, n).

        Returns:
            The stream; refusals surface from iterating it and from ``stream.done``.

        Raises:
            ProtocolError: If ``npc`` is a mapping that is not a valid card.
        """
        request_id = request_id or self.next_id()
        for key in ("events", "stop"):
            if key in options:
                options[key] = tuple(options[key])
        card = None if npc is None else npc_card(npc)
        message = DialogueRequest(
            id=request_id, npc_id=npc_id, persona=persona, npc=card, player_line=player_line, **options
        )
        stream = DialogueStream(request_id, self, message.n)
        self._streams[request_id] = stream
        try:
            await self._send(message)
        except ConnectionLostError:
            self._streams.pop(request_id, None)
            raise
        stream._watch(self.config.request_timeout_s)
        return stream

    async def match_result(self, outcome: Literal["win", "loss", "draw"], **fields: Any) -> None:
        """Report a finished match (npc_id, player_score, npc_score, duration_s optional)."""
        await self._send(MatchResult(outcome=outcome, **fields))

    async def label(self, label: str | None) -> None:
        """Label the recorded frames sent from now on (one of ``welcome.behaviour.classes``;
        None: unlabelled); a refusal (``not_recording``, ``unknown_label``) lands in :attr:`errors`."""
        await self._send(Label(label=label))

    async def events(self, events: list[str] | tuple[str, ...]) -> None:
        """Report game events, oldest first."""
        await self._send(Events(events=tuple(events)))

    async def ping(self) -> float:
        """Round trip to the server and back, in seconds."""
        request_id = self.next_id()
        started = time.perf_counter()
        await self._request(Ping(id=request_id, t=started), request_id)
        return time.perf_counter() - started

    async def close(self) -> None:
        """Close the connection (normal closure) and wait for the reader to end."""
        await self.websocket.close()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader

    # ------------------------------------------------------------------ receiving

    async def _read(self) -> None:
        code: int | None = None
        reason = ""
        try:
            async for data in self.websocket:
                try:
                    message = parse_server_message(data)
                except ProtocolError:
                    logger.warning("unparseable message from server: %.200r", data)
                    continue
                self._dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            if self.websocket.close_code is not None:
                code, reason = self.websocket.close_code, self.websocket.close_reason or ""
            lost = ConnectionLostError(code, reason)
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(lost)
            for stream in self._streams.values():
                stream._finish(lost)
            self._streams.clear()
            if not self.closed.done():
                self.closed.set_result((code, reason))

    def _dispatch(self, message: ServerMessage) -> None:
        if isinstance(message, BehaviourResult):
            self.latest_behaviour = message
        elif isinstance(message, DialogueDelta):
            stream = self._streams.get(message.id)
            if stream is not None:
                stream._on_delta(message)
        elif isinstance(message, DialogueDone):
            stream = self._streams.get(message.id)
            if stream is not None and stream._on_done(message):
                del self._streams[message.id]
        elif isinstance(message, Action | ActionBatch | Pong):
            future = self._pending.get(message.id or "")
            if future is not None and not future.done():
                future.set_result(message)
        elif isinstance(message, Error):
            self._on_error(message)
        if self.on_message is not None:
            self.on_message(message)

    def _on_error(self, error: Error) -> None:
        request_id = error.id or ""
        future = self._pending.get(request_id)
        stream = self._streams.pop(request_id, None)
        if future is not None and not future.done():
            future.set_exception(ServerError(error))
        elif stream is not None:
            stream._finish(ServerError(error))
        else:
            self.errors = [*self.errors[-99:], error]
