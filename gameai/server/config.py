"""Configuration of ``gameai serve``: one dataclass, filled from defaults, TOML, env and flags.

Precedence, lowest first: the field defaults, the TOML file given with ``--config``
(keys of :class:`ServerConfig` and :class:`~gameai.runtime.config.RuntimeConfig`, at the
top level or under ``[server]`` / ``[runtime]``), environment variables
``GAMEAI_<FIELD>`` (e.g. ``GAMEAI_PORT=9000``, ``GAMEAI_TOKENS=tok1,tok2``), then command
line options. Example TOML::

    [server]
    host = "0.0.0.0"
    port = 8765
    tokens = ["change-me"]

    [runtime]
    device = "cpu"
    behaviour_max_batch = 32
"""

from __future__ import annotations

import dataclasses
import ipaddress
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from gameai.config_args import unwrap_optional
from gameai.event_loops import EventLoopName, check_event_loop_name
from gameai.protocol.connection import SessionLimits
from gameai.protocol.messages import Limits
from gameai.services.base import ServiceSettings

ConfigT = TypeVar("ConfigT")

ENV_PREFIX = "GAMEAI_"


@dataclass(frozen=True)
class ServerConfig:
    """Network, security and per-session limits of the server."""

    host: str = "127.0.0.1"
    """Address to bind; any address other than loopback requires a token."""
    port: int = 8765
    """TCP port (0 picks a free one; the chosen port is logged)."""
    tokens: tuple[str, ...] = ()
    """Accepted auth tokens (env GAMEAI_TOKENS, comma-separated); empty or blank tokens are refused."""
    require_token: Literal["auto", "always"] = "auto"
    """auto: a token is required unless bound to loopback; always: required everywhere. Where a
    token is required, GET /metrics needs it too (header ``Authorization: Bearer TOKEN``)."""
    allowed_origins: tuple[str, ...] = ()
    """Browser origins allowed to connect and to read /healthz and /metrics (e.g.
    http://127.0.0.1:8000); a request from any other page is refused with HTTP 403 (on every
    bind). Clients that send no Origin header (Python, Node, engines) are unaffected. 'null'
    lets in pages opened from files (all of them); '*' every origin: for development only."""
    token_max_failures: int = 10
    """Wrong tokens from one address within token_lockout_s after which that address is refused
    without its token being checked, until the window has passed (0: no lockout)."""
    token_lockout_s: float = 60.0
    """The window of token_max_failures, in seconds."""
    max_sessions: int = 256
    """Most sessions at once; more connections are closed with 4007 server_full."""
    max_sessions_per_address: int = 128
    """Most sessions from one client address at once, so that one client cannot fill the server
    (more: 4007 server_full, saying why); 0: no limit. Behind a proxy every session has the
    proxy's address: raise it there."""
    max_sessions_per_token: int = 0
    """Most sessions with one token at once (0: no limit)."""
    max_message_bytes: int = 64 * 1024
    """Largest control (text) message, in bytes."""
    max_frame_bytes: int = 256 * 1024
    """Largest frame payload, in bytes."""
    max_fps: float = 30.0
    """Frames per second accepted per session."""
    max_messages_per_s: float = 100.0
    """Control messages per second accepted per session."""
    max_inflight_requests: int = 16
    """Dialogue and act requests in flight per session."""
    max_new_tokens: int = 128
    """Largest max_new_tokens a dialogue request may ask for."""
    default_max_new_tokens: int = 48
    """max_new_tokens of a dialogue request that gives none."""
    frame_queue: int = 4
    """Frames queued per session before the oldest is dropped."""
    frames_in_flight: int = 2
    """Behaviour windows of one session in the model at once (results still go out in order)."""
    idle_timeout_s: float = 60.0
    """Close a session after this long without a message."""
    ping_only_timeout_s: float = 600.0
    """Close a session whose only messages for this long were pings, so that idle sessions kept
    open by pings alone cannot hold the server's places (0: never). A game that idles in menus
    longer can raise it, or send an ``events`` message now and then."""
    hello_timeout_s: float = 10.0
    """Close a connection that sends no hello within this long."""
    shutdown_grace_s: float = 5.0
    """On SIGINT/SIGTERM, how long in-flight requests may take to finish."""
    default_difficulty: float = 0.5
    """Difficulty a new session starts at."""
    difficulty_control: Literal["adaptive", "fixed"] = "adaptive"
    """adaptive: match results move the session's difficulty (AdaptiveDifficulty); fixed: it stays."""
    difficulty_target: float = 0.5
    """Player win rate the adaptive difficulty holds (a draw counts half)."""
    http: bool = True
    """Answer plain HTTP GET /metrics (Prometheus) and /healthz on the same port."""
    keepalive_s: float = 20.0
    """Websocket ping interval; a peer silent for as long again is dropped (0 disables)."""
    event_loop: EventLoopName = "auto"
    """The event loop ``gameai serve`` runs on: auto (uvloop when installed, else asyncio's own),
    uvloop or asyncio. A server embedded with ``GameAIServer`` runs on its caller's loop."""
    log_format: Literal["text", "json"] = "text"
    """Log lines as text or as JSON objects."""
    log_level: str = "INFO"
    """Logging level."""

    def __post_init__(self) -> None:
        if any(not token.strip() for token in self.tokens):
            raise ValueError("tokens must not be empty or blank (one would let a hello with no token in)")
        for origin in self.allowed_origins:
            if origin not in ("*", "null") and (
                origin != origin.strip() or "://" not in origin or origin.endswith("/")
            ):
                raise ValueError(
                    f"allowed_origins: {origin!r} is not an origin like 'https://game.example' or "
                    "'http://127.0.0.1:8000' (scheme, host and port as the browser sends them, no path)"
                )
        if (
            self.max_sessions_per_address < 0
            or self.max_sessions_per_token < 0
            or self.ping_only_timeout_s < 0
        ):
            raise ValueError(
                "max_sessions_per_address, max_sessions_per_token and ping_only_timeout_s must be >= 0"
            )
        if self.token_max_failures < 0 or self.token_lockout_s <= 0:
            raise ValueError("token_max_failures must be >= 0 and token_lockout_s > 0")
        if self.token_required and not self.tokens:
            raise ValueError(
                f"binding {self.host!r} needs at least one token: set tokens in the config file, "
                "GAMEAI_TOKENS or --tokens (or bind 127.0.0.1)"
            )
        check_event_loop_name(self.event_loop)
        if not 0.0 <= self.default_difficulty <= 1.0:
            raise ValueError("default_difficulty must be in [0, 1]")
        if not 0.0 < self.difficulty_target < 1.0:
            raise ValueError("difficulty_target must be in (0, 1)")
        if self.default_max_new_tokens > self.max_new_tokens:
            raise ValueError("default_max_new_tokens must be <= max_new_tokens")
        if (
            self.max_fps <= 0
            or self.max_messages_per_s <= 0
            or self.frame_queue < 1
            or self.frames_in_flight < 1
        ):
            raise ValueError("max_fps, max_messages_per_s, frame_queue and frames_in_flight must be positive")

    @property
    def token_required(self) -> bool:
        """Whether clients must present a token."""
        return self.require_token == "always" or not is_loopback(self.host)

    def session_limits(self) -> SessionLimits:
        """The limits the protocol enforces per connection."""
        return SessionLimits(
            max_message_bytes=self.max_message_bytes,
            max_frame_bytes=self.max_frame_bytes,
            max_fps=self.max_fps,
            max_messages_per_s=self.max_messages_per_s,
        )

    def service_settings(self) -> ServiceSettings:
        """The limits services apply to each session."""
        return ServiceSettings(
            max_new_tokens=self.max_new_tokens,
            default_max_new_tokens=self.default_max_new_tokens,
            frame_queue=self.frame_queue,
            frames_in_flight=self.frames_in_flight,
        )

    def welcome_limits(self) -> Limits:
        """The limits announced in ``welcome``."""
        return Limits(
            max_message_bytes=self.max_message_bytes,
            max_frame_bytes=self.max_frame_bytes,
            max_fps=self.max_fps,
            max_messages_per_s=self.max_messages_per_s,
            max_inflight_requests=self.max_inflight_requests,
            max_new_tokens=self.max_new_tokens,
            frame_queue=self.frame_queue,
            idle_timeout_s=self.idle_timeout_s,
        )


