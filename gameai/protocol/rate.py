"""Rate limits as pure arithmetic on timestamps the caller passes in (no clock inside)."""

from __future__ import annotations


class TokenBucket:
    """Allows ``rate`` events per second on average with bursts of up to ``burst`` events.

    Args:
        rate: Tokens added per second.
        burst: Bucket capacity; the bucket starts full.
        now: The current time in seconds (any monotonic clock).
    """

    def __init__(self, rate: float, burst: float, now: float) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"need rate > 0 and burst >= 1, got rate={rate} burst={burst}")
        self.rate = rate
        self.burst = burst
        self._tokens = burst
        self._updated = now

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
        self._updated = max(self._updated, now)

    def take(self, now: float) -> bool:
        """Take one token if there is one.

        Returns:
            True if the event is allowed, False if it exceeds the rate.
        """
        self._refill(now)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class LeakyCounter:
    """A level that rises by one per :meth:`add` and drains at ``drain_per_s``.

    Used to tell a client that exceeds a limit now and then (level stays low) from one
    that keeps exceeding it (level reaches ``capacity``).

    Args:
        capacity: The level at which :meth:`add` reports overflow.
        drain_per_s: How fast the level falls, per second.
        now: The current time in seconds.
    """

    def __init__(self, capacity: float, drain_per_s: float, now: float) -> None:
        self.capacity = capacity
        self.drain_per_s = drain_per_s
        self._level = 0.0
        self._updated = now

    def add(self, now: float) -> bool:
        """Add one unit.

        Returns:
            True when the level has reached the capacity.
        """
        elapsed = max(0.0, now - self._updated)
        self._level = max(0.0, self._level - elapsed * self.drain_per_s) + 1.0
        self._updated = max(self._updated, now)
        return self._level >= self.capacity


class Throttle:
    """Lets one event per key through every ``interval_s`` seconds (e.g. repeated error messages),
    and counts the ones it held back."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._last: dict[object, float] = {}
        self._held: dict[object, int] = {}

    def allow(self, key: object, now: float) -> bool:
        """Whether an event with this key may go through now (and record it if so)."""
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        return True

    def take_held(self, key: object) -> int:
        """Events of this key held back since the count was last taken (the count restarts at 0)."""
        return self._held.pop(key, 0)
