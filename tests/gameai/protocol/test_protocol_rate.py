"""Throttle: one event per key per interval, and a count of the ones held back."""

from __future__ import annotations

from gameai.protocol.rate import Throttle


def test_throttle_lets_one_event_per_interval_through_and_counts_the_rest() -> None:
    throttle = Throttle(interval_s=10.0)
    assert throttle.allow("overloaded", 0.0) and throttle.take_held("overloaded") == 0
    assert [throttle.allow("overloaded", t) for t in (1.0, 2.0, 9.9)] == [False, False, False]
    assert throttle.allow("bad_json", 5.0) and throttle.take_held("bad_json") == 0  # its own interval
    assert throttle.allow("overloaded", 10.0) and throttle.take_held("overloaded") == 3  # the three held back
    assert throttle.allow("overloaded", 20.5) and throttle.take_held("overloaded") == 0
