"""One task per connection: moves bytes between the websocket and the protocol, dispatches requests.

:class:`ConnectionHandler` is the thin I/O loop around :class:`~gameai.protocol.ServerProtocol`:
it reads a message, hands it to the protocol with the time, sends what the protocol
queued (errors, welcome), and acts on the parsed result: frames go to the session's
:class:`~gameai.server.frame_pipeline.FramePipeline`, requests start a task each
(dialogue streams, agent actions). A request that fails gets a typed ``error`` and the
session goes on; an unexpected exception in the connection's own loop is logged with
its traceback and closes *this* connection with 1011.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from gameai import __version__
from gameai.dialogue.types import DialogueTurn
from gameai.observability.logs import session_id_var
from gameai.protocol.codec import encode_message
from gameai.protocol.connection import ServerProtocol, SessionState
from gameai.protocol.errors import INTERNAL_ERROR_CLOSE, ErrorCode, ProtocolError
from gameai.protocol.frames import Frame
from gameai.protocol.messages import (
    PROTOCOL_VERSION,
    Act,
    Action,
    ClientMessage,
    DialogueCancel,
    DialogueDelta,
    DialogueDone,
    DialogueRequest,
    Error,
    Events,
    Hello,
    MatchResult,
    Message,
    Ping,
    Pong,
    Welcome,
)
from gameai.protocol.rate import Throttle
from gameai.runtime.batching import OverloadedError, WorkerStoppedError
from gameai.runtime.dialogue import DialogueStream
from gameai.runtime.models import ActRequest
from gameai.server.dialogue_requests import build_dialogue_context, generation_params
from gameai.server.frame_pipeline import FramePipeline
from gameai.session.state import Session

if TYPE_CHECKING:
    from gameai.server.app import GameAIServer

logger = logging.getLogger(__name__)


class _ClosedError(Exception):
    """The protocol decided to close the connection and it was closed."""


class RequestRefusedError(Exception):
    """A request cannot be served; becomes an ``error`` with this code for its id."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class ConnectionHandler:
    """Serves one websocket connection (see the module docstring).

    Args:
        server: The server (config, runtime, metrics, session registry).
        websocket: The connection.
    """

    def __init__(self, server: GameAIServer, websocket: ServerConnection) -> None:
        self.server = server
        self.config = server.config
        self.runtime = server.runtime
        self.metrics = server.metrics
        self.websocket = websocket
        self.session_id = secrets.token_urlsafe(9)
        self.session: Session | None = None
        self.protocol = ServerProtocol(self.config.session_limits(), now=time.perf_counter())
        self.frames: FramePipeline | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._inflight: dict[str, asyncio.Task[None]] = {}
        self._dialogues: dict[str, DialogueStream] = {}
        self._frame_task: asyncio.Task[None] | None = None
        self._throttle = Throttle(1.0)
        self._closing = False
        self._last_rate_limited = 0
        self.close_code: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Serve the connection until it closes; never raises."""
        session_id_var.set(self.session_id)
        started = time.perf_counter()
        try:
            if await self._handshake():
                await self._receive_loop()
        except (ConnectionClosed, _ClosedError):
            pass
        except Exception:
            logger.error("connection handler crashed; closing this connection with 1011", exc_info=True)
            self.close_code = INTERNAL_ERROR_CLOSE
            with contextlib.suppress(Exception):
                await self._close_draining(INTERNAL_ERROR_CLOSE, "internal error")
        finally:
            await self._cleanup()
            code = self.close_code if self.close_code is not None else self.websocket.close_code
            self.metrics.closes_total.labels(str(code)).inc()
            logger.info(
                "connection closed (code %s) after %.1f s",
                code,
                time.perf_counter() - started,
                extra={"close_code": code},
            )

    async def _cleanup(self) -> None:
        for stream in self._dialogues.values():
            stream.cancel()
        tasks = [*self._tasks, *([self._frame_task] if self._frame_task else [])]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.session is not None:
            self.server.sessions.pop(self.session_id, None)
            self.metrics.sessions_active.dec()

    async def shutdown(self, grace_s: float) -> None:
        """Close this session for a server shutdown.

        Dialogue replies in flight are cancelled (their ``dialogue.done`` says
        ``cancelled``), actions in flight get up to ``grace_s`` to finish, then the client
        gets a fatal ``shutting_down`` error and close code 1001.
        """
        self._closing = True
        for stream in self._dialogues.values():
            stream.cancel()
        pending = [task for task in self._tasks if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=grace_s)
        if self._frame_task is not None:
            self._frame_task.cancel()
        with contextlib.suppress(ConnectionClosed, _ClosedError):
            await self._close_with(ErrorCode.SHUTTING_DOWN, "the server is shutting down", draining=False)

    # ------------------------------------------------------------------ I/O

    async def _send(self, message: Message) -> None:
        """Send a message (dropped silently once the connection is closed)."""
        if isinstance(message, Error):
            self.metrics.errors_total.labels(message.code.value).inc()
            log = logger.warning if message.fatal else logger.info
            log(
                "error %s to client: %s",
                message.code.value,
                message.message,
                extra={"error_code": message.code.value, "request_id": message.id},
            )
        with contextlib.suppress(ConnectionClosed):
            await self.websocket.send(encode_message(message))

    async def _send_frame_error(self, error: ProtocolError) -> None:
        """Send an error about a frame, at most once per second per code."""
        if self._throttle.allow(error.code, time.perf_counter()):
            await self._send(Error(code=error.code, message=error.message, seq=error.seq))

    async def _flush_protocol(self, draining: bool = True) -> None:
        """Send what the protocol queued; close the connection if it decided so.

        Args:
            draining: Read and drop incoming messages while closing (when the caller is
                the receive loop, which then no longer reads).
        """
        for message in self.protocol.messages_to_send():
            await self._send(message)
        self._count_rate_limited()
        close = self.protocol.close
        if close is not None:
            self.close_code = close.code
            if draining:
                await self._close_draining(close.code, close.reason)
            else:
                await self.websocket.close(close.code, close.reason)
            raise _ClosedError

    async def _close_draining(self, code: int, reason: str) -> None:
        """Close while discarding what the client still sends.

        A client that floods would otherwise fill the connection's receive buffer, which
        stops reading, so its close frame would never be read and the closing handshake
        would time out.
        """

        async def discard() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for _ in self.websocket:
                    pass

        drain = asyncio.create_task(discard())
        try:
            await self.websocket.close(code, reason)
        finally:
            drain.cancel()
            await asyncio.gather(drain, return_exceptions=True)

    async def _close_with(self, code: ErrorCode, message: str, draining: bool = True) -> None:
        if self.protocol.state is not SessionState.CLOSED:
            self.protocol.fail(code, message)
        await self._flush_protocol(draining)

    def _count_rate_limited(self) -> None:
        count = self.protocol.stats.frames_rate_limited
        if count > self._last_rate_limited:
            self.metrics.frames_dropped_total.labels("rate").inc(count - self._last_rate_limited)
            self._last_rate_limited = count

    # ------------------------------------------------------------------ hello

    async def _handshake(self) -> bool:
        """Read the hello and answer welcome or a fatal error; returns whether the session opened."""
        try:
            async with asyncio.timeout(self.config.hello_timeout_s):
                data = await self.websocket.recv()
        except TimeoutError:
            self.metrics.connections_total.labels("refused").inc()
            await self._close_with(
                ErrorCode.HELLO_TIMEOUT, f"no hello within {self.config.hello_timeout_s:g} s"
            )
            return False
        now = time.perf_counter()
        hello = (
            self.protocol.receive_text(data, now)
            if isinstance(data, str)
            else self.protocol.receive_binary(data, now)
        )
        if not isinstance(hello, Hello):
            self.metrics.connections_total.labels("refused").inc()
            await self._flush_protocol()
            return False
        refusal = self._check_hello(hello)
        if refusal is not None:
            self.metrics.connections_total.labels("refused").inc()
            await self._close_with(*refusal)
            return False
        self._open_session(hello)
        await self._flush_protocol()
        return True

    def _check_hello(self, hello: Hello) -> tuple[ErrorCode, str] | None:
        if self.config.token_required:
            token = (hello.token or "").encode()
            if not any(hmac.compare_digest(token, t.encode()) for t in self.config.tokens):
                return ErrorCode.BAD_TOKEN, "missing or wrong token"
        if self._closing or self.server.shutting_down:
            return ErrorCode.SHUTTING_DOWN, "the server is shutting down"
        if len(self.server.sessions) >= self.config.max_sessions:
            return ErrorCode.SERVER_FULL, f"the server has its maximum of {self.config.max_sessions} sessions"
        behaviour = self.runtime.behaviour
        if hello.frames is not None and behaviour is not None and "behaviour" in hello.services:
            spec = behaviour.spec
            if (hello.frames.width, hello.frames.height) != (spec.width, spec.height):
                return (
                    ErrorCode.UNSUPPORTED_FRAME_FORMAT,
                    f"frames must be {spec.width}x{spec.height}, hello declares "
                    f"{hello.frames.width}x{hello.frames.height}",
                )
        return None

    def _open_session(self, hello: Hello) -> None:
        session = Session(session_id=self.session_id, hello=hello)
        session.difficulty = self.server.make_difficulty_controller(session)
        self.session = session
        behaviour = self.runtime.behaviour
        expected_size = None
        if behaviour is not None and "behaviour" in hello.services:
            self.frames = FramePipeline(
                session, behaviour, self.config.frame_queue, self._send, self._send_frame_error, self.metrics
            )
            self._frame_task = asyncio.create_task(self.frames.run(), name=f"frames-{self.session_id}")
            self._frame_task.add_done_callback(self._on_frame_task_done)
            expected_size = (behaviour.spec.width, behaviour.spec.height)
        welcome = Welcome(
            protocol=PROTOCOL_VERSION,
            session_id=self.session_id,
            server=f"gameai/{__version__}",
            services=hello.services,
            models=dict(self.runtime.models),
            behaviour=behaviour.spec if behaviour is not None else None,
            agents={name: agent.spec for name, agent in self.runtime.agents.items()},
            default_agent=self.runtime.default_agent,
            difficulty=session.difficulty.difficulty(None),
            limits=self.config.welcome_limits(),
        )
        self.protocol.accept(welcome, expected_size)
        self.server.sessions[self.session_id] = self
        self.metrics.sessions_active.inc()
        self.metrics.connections_total.labels("accepted").inc()
        logger.info(
            "session opened for game %r (services %s, client %r)",
            hello.game_id,
            ",".join(hello.services),
            hello.client,
            extra={"game_id": hello.game_id},
        )

    def _on_frame_task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        logger.error("frame pipeline crashed; closing this connection with 1011", exc_info=task.exception())
        self.close_code = INTERNAL_ERROR_CLOSE
        self._spawn(self.websocket.close(INTERNAL_ERROR_CLOSE, "internal error"))

    # ------------------------------------------------------------------ messages

    async def _receive_loop(self) -> None:
        while True:
            try:
                async with asyncio.timeout(self.config.idle_timeout_s):
                    data = await self.websocket.recv()
            except TimeoutError:
                await self._close_with(
                    ErrorCode.IDLE_TIMEOUT, f"no message for {self.config.idle_timeout_s:g} s"
                )
                return
            now = time.perf_counter()
            self.metrics.received_bytes_total.inc(len(data))
            if isinstance(data, str):
                self.metrics.messages_received_total.labels("text").inc()
                message = self.protocol.receive_text(data, now)
                await self._flush_protocol()
                if message is not None:
                    await self._dispatch(message, now)
            else:
                self.metrics.messages_received_total.labels("binary").inc()
                frame = self.protocol.receive_binary(data, now)
                await self._flush_protocol()
                if frame is not None:
                    await self._on_frame(frame, now)

    async def _on_frame(self, frame: Frame, received_at: float) -> None:
        if self.frames is not None:
            self.frames.push(frame, received_at)
            return
        session = self.session
        assert session is not None
        if "behaviour" not in session.hello.services:
            error = ProtocolError(
                ErrorCode.SERVICE_NOT_REQUESTED, "frames sent but 'behaviour' not in hello.services"
            )
        else:
            reason = self.runtime.models["behaviour"].reason
            error = ProtocolError(ErrorCode.MODEL_UNAVAILABLE, f"behaviour model unavailable: {reason}")
        error.seq = frame.seq
        await self._send_frame_error(error)

    async def _dispatch(self, message: ClientMessage, received_at: float) -> None:
        session = self.session
        assert session is not None
        if isinstance(message, Ping):
            await self._send(Pong(id=message.id, t=message.t, server_time=time.time()))
        elif isinstance(message, Events):
            session.events.extend(message.events)
        elif isinstance(message, MatchResult):
            session.record_match(
                message.outcome, message.npc_id, message.player_score, message.npc_score, message.duration_s
            )
        elif isinstance(message, DialogueCancel):
            stream = self._dialogues.get(message.id)
            if stream is None:
                await self._send(
                    Error(
                        code=ErrorCode.UNKNOWN_REQUEST,
                        message="no dialogue in flight with this id",
                        id=message.id,
                    )
                )
            else:
                stream.cancel()
        elif isinstance(message, DialogueRequest | Act):
            await self._start_request(message, received_at)
        else:  # Hello is refused by the protocol once open
            raise AssertionError(f"unhandled message {message!r}")

    async def _start_request(self, request: DialogueRequest | Act, received_at: float) -> None:
        if self._closing:
            await self._send(
                Error(
                    code=ErrorCode.SHUTTING_DOWN,
                    message="the server is shutting down",
                    id=request.id,
                    fatal=True,
                )
            )
            return
        if request.id in self._inflight:
            await self._send(
                Error(
                    code=ErrorCode.DUPLICATE_ID, message="a request with this id is in flight", id=request.id
                )
            )
            return
        if len(self._inflight) >= self.config.max_inflight_requests:
            await self._send(
                Error(
                    code=ErrorCode.OVERLOADED,
                    message=f"{len(self._inflight)} requests in flight (max_inflight_requests)",
                    id=request.id,
                )
            )
            return
        try:
            if isinstance(request, DialogueRequest):
                job = self._start_dialogue(request, received_at)
            else:
                job = self._start_act(request, received_at)
        except RequestRefusedError as refused:
            await self._send(Error(code=refused.code, message=refused.message, id=request.id))
            return
        task = self._spawn(self._answer(request.id, job), name=f"{request.TYPE}-{request.id}")
        self._inflight[request.id] = task

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str | None = None) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _answer(self, request_id: str, job: Coroutine[Any, Any, None]) -> None:
        """Run a request; any failure becomes a typed error for that request only."""
        try:
            await job
        except RequestRefusedError as refused:
            await self._send(Error(code=refused.code, message=refused.message, id=request_id))
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.error("request %s failed", request_id, exc_info=True, extra={"request_id": request_id})
            await self._send(
                Error(
                    code=ErrorCode.INTERNAL_ERROR, message="the server failed on this request", id=request_id
                )
            )
        finally:
            self._inflight.pop(request_id, None)

    # ------------------------------------------------------------------ dialogue

    def _require(self, service: str) -> None:
        assert self.session is not None
        if service not in self.session.hello.services:
            raise RequestRefusedError(ErrorCode.SERVICE_NOT_REQUESTED, f"{service!r} not in hello.services")

    def _start_dialogue(self, request: DialogueRequest, received_at: float) -> Coroutine[Any, Any, None]:
        self._require("dialogue")
        session = self.session
        assert session is not None
        worker = self.runtime.dialogue
        if worker is None:
            raise RequestRefusedError(
                ErrorCode.MODEL_UNAVAILABLE,
                f"dialogue model unavailable: {self.runtime.models['dialogue'].reason}",
            )
        params = generation_params(request, self.config.default_max_new_tokens)
        if params.max_new_tokens > self.config.max_new_tokens:
            raise RequestRefusedError(
                ErrorCode.OUT_OF_RANGE,
                f"dialogue.request.max_new_tokens: must be <= {self.config.max_new_tokens}, "
                f"got {params.max_new_tokens}",
            )
        context = build_dialogue_context(request, session)
        try:
            stream = worker.submit(context, params, self.session_id)
        except OverloadedError as exc:
            raise RequestRefusedError(ErrorCode.OVERLOADED, f"dialogue model busy: {exc}") from None
        except WorkerStoppedError:
            raise RequestRefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down") from None
        self._dialogues[request.id] = stream
        return self._stream_dialogue(request, stream, received_at)

    async def _stream_dialogue(
        self, request: DialogueRequest, stream: DialogueStream, received_at: float
    ) -> None:
        session = self.session
        assert session is not None
        pieces: list[str] = []
        try:
            async for piece in stream:
                if piece.text:
                    await self._send(DialogueDelta(id=request.id, index=len(pieces), text=piece.text))
                    pieces.append(piece.text)
        finally:
            self._dialogues.pop(request.id, None)
            if not stream.finished_at:
                stream.cancel()
        text = "".join(pieces)
        if stream.cancelled:
            finish = "cancelled"
        elif stream.tokens >= stream.params.max_new_tokens:
            finish = "length"
        else:
            finish = "stop"
        now = time.perf_counter()
        duration = now - received_at
        first = (stream.first_delta_at - received_at) * 1000.0 if stream.first_delta_at is not None else None
        generation_time = now - (stream.first_delta_at or stream.submitted)
        await self._send(
            DialogueDone(
                id=request.id,
                text=text,
                tokens=stream.tokens,
                finish_reason=finish,  # type: ignore[arg-type]
                first_token_ms=round(first, 3) if first is not None else None,
                duration_ms=round(duration * 1000.0, 3),
                tokens_per_s=round(stream.tokens / generation_time, 2) if generation_time > 0 else 0.0,
            )
        )
        self.metrics.request_latency_seconds.labels("dialogue").observe(duration)
        if finish != "cancelled":
            session.memory.remember(request.npc_id, DialogueTurn(request.player_line, text))

    # ------------------------------------------------------------------ agents

    def _start_act(self, request: Act, received_at: float) -> Coroutine[Any, Any, None]:
        self._require("agents")
        session = self.session
        assert session is not None
        name = request.agent or self.runtime.default_agent
        if name is None:
            reason = self.runtime.models.get("agent")
            raise RequestRefusedError(
                ErrorCode.MODEL_UNAVAILABLE,
                f"no agent available: {reason.reason if reason else 'none loaded'}",
            )
        agent = self.runtime.agents.get(name)
        if agent is None:
            info = self.runtime.models.get(f"agent/{name}")
            if info is not None:
                raise RequestRefusedError(
                    ErrorCode.MODEL_UNAVAILABLE, f"agent {name!r} unavailable: {info.reason}"
                )
            raise RequestRefusedError(
                ErrorCode.UNKNOWN_AGENT, f"no agent {name[:64]!r}; agents: {sorted(self.runtime.agents)}"
            )
        if len(request.observation) != agent.config.obs_dim:
            raise RequestRefusedError(
                ErrorCode.BAD_OBSERVATION,
                f"agent {name!r} takes {agent.config.obs_dim} observation values, "
                f"got {len(request.observation)}",
            )
        difficulty = (
            request.difficulty
            if request.difficulty is not None
            else session.difficulty.difficulty(request.npc_id)
        )
        observation = np.asarray(request.observation, dtype=np.float32)
        try:
            future = agent.worker.submit(ActRequest(observation, difficulty))
        except OverloadedError as exc:
            raise RequestRefusedError(ErrorCode.OVERLOADED, f"agent {name!r} busy: {exc}") from None
        except WorkerStoppedError:
            raise RequestRefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down") from None
        return self._reply_action(request, name, difficulty, future, received_at)

    async def _reply_action(
        self,
        request: Act,
        agent: str,
        difficulty: float,
        future: asyncio.Future[tuple[int, ...]],
        received_at: float,
    ) -> None:
        action = await future
        latency = time.perf_counter() - received_at
        await self._send(
            Action(
                id=request.id,
                npc_id=request.npc_id,
                agent=agent,
                action=action,
                difficulty=difficulty,
                latency_ms=round(latency * 1000.0, 3),
            )
        )
        self.metrics.request_latency_seconds.labels("agents").observe(latency)
