"""Each scripted style does what its name says, measured on its trajectories."""

from __future__ import annotations

import math
import struct

import numpy as np
import pytest

from demo_game.sim import ActorField, ArenaConfig, ArenaField, ArenaRules
from demo_game.sim.scripted import ScriptedMatches
from demo_game.sim.styles import N_PARAMS, STYLES, StyleParam, style_params, wrap_angle
from gameai.vocabulary import BEHAVIOURS

PER_STYLE = 6
TICKS = 900
GRID = 40.0  # world units per coverage cell


@pytest.fixture(scope="module")
def measures() -> dict[str, dict[str, float]]:
    """Play every style for the same time against one scripted enemy and measure it.

    Health is unlimited so that every player is measured over the same 900 ticks.
    """
    names = list(STYLES)
    rng = np.random.default_rng(0)
    params = np.stack([style_params(name, rng) for name in names for _ in range(PER_STYLE)])
    n = len(params)
    rules = ArenaRules(player_health=1e9, enemy_health=1e9, match_ticks=TICKS)
    matches = ScriptedMatches(params, ArenaConfig(n_enemies=1, rules=rules))
    matches.reset(np.arange(n, dtype=np.uint64) + 1000)
    actors = matches.sim.state.actors
    enemy_distance = np.zeros(n)
    visited = np.zeros((n, 16, 12), dtype=bool)
    rows = np.arange(n)
    for _ in range(TICKS):
        matches.step()
        enemy_distance += np.hypot(actors[:, 1, 0] - actors[:, 0, 0], actors[:, 1, 1] - actors[:, 0, 1])
        cx = np.clip(actors[:, 0, ActorField.X] // GRID, 0, 15).astype(int)
        cy = np.clip(actors[:, 0, ActorField.Y] // GRID, 0, 11).astype(int)
        visited[rows, cx, cy] = True
    arena = matches.sim.state.arena
    out: dict[str, dict[str, float]] = {}
    for k, name in enumerate(names):
        part = slice(k * PER_STYLE, (k + 1) * PER_STYLE)
        shots = actors[part, 0, ActorField.SHOTS].sum()
        out[name] = {
            "speed": float(actors[part, 0, ActorField.DISTANCE].mean() / TICKS),
            "enemy_distance": float(enemy_distance[part].mean() / TICKS),
            "pickups": float(
                (arena[part, ArenaField.PICKUPS_HEALTH] + arena[part, ArenaField.PICKUPS_COIN]).mean()
            ),
            "cells": float(visited[part].sum(axis=(1, 2)).mean()),
            "hits": float(actors[part, 0, ActorField.HITS].mean()),
            "hit_rate": float(actors[part, 0, ActorField.HITS].sum() / max(shots, 1.0)),
            "shots": float(shots / PER_STYLE),
        }
    return out


def _others(measures: dict[str, dict[str, float]], name: str, key: str) -> list[float]:
    return [m[key] for other, m in measures.items() if other != name]


def test_the_styles_are_the_behaviour_classes() -> None:
    assert tuple(STYLES) == BEHAVIOURS


def test_aggressive_stays_closest_to_the_enemy(measures: dict[str, dict[str, float]]) -> None:
    assert measures["aggressive"]["enemy_distance"] < 0.9 * min(
        _others(measures, "aggressive", "enemy_distance")
    )


def test_evasive_keeps_farthest_away(measures: dict[str, dict[str, float]]) -> None:
    assert measures["evasive"]["enemy_distance"] > 1.05 * max(_others(measures, "evasive", "enemy_distance"))


def test_explorer_covers_the_most_ground(measures: dict[str, dict[str, float]]) -> None:
    assert measures["explorer"]["cells"] > 1.1 * max(_others(measures, "explorer", "cells"))


def test_collector_picks_up_the_most(measures: dict[str, dict[str, float]]) -> None:
    assert measures["collector"]["pickups"] > 3 * max(_others(measures, "collector", "pickups"))


def test_idle_barely_moves_or_shoots(measures: dict[str, dict[str, float]]) -> None:
    assert measures["idle"]["speed"] < 0.1 * min(_others(measures, "idle", "speed"))
    assert measures["idle"]["shots"] < 0.1 * min(_others(measures, "idle", "shots"))


def test_bot_like_hits_most_often(measures: dict[str, dict[str, float]]) -> None:
    shooters = {name: m for name, m in measures.items() if name != "idle"}  # idle barely shoots
    assert measures["bot_like"]["hits"] > 1.3 * max(_others(shooters, "bot_like", "hits"))
    assert measures["bot_like"]["hit_rate"] > 1.2 * max(_others(shooters, "bot_like", "hit_rate"))


def test_skill_makes_a_player_stronger() -> None:
    """The same style at skill 1 out-hits itself at skill 0 against the same enemies."""
    rng = np.random.default_rng(1)
    n = 24
    weak = np.stack([style_params("aggressive", rng, skill=0.0) for _ in range(n)])
    strong = np.stack([style_params("aggressive", rng, skill=1.0) for _ in range(n)])
    rules = ArenaRules(player_health=1e9, enemy_health=1e9, match_ticks=600)
    results = []
    for params in (weak, strong):
        matches = ScriptedMatches(params, ArenaConfig(n_enemies=1, rules=rules))
        matches.reset(np.arange(n, dtype=np.uint64))
        for _ in range(600):
            matches.step()
        actors = matches.sim.state.actors
        results.append(actors[:, 0, ActorField.HITS].sum() / actors[:, 0, ActorField.SHOTS].sum())
    assert results[1] > 1.2 * results[0]


def test_style_params_respect_ranges_and_variation() -> None:
    rng = np.random.default_rng(0)
    style = STYLES["explorer"]
    for _ in range(50):
        params = style_params("explorer", rng, variation=(0.8, 1.0))
        assert params.shape == (N_PARAMS,)
        explore = StyleParam.EXPLORE
        span = style.high[explore] - style.low[explore]
        assert style.low[explore] + 0.8 * span - 1e-12 <= params[explore] <= style.high[explore] + 1e-12
    with pytest.raises(KeyError, match="unknown style"):
        style_params("ninja", rng)
    with pytest.raises(ValueError, match="skill"):
        style_params("idle", rng, skill=1.5)


def test_wrap_angle_equals_python_modulo_bit_for_bit() -> None:
    """The kernel's shortcut gives exactly ``(a + pi) % (2 pi) - pi``, edge cases included."""
    two_pi = 2.0 * math.pi
    edges = [0.0, -0.0, math.pi, -math.pi, two_pi, -two_pi, 3 * math.pi, -3 * math.pi, 5 * math.pi, 1e-300]
    edges += [float(np.nextafter(e, direction)) for e in edges for direction in (-np.inf, np.inf)]
    angles = np.concatenate([edges, np.random.default_rng(0).uniform(-25.0, 25.0, 20_000)])
    for angle in angles:
        expected = (float(angle) + math.pi) % two_pi - math.pi
        got = wrap_angle(float(angle))
        assert struct.pack("<d", got) == struct.pack("<d", expected), angle