def is_loopback(host: str) -> bool:
    """Whether a bind address only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_toml(path: Path | str) -> dict[str, Any]:
    """Read a TOML config file into flat ``{field: value}`` (``[server]``/``[runtime]`` merged).

    Raises:
        ValueError: If the file is not valid TOML or has other tables.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("server", "runtime"):
            if not isinstance(value, dict):
                raise ValueError(f"{path}: [{key}] must be a table")
            flat.update(value)
        elif isinstance(value, dict):
            raise ValueError(f"{path}: unknown table [{key}] (use [server] and [runtime])")
        else:
            flat[key] = value
    return flat


def _coerce(annotation: Any, value: Any, where: str) -> Any:
    """Convert a TOML or env value to a field's type (``X | None``: to ``X``; unset is the default)."""
    annotation, _ = unwrap_optional(annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        if value not in typing.get_args(annotation):
            raise ValueError(f"{where}: must be one of {typing.get_args(annotation)}, got {value!r}")
        return value
    if origin is tuple:
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",")] if value.strip() else []
            if "" in items:
                raise ValueError(f"{where}: empty or blank item in the comma-separated list {value!r}")
            value = items
        if not isinstance(value, list | tuple):
            raise ValueError(f"{where}: expected a list")
        member = typing.get_args(annotation)[0]
        return tuple(_coerce(member, v, where) for v in value)
    if annotation is bool:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
        if isinstance(value, bool):
            return value
        raise ValueError(f"{where}: expected true or false, got {value!r}")
    if annotation in (int, float, str):
        if isinstance(value, bool) or (annotation is str and not isinstance(value, str)):
            raise ValueError(f"{where}: expected {annotation.__name__}, got {value!r}")
        try:
            return annotation(value)
        except (TypeError, ValueError):
            raise ValueError(f"{where}: expected {annotation.__name__}, got {value!r}") from None
    raise TypeError(f"{where}: unsupported type {annotation!r}")


