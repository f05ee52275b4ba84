"""A session's requests in flight: dialogue replies streamed back and agent actions.

Each accepted request runs as its own task. Whatever happens to it (a refusal, a busy
model, a bug) ends as one typed ``error`` for that request id; the session goes on.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import numpy as np

from gameai.dialogue.types import DialogueTurn
from gameai.observability.metrics import ServiceMetrics
from gameai.protocol.errors import ErrorCode
from gameai.protocol.messages import Act, Action, DialogueDelta, DialogueDone, DialogueRequest, Error, Message
from gameai.runtime.batching import OverloadedError, WorkerStoppedError
from gameai.runtime.dialogue import DialogueStream
from gameai.runtime.models import ActRequest
from gameai.runtime.runtime import ModelRuntime
from gameai.server.config import ServerConfig
from gameai.server.dialogue_requests import build_dialogue_context, generation_params
from gameai.session.state import Session

logger = logging.getLogger(__name__)

SendMessage = Callable[[Message], Awaitable[None]]


class RequestRefusedError(Exception):
    """A request cannot be served; becomes an ``error`` with this code for its id."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SessionRequests:
    """Starts, tracks, cancels and answers one session's ``dialogue.request`` and ``act`` messages.

    Args:
        session: The session (services, memory, difficulty, latest behaviour).
        runtime: The models.
        config: Limits (in-flight requests, token budget).
        metrics: Service metrics.
        send: Sends a message to the client (never raises once the connection is closed).
    """

    def __init__(
        self,
        session: Session,
        runtime: ModelRuntime,
        config: ServerConfig,
        metrics: ServiceMetrics,
        send: SendMessage,
    ) -> None:
        self.session = session
        self.runtime = runtime
        self.config = config
        self.metrics = metrics
        self._send = send
        self.inflight: dict[str, asyncio.Task[None]] = {}
        """Tasks of the requests in flight, by request id."""
        self.dialogues: dict[str, tuple[DialogueStream, ...]] = {}
        """Dialogue streams in flight (one per alternative), by request id."""
        self.closing = False
        """Set at shutdown: new requests are refused."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self, request: DialogueRequest | Act, received_at: float) -> None:
        """Accept a request and start answering it, or refuse it with an error at once."""
        if self.closing:
            await self._send(
                Error(
                    code=ErrorCode.SHUTTING_DOWN,
                    message="the server is shutting down",
                    id=request.id,
                    fatal=True,
                )
            )
            return
        if request.id in self.inflight:
            await self._refuse(request.id, ErrorCode.DUPLICATE_ID, "a request with this id is in flight")
            return
        if len(self.inflight) >= self.config.max_inflight_requests:
            await self._refuse(
                request.id,
                ErrorCode.OVERLOADED,
                f"{len(self.inflight)} requests in flight (max_inflight_requests)",
            )
            return
        try:
            if isinstance(request, DialogueRequest):
                job = self._start_dialogue(request, received_at)
            else:
                job = self._start_act(request, received_at)
        except RequestRefusedError as refused:
            await self._refuse(request.id, refused.code, refused.message)
            return
        self.inflight[request.id] = asyncio.create_task(
            self._answer(request.id, job), name=f"{request.TYPE}-{request.id}"
        )

    async def cancel_dialogue(self, request_id: str) -> None:
        """Cancel a dialogue in flight (its ``dialogue.done`` says ``cancelled``)."""
        streams = self.dialogues.get(request_id)
        if streams is None:
            await self._refuse(request_id, ErrorCode.UNKNOWN_REQUEST, "no dialogue in flight with this id")
        else:
            for stream in streams:
                stream.cancel()

    async def drain(self, timeout_s: float) -> None:
        """For a shutdown: refuse new requests, cancel dialogues, give the rest ``timeout_s`` to finish."""
        self.closing = True
        self._cancel_dialogues()
        pending = [task for task in self.inflight.values() if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)

    async def abort(self) -> None:
        """For a closed connection: cancel everything still running."""
        self._cancel_dialogues()
        tasks = list(self.inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def _cancel_dialogues(self) -> None:
        for streams in self.dialogues.values():
            for stream in streams:
                stream.cancel()

    async def _refuse(self, request_id: str | None, code: ErrorCode, message: str) -> None:
        await self._send(Error(code=code, message=message, id=request_id))

    async def _answer(self, request_id: str, job: Coroutine[Any, Any, None]) -> None:
        """Run a request; any failure becomes a typed error for that request only."""
        try:
            await job
        except RequestRefusedError as refused:
            await self._refuse(request_id, refused.code, refused.message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.error("request %s failed", request_id, exc_info=True, extra={"request_id": request_id})
            await self._refuse(request_id, ErrorCode.INTERNAL_ERROR, "the server failed on this request")
        finally:
            self.inflight.pop(request_id, None)

    def _require(self, service: str) -> None:
        if service not in self.session.hello.services:
            raise RequestRefusedError(ErrorCode.SERVICE_NOT_REQUESTED, f"{service!r} not in hello.services")

    # ------------------------------------------------------------------ dialogue

    def _start_dialogue(self, request: DialogueRequest, received_at: float) -> Coroutine[Any, Any, None]:
        self._require("dialogue")
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
        context = build_dialogue_context(request, self.session)
        streams: list[DialogueStream] = []
        try:
            for alternative in range(request.n):
                params = generation_params(request, self.config.default_max_new_tokens, alternative)
                streams.append(worker.submit(context, params, self.session.session_id))
        except (OverloadedError, WorkerStoppedError) as exc:
            for stream in streams:
                stream.cancel()
            if isinstance(exc, WorkerStoppedError):
                raise RequestRefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down") from None
            raise RequestRefusedError(ErrorCode.OVERLOADED, f"dialogue model busy: {exc}") from None
        self.dialogues[request.id] = tuple(streams)
        return self._stream_dialogue(request, tuple(streams), received_at)

    async def _stream_dialogue(
        self, request: DialogueRequest, streams: tuple[DialogueStream, ...], received_at: float
    ) -> None:
        """Stream every alternative at once; each ends with its own ``dialogue.done``.

        A failing alternative cancels the others and the request ends in one ``error``.
        The NPC remembers alternative 0's reply (unless cancelled).
        """
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        self._stream_alternative(
                            request, index if request.n > 1 else None, stream, received_at
                        )
                    )
                    for index, stream in enumerate(streams)
                ]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the backend's error, as for a single reply
        finally:
            self.dialogues.pop(request.id, None)
            for stream in streams:
                if not stream.finished_at:
                    stream.cancel()
        first = tasks[0].result()
        if first.finish_reason != "cancelled":
            self.session.memory.remember(request.npc_id, DialogueTurn(request.player_line, first.text))

    async def _stream_alternative(
        self, request: DialogueRequest, alternative: int | None, stream: DialogueStream, received_at: float
    ) -> DialogueDone:
        """Forward one reply's deltas, then send and return its ``dialogue.done``."""
        pieces: list[str] = []
        async for piece in stream:
            if piece.text:
                delta = DialogueDelta(
                    id=request.id, index=len(pieces), text=piece.text, alternative=alternative
                )
                await self._send(delta)
                pieces.append(piece.text)
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
        done = DialogueDone(
            id=request.id,
            text="".join(pieces),
            tokens=stream.tokens,
            finish_reason=finish,  # type: ignore[arg-type]
            first_token_ms=round(first, 3) if first is not None else None,
            duration_ms=round(duration * 1000.0, 3),
            tokens_per_s=round(stream.tokens / generation_time, 2) if generation_time > 0 else 0.0,
            alternative=alternative,
        )
        await self._send(done)
        self.metrics.request_latency_seconds.labels("dialogue").observe(duration)
        return done

    # ------------------------------------------------------------------ agents

    def _start_act(self, request: Act, received_at: float) -> Coroutine[Any, Any, None]:
        self._require("agents")
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
        difficulty = request.difficulty
        if difficulty is None:
            difficulty = self.session.difficulty.difficulty(request.npc_id)
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
