"""Real gameai servers for tests and benchmarks, on free loopback ports.

* :func:`running_server`: an async context manager serving on the caller's event loop.
* :class:`ServerThread`: a server on its own event loop in a background thread (for
  synchronous callers such as the thread-backed client's tests).
* :class:`~gameai.server.process.ServerProcess` (re-exported): ``gameai serve`` in a child
  process (what the load test, the benchmark and ``gameai demo`` use).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from gameai.event_loops import new_event_loop
from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.config import RuntimeConfig
from gameai.server.app import DifficultyFactory, GameAIServer
from gameai.server.config import ServerConfig
from gameai.server.process import ServerProcess, free_port
from gameai.services.builtin import load_services
from gameai.services.registry import ServiceRegistry

__all__ = [
    "ServerProcess",
    "ServerThread",
    "free_port",
    "running_server",
    "runtime_config_for",
    "write_test_assets",
]


@contextlib.asynccontextmanager
async def running_server(
    config: ServerConfig,
    runtime_config: RuntimeConfig | None = None,
    services: ServiceRegistry | None = None,
    difficulty_factory: DifficultyFactory | None = None,
) -> AsyncIterator[GameAIServer]:
    """Serve on the current event loop for the duration of the block, then shut down.

    Args:
        config: Server config (use ``port=0`` for a free port; ``server.url`` tells which).
        runtime_config: Models of the built-in services to load (ignored when ``services`` is given).
        services: Already loaded services (not yet started), e.g. with one of a test's own.
        difficulty_factory: The sessions' difficulty controllers.
    """
    metrics = ServiceMetrics()
    if services is None:
        services = await asyncio.to_thread(load_services, runtime_config or RuntimeConfig(), metrics)
    server = GameAIServer(config, services, metrics, difficulty_factory)
    await server.start()
    try:
        yield server
    finally:
        await server.shutdown()


class ServerThread:
    """A server on its own event loop in a daemon thread.

    Args:
        config: Server config (``port=0`` for a free port).
        runtime_config: Models to load.
    """

    def __init__(self, config: ServerConfig, runtime_config: RuntimeConfig) -> None:
        self.config = config
        self.runtime_config = runtime_config
        self.server: GameAIServer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        """The websocket URL."""
        assert self.server is not None
        return self.server.url

    def start(self, timeout_s: float = 60.0) -> ServerThread:
        """Load the models, bind and serve; returns once the port is open."""
        self._thread = threading.Thread(target=self._main, name="gameai-test-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError("server did not start")
        if self._error is not None:
            raise self._error
        return self

    def _main(self) -> None:
        loop = new_event_loop(self.config.event_loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        try:
            metrics = ServiceMetrics()
            services = load_services(self.runtime_config, metrics)
            self.server = GameAIServer(self.config, services, metrics)
            await self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self.server.wait_stopped()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Shut the server down gracefully and end the thread."""
        if self._loop is not None and self.server is not None and self._thread is not None:
            future = asyncio.run_coroutine_threadsafe(self.server.shutdown(), self._loop)
            with contextlib.suppress(Exception):
                future.result(timeout_s)
            self._thread.join(timeout_s)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def write_test_assets(root: Path, small: bool = True, dialogue: bool = True) -> Path:
    """Write random-initialised models in the serving formats under ``root`` (the ``assets/`` layout).

    Args:
        root: Target directory (``behaviour/``, ``dialogue/model/``, ``agents/arena/``, ``agents/ladder/``).
        small: A narrow behaviour CNN (fast tests) instead of the full Nature-DQN widths.
        dialogue: Also write a tiny GPT-2 dialogue model (our prompt format).

    Returns:
        ``root``.
    """
    from gameai.agents.actor import ActorConfig
    from gameai.behaviour.model import BehaviourNetConfig
    from gameai.testing.tiny_models import (
        write_random_actor,
        write_random_behaviour_model,
        write_tiny_dialogue_model,
    )

    config = BehaviourNetConfig(conv_channels=(8, 16, 16), hidden=32) if small else BehaviourNetConfig()
    write_random_behaviour_model(root / "behaviour", config)
    if dialogue:
        write_tiny_dialogue_model(root / "dialogue" / "model", "gameai")
    write_random_actor(root / "agents" / "arena", ActorConfig(obs_dim=8))
    write_random_actor(root / "agents" / "ladder", ActorConfig(obs_dim=8, difficulty_index=7), seed=1)
    return root


def runtime_config_for(root: Path, **changes: object) -> RuntimeConfig:
    """A :class:`RuntimeConfig` serving the models of :func:`write_test_assets` on the CPU."""
    values: dict[str, object] = {
        "behaviour_model": str(root / "behaviour"),
        "dialogue_model": str(root / "dialogue" / "model"),
        "agents_dir": str(root / "agents"),
        "device": "cpu",
    }
    values.update(changes)
    return RuntimeConfig(**values)  # type: ignore[arg-type]
