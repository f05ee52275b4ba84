"""One task per connection: moves bytes between the websocket and the protocol, dispatches requests.

:class:`ConnectionHandler` is the thin I/O loop around :class:`~gameai.protocol.ServerProtocol`:
it reads a message, hands it to the protocol with the time, sends what the protocol
queued (errors, welcome), and dispatches the parsed result: core messages (ping, events,
match results) to the session, a service's messages to that service's part of the session
(:class:`~gameai.services.base.SessionService`; requests through the session's
:class:`~gameai.services.requests.RequestTracker`, a task each), frames to the service that
takes frames. A request that fails gets a typed ``error`` and the session goes on; an
unexpected exception in the connection's own loop is logged with its traceback and closes
*this* connection with 1011.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Coroutine
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from gameai import __version__
from gameai.observability.logs import session_id_var
from gameai.observability.metrics import ServiceMetrics
from gameai.protocol.codec import encode_message
from gameai.protocol.connection import ServerProtocol, SessionState
from gameai.protocol.errors import INTERNAL_ERROR_CLOSE, ErrorCode, ProtocolError
from gameai.protocol.frames import Frame
from gameai.protocol.messages import (
    PROTOCOL_VERSION,
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
from gameai.server.access import TokenFailures, token_matches
from gameai.server.config import ServerConfig
from gameai.services.base import RequestRefusedError, SessionContext, SessionService
from gameai.services.registry import ServiceRegistry
from gameai.services.requests import RequestTracker
from gameai.session.difficulty import DifficultyController
from gameai.session.state import Session

logger = logging.getLogger(__name__)


class _ClosedError(Exception):
    """The protocol decided to close the connection and it was closed."""


class SessionHost(Protocol):
    """What a connection needs of its server (:class:`~gameai.server.app.GameAIServer` is one)."""

    config: ServerConfig
    services: ServiceRegistry
    metrics: ServiceMetrics
    sessions: dict[str, ConnectionHandler]
    shutting_down: bool
    token_failures: TokenFailures

    def make_difficulty_controller(self, session: Session) -> DifficultyController:
        """The difficulty controller of a new session."""
        ...


class ConnectionHandler:
    """Serves one websocket connection (see the module docstring).

    Args:
        server: The server (config, services, metrics, open sessions).
        websocket: The connection.
    """

    def __init__(self, server: SessionHost, websocket: ServerConnection) -> None:
        self.server = server
        self.config = server.config
        self.services = server.services
        self.metrics = server.metrics
        self.websocket = websocket
        self.session_id = secrets.token_urlsafe(9)
        self.session: Session | None = None
        self.protocol = ServerProtocol(
            self.config.session_limits(),
            now=time.perf_counter(),
            message_types=self.services.client_messages,
            services=self.services.names,
        )
        self.handlers: dict[str, SessionService] = {}
        """This session's part of each service it asked for, by service name."""
        self.requests: RequestTracker | None = None
        self._frame_handler: SessionService | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._service_tasks: list[asyncio.Task[None]] = []
        self._throttle = Throttle(1.0)
        self._error_log = Throttle(10.0)
        """One log line per error code per 10 s; the rest are counted and said with the next."""
        self._closing = False
        self._last_rate_limited = 0
        self._last_message_at = time.perf_counter()
        self._last_activity_at = self._last_message_at
        """When the client last sent anything but a ping."""
        self._idle_timer: asyncio.TimerHandle | None = None
        self.address = self._client_address()
        """The client's IP address (the proxy's, behind a proxy)."""
        self._text_received = self.metrics.messages_received_total.labels("text")
        self._binary_received = self.metrics.messages_received_total.labels("binary")
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
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        for handler in self.handlers.values():
            with contextlib.suppress(Exception):
                await handler.close()
        if self.requests is not None:
            await self.requests.abort()
        tasks = [*self._tasks, *self._service_tasks]
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
        if self.requests is not None:
            self.requests.closing = True
        for handler in self.handlers.values():
            await handler.drain(grace_s)
        if self.requests is not None:
            await self.requests.wait(grace_s)
        for task in self._service_tasks:
            task.cancel()
        with contextlib.suppress(ConnectionClosed, _ClosedError):
            await self._close_with(ErrorCode.SHUTTING_DOWN, "the server is shutting down", draining=False)

    # ------------------------------------------------------------------ I/O

    async def _send(self, message: Message) -> None:
        """Send a message (dropped silently once the connection is closed)."""
        if isinstance(message, Error):
            self.metrics.errors_total.labels(message.code.value).inc()
            if message.fatal or self._error_log.allow(message.code, time.perf_counter()):
                held = self._error_log.take_held(message.code)
                log = logger.warning if message.fatal else logger.info
                log(
                    "error %s to client: %s%s",
                    message.code.value,
                    message.message,
                    f" (and {held} more of this code held back from the log)" if held else "",
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
            failures = self.server.token_failures
            address = self.address
            now = time.monotonic()
            locked_s = failures.locked_for(address, now)
            if locked_s > 0:
                return (
                    ErrorCode.BAD_TOKEN,
                    f"too many wrong tokens from this address; try again in {math.ceil(locked_s)} s",
                )
            if not token_matches(hello.token, self.config.tokens):
                failures.fail(address, now)
                return ErrorCode.BAD_TOKEN, "missing or wrong token"
        if self._closing or self.server.shutting_down:
            return ErrorCode.SHUTTING_DOWN, "the server is shutting down"
        if len(self.server.sessions) >= self.config.max_sessions:
            return ErrorCode.SERVER_FULL, f"the server has its maximum of {self.config.max_sessions} sessions"
        return self._check_client_share(hello) or self._check_services(hello)

    def _check_services(self, hello: Hello) -> tuple[ErrorCode, str] | None:
        for name in hello.services:
            refusal = self.services[name].check_hello(hello)
            if refusal is not None:
                return refusal
        return None

    def _check_client_share(self, hello: Hello) -> tuple[ErrorCode, str] | None:
        """Refuse a client that already has its share of the server's sessions."""
        per_address = self.config.max_sessions_per_address
        if (
            per_address
            and sum(h.address == self.address for h in self.server.sessions.values()) >= per_address
        ):
            return (
                ErrorCode.SERVER_FULL,
                f"this address has its maximum of {per_address} sessions (max_sessions_per_address)",
            )
        per_token = self.config.max_sessions_per_token
        if per_token and hello.token:
            same_token = sum(
                h.session is not None and h.session.hello.token == hello.token
                for h in self.server.sessions.values()
            )
            if same_token >= per_token:
                return (
                    ErrorCode.SERVER_FULL,
                    f"this token has its maximum of {per_token} sessions (max_sessions_per_token)",
                )
        return None

    def _client_address(self) -> str:
        """The client's IP address (the proxy's, behind a proxy)."""
        remote = self.websocket.remote_address
        return str(remote[0]) if isinstance(remote, tuple) and remote else str(remote)

    def _open_session(self, hello: Hello) -> None:
        session = Session(session_id=self.session_id, hello=hello)
        session.difficulty = self.server.make_difficulty_controller(session)
        self.session = session
        self.requests = RequestTracker(self._send, self.config.max_inflight_requests)
        context = SessionContext(
            session=session,
            send=self._send,
            send_frame_error=self._send_frame_error,
            metrics=self.metrics,
            settings=self.config.service_settings(),
        )
        expected_size = None
        for name in hello.services:
            service = self.services[name]
            handler = service.open_session(context)
            self.handlers[name] = handler
            if service.takes_frames:
                self._frame_handler = handler
                expected_size = service.expected_frame_size(hello)
            task = asyncio.create_task(handler.run(), name=f"{name}-{self.session_id}")
            task.add_done_callback(self._on_service_task_done)
            self._service_tasks.append(task)
        session_fields = {
            key: value
            for handler in self.handlers.values()
            for key, value in handler.welcome_fields().items()
        }
        welcome = Welcome(
            protocol=PROTOCOL_VERSION,
            session_id=self.session_id,
            server=f"gameai/{__version__}",
            services=hello.services,
            game=self.services.game_of(hello),
            models=self.services.session_models(hello),
            difficulty=session.difficulty.difficulty(None),
            limits=self.config.welcome_limits(),
            **{"agents": {}, **self.services.welcome_fields(hello), **session_fields},
        )
        self.protocol.accept(welcome, expected_size)
        self.server.sessions[self.session_id] = self
        self.metrics.sessions_active.inc()
        self.metrics.connections_total.labels("accepted").inc()
        models_game = welcome.game.models_game if welcome.game is not None else None
        logger.info(
            "session opened for game %r (services %s, client %r; %s)",
            hello.game_id,
            ",".join(hello.services),
            hello.client,
            "its game's models" if models_game is not None else "the default set of models",
            extra={"game_id": hello.game_id},
        )

    def _on_service_task_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        logger.error(
            "service task %s crashed; closing this connection with 1011",
            task.get_name(),
            exc_info=task.exception(),
        )
        self.close_code = INTERNAL_ERROR_CLOSE
        self._spawn(self.websocket.close(INTERNAL_ERROR_CLOSE, "internal error"))

    # ------------------------------------------------------------------ messages

    async def _receive_loop(self) -> None:
        self._last_message_at = time.perf_counter()
        self._watch_idle()
        while True:
            data = await self.websocket.recv()
            now = self._last_message_at = time.perf_counter()
            self.metrics.received_bytes_total.inc(len(data))
            if isinstance(data, str):
                self._text_received.inc()
                message = self.protocol.receive_text(data, now)
                await self._flush_protocol()
                if message is not None:
                    if not isinstance(message, Ping):
                        self._last_activity_at = now
                    await self._dispatch(message, now)
            else:
                self._last_activity_at = now
                self._binary_received.inc()
                frame = self.protocol.receive_binary(data, now)
                await self._flush_protocol()
                if frame is not None:
                    await self._on_frame(frame, now)

    def _watch_idle(self) -> None:
        """Close the session once no message has come for ``idle_timeout_s``, or nothing but
        pings for ``ping_only_timeout_s``.

        One timer per connection, set again for the rest of the time when it finds a newer
        message (the receive loop only notes when each message came: a timeout around every
        ``recv`` would cost more per message than the rest of the loop).
        """
        now = time.perf_counter()
        idle_s = self.config.idle_timeout_s
        left_s = idle_s - (now - self._last_message_at)
        reason = f"no message for {idle_s:g} s"
        ping_only_s = self.config.ping_only_timeout_s
        if ping_only_s > 0 and ping_only_s - (now - self._last_activity_at) < left_s:
            left_s = ping_only_s - (now - self._last_activity_at)
            reason = f"nothing but pings for {ping_only_s:g} s (ping_only_timeout_s)"
        if left_s > 0:
            self._idle_timer = asyncio.get_running_loop().call_later(left_s, self._watch_idle)
            return
        self._idle_timer = None
        self._spawn(self._close_idle(reason), name=f"idle-{self.session_id}")

    async def _close_idle(self, reason: str) -> None:
        with contextlib.suppress(ConnectionClosed, _ClosedError):
            # Not draining: the receive loop still reads, and ends when the close completes.
            await self._close_with(ErrorCode.IDLE_TIMEOUT, reason, draining=False)

    async def _on_frame(self, frame: Frame, received_at: float) -> None:
        if self._frame_handler is not None:
            await self._frame_handler.on_frame(frame, received_at)
            return
        service = self.services.frame_service
        if service is None:
            message = "this server takes no frames"
        else:
            message = f"frames sent but {service.name!r} not in hello.services"
        await self._send_frame_error(ProtocolError(ErrorCode.SERVICE_NOT_REQUESTED, message, seq=frame.seq))

    async def _dispatch(self, message: Message, received_at: float) -> None:
        session = self.session
        assert session is not None and self.requests is not None
        if isinstance(message, Ping):
            await self._send(Pong(id=message.id, t=message.t, server_time=time.time()))
            return
        if isinstance(message, Events):
            session.events.extend(message.events)
            return
        if isinstance(message, MatchResult):
            session.record_match(
                message.outcome, message.npc_id, message.player_score, message.npc_score, message.duration_s
            )
            return
        service = self.services.owner(message.TYPE)
        if service is None:  # Hello is refused by the protocol once open
            raise AssertionError(f"unhandled message {message!r}")
        request_id = getattr(message, "id", None)
        handler = self.handlers.get(service.name)
        if handler is None:
            await self.requests.refuse_unrequested(request_id, service.name)
            return
        if type(message) in service.request_types:
            await self.requests.start(message, handler, received_at)
            return
        try:
            job = handler.handle(message, received_at)
        except RequestRefusedError as refused:
            await self.requests.refuse(request_id, refused.code, refused.message)
            return
        if job is not None:
            self._spawn(job, name=f"{message.TYPE}-{self.session_id}")

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str | None = None) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
