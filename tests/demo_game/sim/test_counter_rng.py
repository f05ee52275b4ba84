"""Counter-based random numbers: uniform, independent of batching, repeatable."""

from __future__ import annotations

import numpy as np

from demo_game.sim.counter_rng import key_from_generator, normal, uniform


def test_uniform_draws_are_uniform_and_repeatable() -> None:
    key = np.uint64(123456789)
    draws = np.array([uniform(key, tick, stream) for tick in range(200) for stream in range(50)])
    assert draws.min() >= 0.0 and draws.max() < 1.0
    assert abs(draws.mean() - 0.5) < 0.01
    counts, _ = np.histogram(draws, bins=10, range=(0, 1))
    assert counts.min() > 0.9 * len(draws) / 10
    assert uniform(key, 7, 3) == uniform(key, 7, 3)
    assert uniform(key, 7, 3) != uniform(key, 7, 4) != uniform(key, 8, 3)
    assert uniform(key, 7, 3) != uniform(np.uint64(123456790), 7, 3)


def test_normal_draws_are_standard_normal() -> None:
    key = np.uint64(42)
    draws = np.array([normal(key, tick, 2 * k) for tick in range(100) for k in range(50)])
    assert abs(draws.mean()) < 0.05 and abs(draws.std() - 1.0) < 0.05


def test_keys_come_from_the_seeded_generator() -> None:
    a = key_from_generator(np.random.default_rng(5))
    b = key_from_generator(np.random.default_rng(5))
    c = key_from_generator(np.random.default_rng(6))
    assert a == b != c and a.dtype == np.uint64
