"""Real gameai servers for tests and benchmarks, on free loopback ports.

* :func:`running_server`: an async context manager serving on the caller's event loop.
* :class:`ServerThread`: a server on its own event loop in a background thread (for
  synchronous callers such as the thread-backed client's tests).
* :class:`ServerProcess`: ``gameai serve`` in a child process (what the load test and
  the benchmark use, so clients and server do not share a GIL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.runtime import ModelRuntime
from gameai.server.app import DifficultyFactory, GameAIServer
from gameai.server.config import ServerConfig

_SERVING = re.compile(r"serving on (ws://\S+)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def running_server(
    config: ServerConfig,
    runtime_config: RuntimeConfig | None = None,
    runtime: ModelRuntime | None = None,
    difficulty_factory: DifficultyFactory | None = None,
) -> AsyncIterator[GameAIServer]:
    """Serve on the current event loop for the duration of the block, then shut down.

    Args:
        config: Server config (use ``port=0`` for a free port; ``server.url`` tells which).
        runtime_config: Models to load (ignored when ``runtime`` is given).
        runtime: An already loaded runtime (not yet started).
        difficulty_factory: The sessions' difficulty controllers.
    """
    metrics = ServiceMetrics()
    if runtime is None:
        runtime = await asyncio.to_thread(ModelRuntime.load, runtime_config or RuntimeConfig(), metrics)
    server = GameAIServer(config, runtime, metrics, difficulty_factory)
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
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        try:
            metrics = ServiceMetrics()
            runtime = ModelRuntime.load(self.runtime_config, metrics)
            self.server = GameAIServer(self.config, runtime, metrics)
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


class ServerProcess:
    """``gameai serve`` in a child process on a free loopback port.

    Args:
        args: Extra ``gameai serve`` options (model paths, limits...).
        env: Extra environment variables.
    """

    def __init__(self, args: Sequence[str] = (), env: dict[str, str] | None = None) -> None:
        self.args = list(args)
        self.env = env or {}
        self.process: subprocess.Popen[str] | None = None
        self.url = ""
        self.log_lines: list[str] = []
        self._reader: threading.Thread | None = None

    def start(self, timeout_s: float = 90.0) -> ServerProcess:
        """Start it and wait for the "serving on" log line.

        Raises:
            RuntimeError: If the process exits or stays silent for ``timeout_s``.
        """
        command = [sys.executable, "-m", "gameai.cli", "serve", "--port", "0", *self.args]
        environment = {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen(
            command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=environment
        )
        found = threading.Event()

        def read() -> None:
            assert self.process is not None and self.process.stderr is not None
            for line in self.process.stderr:
                self.log_lines.append(line.rstrip("\n"))
                match = _SERVING.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()

        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout_s
        while not found.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("gameai serve did not start:\n" + "\n".join(self.log_lines[-30:]))
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout_s: float = 30.0) -> int:
        """Send a signal and wait for the exit status."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        if self._reader is not None:
            self._reader.join(5)
        return code

    def __enter__(self) -> ServerProcess:
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
    write_random_actor(root / "agents" / "ladder", ActorConfig(obs_dim=8, difficulty_input=True), seed=1)
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
