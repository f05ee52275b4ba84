"""A session's requests in flight, whatever service answers them.

Each accepted request runs as its own task under its ``id``. Whatever happens to it (a
refusal, a busy model, a bug) ends as one typed ``error`` for that id; the session goes on.
"""

from __future__ import annotations

import asyncio
import logging

from gameai.protocol.errors import ErrorCode
from gameai.protocol.messages import Error, Message
from gameai.services.base import RequestJob, RequestRefusedError, SendMessage, SessionService

logger = logging.getLogger(__name__)


class RequestTracker:
    """Starts, tracks and ends one session's requests.

    Args:
        send: Sends a message to the client.
        max_inflight: Requests that may be in flight at once (more: ``overloaded``).
    """

    def __init__(self, send: SendMessage, max_inflight: int) -> None:
        self._send = send
        self.max_inflight = max_inflight
        self.inflight: dict[str, asyncio.Task[None]] = {}
        """Tasks of the requests in flight, by request id."""
        self.closing = False
        """Set at shutdown: new requests are refused."""

    async def start(self, request: Message, handler: SessionService, received_at: float) -> None:
        """Accept a request and start answering it, or refuse it with an error at once.

        Args:
            request: A message with an ``id`` of one of the handler's service's request types.
            handler: The session's part of the service that answers it.
            received_at: When it arrived (monotonic seconds).
        """
        request_id: str = getattr(request, "id")  # noqa: B009 (every request type has one)
        if await self._refused_for_shutdown(request_id):
            return
        if request_id in self.inflight:
            await self.refuse(request_id, ErrorCode.DUPLICATE_ID, "a request with this id is in flight")
            return
        if len(self.inflight) >= self.max_inflight:
            await self.refuse(
                request_id,
                ErrorCode.OVERLOADED,
                f"{len(self.inflight)} requests in flight (max_inflight_requests)",
            )
            return
        try:
            job = handler.handle(request, received_at)
        except RequestRefusedError as refused:
            await self.refuse(request_id, refused.code, refused.message)
            return
        if job is None:
            return
        self.inflight[request_id] = asyncio.create_task(
            self._answer(request_id, job), name=f"{request.TYPE}-{request_id}"
        )

    async def refuse(self, request_id: str | None, code: ErrorCode, message: str) -> None:
        """Send an ``error`` for one request."""
        await self._send(Error(code=code, message=message, id=request_id))

    async def refuse_unrequested(self, request_id: str | None, service: str) -> None:
        """Refuse a message for a service the session did not ask for (at shutdown: ``shutting_down``)."""
        if not await self._refused_for_shutdown(request_id):
            await self.refuse(
                request_id, ErrorCode.SERVICE_NOT_REQUESTED, f"{service!r} not in hello.services"
            )

    async def _refused_for_shutdown(self, request_id: str | None) -> bool:
        """While closing, refuse with a fatal ``shutting_down`` and return True."""
        if not self.closing:
            return False
        error = Error(
            code=ErrorCode.SHUTTING_DOWN, message="the server is shutting down", id=request_id, fatal=True
        )
        await self._send(error)
        return True

    async def wait(self, timeout_s: float) -> None:
        """Refuse new requests and give those in flight ``timeout_s`` to finish (for a shutdown)."""
        self.closing = True
        pending = [task for task in self.inflight.values() if not task.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout_s)

    async def abort(self) -> None:
        """For a closed connection: cancel everything still running."""
        tasks = list(self.inflight.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _answer(self, request_id: str, job: RequestJob) -> None:
        """Run a request; any failure becomes a typed error for that request only."""
        try:
            await job
        except RequestRefusedError as refused:
            await self.refuse(request_id, refused.code, refused.message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.error("request %s failed", request_id, exc_info=True, extra={"request_id": request_id})
            await self.refuse(request_id, ErrorCode.INTERNAL_ERROR, "the server failed on this request")
        finally:
            self.inflight.pop(request_id, None)
