"""``gameai serve`` in a child process, on a free loopback port unless told otherwise.

Used by ``gameai demo`` (the game and the service must not share a GIL), the load test
and the serving benchmark.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

_SERVING = re.compile(r"serving on (ws://\S+)")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


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
