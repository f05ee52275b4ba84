"""The gameai server: a websockets server, one :class:`ConnectionHandler` task per connection.

Calling order::

    services = load_services(runtime_config, metrics)         # blocking, before the loop serves
    server = GameAIServer(config, services, metrics)
    await server.start()                                      # binds; server.port is the real port
    await server.serve_until_signal()                         # SIGINT/SIGTERM -> shutdown()

The same port answers plain HTTP ``GET /metrics`` (Prometheus text format; where a token is
required, only with ``Authorization: Bearer TOKEN``) and ``GET /healthz`` (JSON: status, models,
sessions) when ``config.http`` is on; every other path is a websocket endpoint. Any request
whose ``Origin`` is not allowed (:class:`~gameai.server.access.OriginPolicy`) is refused with
403 before anything else; allowed pages get CORS headers on the HTTP endpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import json
import logging
import signal
from collections.abc import Callable
from http import HTTPStatus

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from gameai.event_loops import running_event_loop_name
from gameai.observability.metrics import ServiceMetrics
from gameai.protocol.frames import HEADER_SIZE
from gameai.server.access import OriginPolicy, TokenFailures, token_matches
from gameai.server.config import ServerConfig
from gameai.server.connection import ConnectionHandler
from gameai.services.registry import ServiceRegistry
from gameai.session.difficulty import AdaptiveDifficulty, DifficultyController, FixedDifficulty
from gameai.session.state import Session

logger = logging.getLogger(__name__)

DifficultyFactory = Callable[[Session], DifficultyController]
"""Makes the difficulty controller of a new session (the pluggable difficulty hook)."""


class GameAIServer:
    """Serves many games at once over websockets (see the module docstring).

    Args:
        config: Network, security and limits.
        services: The services and their loaded models (started by :meth:`start`, stopped by
            :meth:`shutdown`); :func:`gameai.services.builtin.load_services` makes the built-in ones.
        metrics: Where everything is counted.
        difficulty_factory: Makes each session's difficulty controller; default: per
            ``config.difficulty_control``, an :class:`~gameai.session.difficulty.AdaptiveDifficulty`
            (or a :class:`~gameai.session.difficulty.FixedDifficulty`) at ``config.default_difficulty``.
    """

    def __init__(
        self,
        config: ServerConfig,
        services: ServiceRegistry,
        metrics: ServiceMetrics | None = None,
        difficulty_factory: DifficultyFactory | None = None,
    ) -> None:
        self.config = config
        self.services = services
        self.metrics = metrics or ServiceMetrics()
        self.sessions: dict[str, ConnectionHandler] = {}
        self.shutting_down = False
        self.origins = OriginPolicy(config.allowed_origins)
        self.token_failures = TokenFailures(config.token_max_failures, config.token_lockout_s)
        """Wrong tokens per client address (shared by every connection)."""
        self._difficulty_factory = difficulty_factory
        self._server: Server | None = None
        self._port: int | None = None
        self._stopped = asyncio.Event()

    def make_difficulty_controller(self, session: Session) -> DifficultyController:
        """The difficulty controller of a new session."""
        if self._difficulty_factory is not None:
            return self._difficulty_factory(session)
        if self.config.difficulty_control == "fixed":
            return FixedDifficulty(self.config.default_difficulty)
        return AdaptiveDifficulty(start=self.config.default_difficulty, target=self.config.difficulty_target)

    @property
    def port(self) -> int:
        """The port actually bound (useful with ``port=0``)."""
        if self._port is None:
            raise RuntimeError("server not started")
        return self._port

    @property
    def url(self) -> str:
        """The websocket URL clients connect to."""
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"ws://{host}:{self.port}/"

    async def start(self) -> None:
        """Start the services' workers and bind the socket."""
        self.services.start()
        max_size = max(self.config.max_message_bytes, HEADER_SIZE + self.config.max_frame_bytes) + 1024
        keepalive = self.config.keepalive_s or None
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            compression=None,  # frames are raw pixels; deflate would cost more than it saves
            max_size=max_size,
            ping_interval=keepalive,
            ping_timeout=keepalive,
            logger=logging.getLogger("gameai.server.websockets"),
        )
        self._port = self._server.sockets[0].getsockname()[1]
        logger.info(
            "serving on %s (token %s, %d models ready, %s event loop)",
            self.url,
            "required" if self.config.token_required else "not required",
            sum(info.status == "ready" for info in self.services.models.values()),
            running_event_loop_name(),
        )

    async def _handle(self, websocket: ServerConnection) -> None:
        await ConnectionHandler(self, websocket).run()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        origin = request.headers.get("Origin")
        if not self.origins.allows(origin):
            self.metrics.connections_total.labels("refused").inc()
            logger.warning(
                "refused a request from browser origin %r (allowed: %s; see --allowed-origins)",
                origin[:100] if origin else origin,
                ", ".join(sorted(self.origins.allowed)) or "none",
            )
            return _http_response(HTTPStatus.FORBIDDEN, "text/plain", b"origin not allowed\n")
        if not self.config.http:
            return None
        path = request.path.split("?", 1)[0]
        cors = self.origins.cors_headers(origin)
        if path == "/metrics":
            if self.config.token_required and not self._bearer_token_ok(request):
                return _http_response(
                    HTTPStatus.UNAUTHORIZED,
                    "text/plain",
                    b"/metrics needs Authorization: Bearer TOKEN\n",
                    cors,
                )
            return _http_response(HTTPStatus.OK, self.metrics.content_type, self.metrics.render(), cors)
        if path == "/healthz":
            return self._health_response(cors)
        return None

    def _bearer_token_ok(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and token_matches(token.strip(), self.config.tokens)

    def _health_response(self, cors: list[tuple[str, str]]) -> Response:
        models = self.services.models
        ready = all(info.status == "ready" for info in models.values())
        status = "shutting_down" if self.shutting_down else ("ok" if ready else "degraded")
        body = {
            "status": status,
            "sessions": len(self.sessions),
            "models": {key: info.status for key, info in models.items()},
        }
        code = HTTPStatus.SERVICE_UNAVAILABLE if self.shutting_down else HTTPStatus.OK
        return _http_response(code, "application/json", (json.dumps(body) + "\n").encode(), cors)

    async def shutdown(self) -> None:
        """Stop accepting connections, close every session gracefully, stop the workers.

        Sessions get ``config.shutdown_grace_s`` for actions in flight; dialogue replies
        are cancelled; every client gets a ``shutting_down`` error and close code 1001.
        Idempotent.
        """
        if self.shutting_down:
            await self._stopped.wait()
            return
        self.shutting_down = True
        logger.info("shutting down: %d sessions", len(self.sessions))
        if self._server is not None:
            self._server.close(close_connections=False)
        handlers = list(self.sessions.values())
        if handlers:
            await asyncio.gather(
                *(handler.shutdown(self.config.shutdown_grace_s) for handler in handlers),
                return_exceptions=True,
            )
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.shutdown_grace_s + 5.0):
                    await self._server.wait_closed()
        await self.services.stop()
        logger.info("shut down")
        self._stopped.set()

    async def wait_stopped(self) -> None:
        """Return once :meth:`shutdown` has finished."""
        await self._stopped.wait()

    async def serve_until_signal(self) -> None:
        """Serve until SIGINT or SIGTERM, then shut down gracefully."""
        loop = asyncio.get_running_loop()
        installed = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, self._on_signal, signum)
                installed.append(signum)
        try:
            await self._stopped.wait()
        finally:
            for signum in installed:
                loop.remove_signal_handler(signum)

    def _on_signal(self, signum: int) -> None:
        logger.info("received %s", signal.Signals(signum).name)
        if not self.shutting_down:
            asyncio.get_running_loop().create_task(self.shutdown())


def _http_response(
    status: HTTPStatus, content_type: str, body: bytes, extra_headers: list[tuple[str, str]] | None = None
) -> Response:
    """A plain HTTP response (the connection closes after it)."""
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            *(extra_headers or []),
        ]
    )
    return Response(status.value, status.phrase, headers, body)
