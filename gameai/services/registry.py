"""The services one server offers, by name, and which one owns each client message type.

:func:`gameai.services.builtin.load_services` makes the registry of the built-in services
(behaviour, dialogue, agents) from a :class:`~gameai.runtime.config.RuntimeConfig`; anything
that embeds the server can :meth:`~ServiceRegistry.register` more before it starts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from gameai.protocol.messages import CORE_CLIENT_MESSAGES, GameModelsInfo, Hello, Message, ModelInfo
from gameai.services.base import Service
from gameai.services.game_models import GameModels, ServedGames

logger = logging.getLogger(__name__)

ServiceT = TypeVar("ServiceT", bound=Service)


class ServiceRegistry:
    """The services of a server (see the module docstring).

    Args:
        services: Services to register, in order.
        games: The games the services serve models for (``welcome.game``; default: none, every
            session gets the one set of models).

    Raises:
        ValueError: From :meth:`register`.
    """

    def __init__(self, services: Iterable[Service] = (), games: ServedGames | None = None) -> None:
        self.games = games if games is not None else ServedGames(GameModels(None))
        self._services: dict[str, Service] = {}
        self._owners: dict[str, Service] = {}
        for service in services:
            self.register(service)

    def register(self, service: Service) -> None:
        """Add a service.

        Raises:
            ValueError: If its name is empty or taken, one of its message types is a core
                type or another service's, a request type is not among its message types,
                or a second service takes frames.
        """
        name = service.name
        if not name or len(name) > 32:
            raise ValueError(f"a service needs a name of 1 to 32 characters, got {name!r}")
        if name in self._services:
            raise ValueError(f"a service named {name!r} is registered already")
        for cls in service.message_types:
            if cls.TYPE in CORE_CLIENT_MESSAGES:
                raise ValueError(f"service {name!r}: {cls.TYPE!r} is a core message type")
            if cls.TYPE in self._owners:
                raise ValueError(
                    f"service {name!r}: {cls.TYPE!r} is handled by {self._owners[cls.TYPE].name!r} already"
                )
        for cls in service.request_types:
            if cls not in service.message_types:
                raise ValueError(f"service {name!r}: request type {cls.TYPE!r} is not in its message_types")
        if service.takes_frames and self.frame_service is not None:
            raise ValueError(f"service {name!r}: frames go to {self.frame_service.name!r} already")
        self._services[name] = service
        for cls in service.message_types:
            self._owners[cls.TYPE] = service

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

    def __contains__(self, name: object) -> bool:
        return name in self._services

    def __getitem__(self, name: str) -> Service:
        """The service of this name.

        Raises:
            KeyError: If none is registered.
        """
        return self._services[name]

    @property
    def names(self) -> tuple[str, ...]:
        """The names clients may put in ``hello.services``, in registration order."""
        return tuple(self._services)

    def get(self, kind: type[ServiceT]) -> ServiceT:
        """The registered service of this class.

        Raises:
            KeyError: If none is registered.
        """
        for service in self._services.values():
            if isinstance(service, kind):
                return service
        raise KeyError(f"no {kind.__name__} registered")

    def owner(self, message_type: str) -> Service | None:
        """The service that handles client messages of this ``type`` (None: a core type)."""
        return self._owners.get(message_type)

    @property
    def frame_service(self) -> Service | None:
        """The service that takes frames, if any."""
        return next((service for service in self._services.values() if service.takes_frames), None)

    @property
    def client_messages(self) -> dict[str, type[Message]]:
        """Every client message type this server parses: the core ones and the services'."""
        return {
            **CORE_CLIENT_MESSAGES,
            **{cls.TYPE: cls for service in self for cls in service.message_types},
        }

    @property
    def models(self) -> dict[str, ModelInfo]:
        """Every service's models, every game's, by key (``/healthz``, metrics)."""
        return {key: info for service in self for key, info in service.models().items()}

    def session_models(self, hello: Hello) -> dict[str, ModelInfo]:
        """The models a session of this hello gets, by key (``welcome.models``)."""
        return {key: info for service in self for key, info in service.session_models(hello).items()}

    def welcome_fields(self, hello: Hello) -> dict[str, Any]:
        """What the services add to the ``welcome`` of a session of this hello."""
        return {key: value for service in self for key, value in service.welcome_fields(hello).items()}

    def game_of(self, hello: Hello) -> GameModelsInfo:
        """Whose models a session of this hello gets (``welcome.game``)."""
        return GameModelsInfo(
            game_id=hello.game_id,
            models_game=self.games.models_game(hello.game_id),
            default_game=self.games.default_game,
        )

    def start(self) -> None:
        """Start every service's workers (on the event loop)."""
        for service in self:
            service.start()

    async def stop(self) -> None:
        """Stop every service; one that fails to stop is logged and the others still stop."""
        results = await asyncio.gather(*(service.stop() for service in self), return_exceptions=True)
        for service, result in zip(self, results, strict=True):
            if isinstance(result, BaseException):
                logger.error("service %s failed to stop", service.name, exc_info=result)
