"""Structured logs that carry the session id.

The server sets :data:`session_id_var` in each connection's task; every task and
callback started from it inherits the value (contextvars), so any log line written on
behalf of a session carries ``session_id`` without passing it around. Code running in
worker threads passes it explicitly: ``logger.info(..., extra={"session_id": sid})``.

:func:`configure_logging` installs either a JSON-lines formatter (one object per line:
``time``, ``level``, ``logger``, ``message``, ``session_id`` and any ``extra`` fields)
or a human-readable one.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import time
from typing import Any, Literal

#: The session the current task works for ("-" outside any session).
session_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("gameai_session_id", default="-")

_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None).__dict__.keys() | {"message", "asctime"}
)


class SessionIdFilter(logging.Filter):
    """Adds ``record.session_id`` from :data:`session_id_var` unless the call gave one."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "session_id"):
            record.session_id = session_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the standard fields and every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "session_id": getattr(record, "session_id", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """``time level [session] logger: message`` lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s [%(session_id)s] %(name)s: %(message)s")


def configure_logging(fmt: Literal["json", "text"] = "text", level: str = "INFO") -> None:
    """Send the ``gameai`` loggers to stderr in the chosen format.

    Args:
        fmt: ``json`` (one object per line) or ``text``.
        level: Logging level name.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SessionIdFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    logger = logging.getLogger("gameai")
    logger.handlers[:] = [handler]
    logger.setLevel(level.upper())
    logger.propagate = False
    # The websockets library logs every connection at INFO; keep that for DEBUG runs only.
    quiet = logging.getLevelName(level.upper()) != logging.DEBUG
    logging.getLogger("gameai.server.websockets").setLevel(logging.WARNING if quiet else logging.DEBUG)


def current_logging() -> tuple[Literal["json", "text"], str]:
    """The format and level :func:`configure_logging` set (``text``/``INFO`` if it was not called).

    For a child process to log the way its parent does.
    """
    logger = logging.getLogger("gameai")
    fmt: Literal["json", "text"] = (
        "json" if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers) else "text"
    )
    return fmt, logging.getLevelName(logger.getEffectiveLevel())
