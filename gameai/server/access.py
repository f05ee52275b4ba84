"""Who may connect: browser origins, tokens, and addresses that keep guessing tokens.

* :class:`OriginPolicy`: a websocket handshake or HTTP request with an ``Origin`` header (a
  browser sends one from every page) is refused unless that origin is allowed
  (``--allowed-origins``); clients that send none (the Python, Node and engine clients) are
  unaffected. Without this any web page the player opens could drive a local gameai.
* :func:`token_matches`: a token compared in constant time against each accepted one.
* :class:`TokenFailures`: an address that presented ``max_failures`` wrong tokens within
  ``lockout_s`` is refused, without its token being looked at, until that window has passed.
"""

from __future__ import annotations

import hmac
from collections import deque
from collections.abc import Iterable


class OriginPolicy:
    """Which browser origins may connect and read the HTTP endpoints.

    Args:
        allowed: Origins allowed, exactly as browsers send them (``https://game.example``,
            ``http://127.0.0.1:8000``); ``*`` allows every origin (for development only).
    """

    def __init__(self, allowed: Iterable[str]) -> None:
        self.allowed = frozenset(allowed)

    def allows(self, origin: str | None) -> bool:
        """Whether a request with this ``Origin`` header (None: none) may go on."""
        return origin is None or "*" in self.allowed or origin in self.allowed

    def cors_headers(self, origin: str | None) -> list[tuple[str, str]]:
        """CORS headers letting an allowed page read a response (none for other origins)."""
        if origin is None or not self.allows(origin):
            return []
        return [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]


def token_matches(presented: str | None, tokens: Iterable[str]) -> bool:
    """Whether ``presented`` is one of ``tokens`` (constant time per token; empty never matches)."""
    if not presented:
        return False
    encoded = presented.encode()
    matched = False
    for token in tokens:
        matched |= hmac.compare_digest(encoded, token.encode())
    return matched


class TokenFailures:
    """Wrong tokens per address, and which addresses are locked out for a while.

    Args:
        max_failures: Wrong tokens within ``lockout_s`` that lock an address out (0: never).
        lockout_s: The window, in seconds: an address is refused while it has ``max_failures``
            failures younger than this.
        max_addresses: Addresses remembered at most (the oldest is forgotten first).
    """

    def __init__(self, max_failures: int, lockout_s: float, max_addresses: int = 10_000) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.max_addresses = max_addresses
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str, now: float) -> deque[float]:
        failures = self._failures.get(address)
        if failures is None:
            return deque()
        while failures and now - failures[0] >= self.lockout_s:
            failures.popleft()
        if not failures:
            del self._failures[address]
        return failures

    def locked_for(self, address: str, now: float) -> float:
        """Seconds this address stays locked out (0: it may try a token)."""
        if self.max_failures <= 0:
            return 0.0
        failures = self._recent(address, now)
        if len(failures) < self.max_failures:
            return 0.0
        return failures[-self.max_failures] + self.lockout_s - now

    def fail(self, address: str, now: float) -> None:
        """Count one wrong token from ``address`` at time ``now`` (seconds, monotonic)."""
        if self.max_failures <= 0:
            return
        failures = self._recent(address, now)
        if not failures:
            if len(self._failures) >= self.max_addresses:
                del self._failures[next(iter(self._failures))]
            failures = self._failures[address] = deque(maxlen=self.max_failures)
        failures.append(now)
