"""A service of a test's own, registered from here, served end to end by the real server.

Nothing in ``gameai.server`` knows this service: it is one class and its message types,
registered before the server starts.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.request import urlopen

import pytest
from websockets.asyncio.client import ClientConnection, connect

from gameai.protocol.errors import ErrorCode
from gameai.protocol.fields import constrained
from gameai.protocol.messages import DialogueRequest, Message, ModelInfo, Ping
from gameai.server.config import ServerConfig
from gameai.services.base import (
    RequestJob,
    RequestRefusedError,
    Service,
    SessionContext,
    SessionService,
)
from gameai.services.behaviour import BehaviourService
from gameai.services.builtin import load_services
from gameai.services.registry import ServiceRegistry
from gameai.testing.servers import running_server, runtime_config_for


@dataclass(frozen=True, kw_only=True)
class EchoRequest(Message):
    """Ask the echo service to shout a text back."""

    TYPE: ClassVar[str] = "echo.request"
    id: str = constrained(min_length=1, max_length=64)
    text: str = constrained(max_length=100)
    delay_s: float = constrained(0.0, minimum=0.0, maximum=5.0)


@dataclass(frozen=True, kw_only=True)
class EchoReply(Message):
    """The echo."""

    TYPE: ClassVar[str] = "echo.reply"
    id: str
    text: str
    npc_memories: int


class EchoService(Service):
    """Shouts every text back; 'boom' is a bug, '' is refused."""

    name: ClassVar[str] = "echo"
    message_types: ClassVar[tuple[type[Message], ...]] = (EchoRequest,)
    request_types: ClassVar[tuple[type[Message], ...]] = (EchoRequest,)

    def __init__(self) -> None:
        self.started = False
        self.stopped = False
        self.sessions_closed = 0

    def models(self) -> Mapping[str, ModelInfo]:
        return {"echo": ModelInfo(service="echo", status="ready", name="echo", version="1")}

    def open_session(self, context: SessionContext) -> SessionService:
        return EchoSession(self, context)

    def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True


class EchoSession(SessionService):
    def __init__(self, service: EchoService, context: SessionContext) -> None:
        self.service = service
        self.context = context

    def handle(self, message: Message, received_at: float) -> RequestJob | None:
        assert isinstance(message, EchoRequest)
        if not message.text:
            raise RequestRefusedError(ErrorCode.OUT_OF_RANGE, "echo.request.text: say something")
        return self._reply(message)

    async def _reply(self, request: EchoRequest) -> None:
        await asyncio.sleep(request.delay_s)
        if request.text == "boom":
            raise RuntimeError("the echo service has a bug")
        memories = len(self.context.session.memory.history("anyone"))
        await self.context.send(EchoReply(id=request.id, text=request.text.upper(), npc_memories=memories))

    async def close(self) -> None:
        self.service.sessions_closed += 1


@pytest.fixture
def services(assets: Path) -> tuple[ServiceRegistry, EchoService]:
    registry = load_services(runtime_config_for(assets, dialogue_model=""))
    echo = EchoService()
    registry.register(echo)
    return registry, echo


async def _hello(url: str, services: list[str]) -> tuple[ClientConnection, dict[str, Any]]:
    websocket = await connect(url)
    await websocket.send(json.dumps({"type": "hello", "protocol": 1, "game_id": "g", "services": services}))
    return websocket, json.loads(await websocket.recv())


async def _ask(websocket: ClientConnection, message: dict[str, Any]) -> dict[str, Any]:
    await websocket.send(json.dumps(message))
    async with asyncio.timeout(10):
        return json.loads(await websocket.recv())


async def test_a_registered_service_is_served_end_to_end(
    services: tuple[ServiceRegistry, EchoService],
) -> None:
    registry, echo = services
    async with running_server(ServerConfig(port=0), services=registry) as server:
        assert echo.started
        websocket, welcome = await _hello(server.url, ["echo", "agents"])
        assert welcome["type"] == "welcome" and welcome["services"] == ["echo", "agents"]
        echo_model = {"service": "echo", "status": "ready", "name": "echo", "version": "1"}
        assert welcome["models"]["echo"] == {**echo_model, "random_init": False}
        assert welcome["agents"]  # the built-in services are there too

        reply = await _ask(websocket, {"type": "echo.request", "id": "a", "text": "hi"})
        assert reply == {"type": "echo.reply", "id": "a", "text": "HI", "npc_memories": 0}
        # Validation comes from the message class, through the protocol's one parser.
        missing = await _ask(websocket, {"type": "echo.request", "id": "b"})
        assert (missing["code"], missing["id"]) == ("missing_field", "b")
        # A refusal and a bug become typed errors for that request; the session goes on.
        refused = await _ask(websocket, {"type": "echo.request", "id": "c", "text": ""})
        assert (refused["code"], refused["id"]) == ("out_of_range", "c")
        failed = await _ask(websocket, {"type": "echo.request", "id": "d", "text": "boom"})
        assert (failed["code"], failed["id"]) == ("internal_error", "d")
        # The request tracker applies to it like to any request.
        await websocket.send(json.dumps({"type": "echo.request", "id": "e", "text": "slow", "delay_s": 0.5}))
        duplicate = await _ask(websocket, {"type": "echo.request", "id": "e", "text": "again"})
        assert (duplicate["code"], duplicate["id"]) == ("duplicate_id", "e")
        async with asyncio.timeout(10):
            slow = json.loads(await websocket.recv())
        assert slow == {"type": "echo.reply", "id": "e", "text": "SLOW", "npc_memories": 0}
        # A service of the server the session did not ask for.
        unasked = await _ask(
            websocket, {"type": "dialogue.request", "id": "f", "npc_id": "n", "persona": "p"}
        )
        assert (unasked["code"], unasked["id"]) == ("service_not_requested", "f")

        health_url = server.url.replace("ws://", "http://") + "healthz"
        health = json.loads(await asyncio.to_thread(lambda: urlopen(health_url).read()))
        assert health["models"]["echo"] == "ready"
        await websocket.close()
        async with asyncio.timeout(5):
            while server.sessions:
                await asyncio.sleep(0.01)
        assert echo.sessions_closed == 1

        # A session that does not ask for it cannot use it.
        websocket, welcome = await _hello(server.url, ["agents"])
        refused = await _ask(websocket, {"type": "echo.request", "id": "g", "text": "hi"})
        assert (refused["code"], refused["id"]) == ("service_not_requested", "g")
        await websocket.close()
    assert echo.stopped


async def test_a_server_without_the_service_refuses_the_hello(assets: Path) -> None:
    registry = load_services(runtime_config_for(assets, dialogue_model=""))
    async with running_server(ServerConfig(port=0), services=registry) as server:
        websocket, error = await _hello(server.url, ["echo"])
        assert error["code"] == "bad_hello" and "unknown service 'echo'" in error["message"]
        await websocket.wait_closed()
        assert websocket.close_code == 4002


def test_the_registry_refuses_clashes(services: tuple[ServiceRegistry, EchoService]) -> None:
    registry, _ = services
    assert registry.names == ("behaviour", "dialogue", "agents", "echo")
    assert registry.owner("echo.request") is registry["echo"] and registry.owner("ping") is None
    assert registry.client_messages["echo.request"] is EchoRequest

    class SecondEcho(EchoService):
        name: ClassVar[str] = "echo2"

    class PingThief(Service):
        name: ClassVar[str] = "thief"
        message_types: ClassVar[tuple[type[Message], ...]] = (Ping,)

    class DialogueThief(Service):
        name: ClassVar[str] = "thief"
        message_types: ClassVar[tuple[type[Message], ...]] = (DialogueRequest,)

    class UndeclaredRequest(Service):
        name: ClassVar[str] = "odd"
        request_types: ClassVar[tuple[type[Message], ...]] = (EchoRequest,)

    class MoreFrames(Service):
        name: ClassVar[str] = "eyes"
        takes_frames: ClassVar[bool] = True

    for service, complaint in [
        (EchoService(), "registered already"),
        (SecondEcho(), "handled by 'echo' already"),
        (PingThief(), "core message type"),
        (DialogueThief(), "handled by 'dialogue' already"),
        (UndeclaredRequest(), "not in its message_types"),
        (MoreFrames(), "frames go to 'behaviour' already"),
    ]:
        with pytest.raises(ValueError, match=complaint):
            registry.register(service)
    assert registry.names == ("behaviour", "dialogue", "agents", "echo")
    assert registry.get(BehaviourService) is registry["behaviour"]