def build_config(
    cls: type[ConfigT],
    file_values: Mapping[str, Any],
    environ: Mapping[str, str],
    cli_values: Mapping[str, Any],
) -> ConfigT:
    """Build a config dataclass from its sources, in precedence order.

    Args:
        cls: The dataclass.
        file_values: Flat values from the TOML file (keys of other dataclasses are ignored).
        environ: The environment (``GAMEAI_<FIELD>`` variables are used).
        cli_values: Options given explicitly on the command line.

    Returns:
        The config.

    Raises:
        ValueError: If a value has the wrong type or the dataclass rejects it.
    """
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        annotation = hints[field.name]
        env_name = ENV_PREFIX + field.name.upper()
        if field.name in cli_values:
            values[field.name] = cli_values[field.name]
        elif env_name in environ:
            values[field.name] = _coerce(annotation, environ[env_name], env_name)
        elif field.name in file_values:
            values[field.name] = _coerce(annotation, file_values[field.name], f"config {field.name}")
    return cls(**values)


def check_known_keys(file_values: Mapping[str, Any], *classes: type) -> None:
    """Refuse config-file keys that no config dataclass has.

    Raises:
        ValueError: Naming the unknown keys.
    """
    known = {field.name for cls in classes for field in dataclasses.fields(cls)}
    unknown = sorted(set(file_values) - known)
    if unknown:
        raise ValueError(f"unknown config keys: {', '.join(unknown)}")
