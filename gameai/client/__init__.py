"""Clients of the gameai service.

* :mod:`~gameai.client.async_client`: :class:`GameAIClient`, an asyncio client.
* :mod:`~gameai.client.threaded`: :class:`ThreadedGameAIClient`, for game loops that must never block
  (reconnects with backoff, reports connected/offline and round-trip time).
* :mod:`~gameai.client.pygame_plugin`: :class:`GameAIPlugin`, capture + results for pygame games.
* :mod:`~gameai.client.frames`: :func:`downscale_frame`, the one downscale shared with training.

Importing this package does not import pygame.
"""

from gameai.client.async_client import (
    ClientConfig,
    ConnectionLostError,
    DialogueStream,
    GameAIClient,
    HelloRefusedError,
    RequestTimeoutError,
    ServerError,
)
from gameai.client.frames import downscale_frame
from gameai.client.threaded import (
    ConnectionChanged,
    ConnectionState,
    ReconnectPolicy,
    RequestLost,
    ThreadedGameAIClient,
)

__all__ = [
    "ClientConfig",
    "ConnectionChanged",
    "ConnectionLostError",
    "ConnectionState",
    "DialogueStream",
    "GameAIClient",
    "HelloRefusedError",
    "ReconnectPolicy",
    "RequestLost",
    "RequestTimeoutError",
    "ServerError",
    "ThreadedGameAIClient",
    "downscale_frame",
]
