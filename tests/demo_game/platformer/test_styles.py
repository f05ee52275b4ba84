"""The platformer's player styles are what their names say, measured on trajectories.

Each style plays a few levels (players of several seeds and skills, with scripted goblins);
the statistics are the ones a person watching would use: how fast it gets ahead, how much
it doubles back, gems and stomps per minute, how long it stands still, how regular its
jumps and its speed are.
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from demo_game.platformer.sim import Event, PlatformerSimulation
from demo_game.platformer.sim.goblins import ScriptedGoblin
from demo_game.platformer.sim.styles import STYLES, ScriptedPlayer, StyleParam, style_params

SECONDS = 20.0
PLAYERS = 4
HUMANS = [name for name in STYLES if name != "bot_like"]


@dataclasses.dataclass
class Trajectory:
    """What one player did."""

    seconds: float
    x: np.ndarray
    vx: np.ndarray
    on_ground: np.ndarray
    jump_ticks: list[int]
    gems: int
    gems_passed: int
    """Gems of the level within the stretch it covered."""
    stomps: int


def play(style: str, seed: int, seconds: float = SECONDS) -> Trajectory:
    """One player of ``style`` (seed ``seed``, skill drawn from it) on level ``100 + seed``."""
    rng = np.random.default_rng(seed)
    sim = PlatformerSimulation()
    sim.reset(100 + seed)
    player = ScriptedPlayer(style_params(style, rng, skill=float(rng.uniform())), rng)
    goblins = [ScriptedGoblin(np.random.default_rng([seed, i])) for i in range(sim.level.n_goblins)]
    x, vx, ground, jumps = [], [], [], []
    gems = stomps = 0
    for tick in range(round(seconds * 30)):
        player(sim)
        for i, goblin in enumerate(goblins):
            sim.controls[1 + i] = goblin(sim, i)
        sim.step()
        s = sim.state
        body = s.player.body
        x.append(body.x)
        vx.append(body.vx)
        ground.append(body.on_ground)
        if s.events[Event.JUMP]:
            jumps.append(tick)
        gems += int(s.events[Event.GEM])
        stomps += int(s.events[Event.STOMP])
        if s.done:
            break
    gem_x = sim.level.gems[:, 0]
    passed = int(((gem_x >= min(x) - 20.0) & (gem_x <= max(x) + 20.0)).sum())
    return Trajectory(len(x) / 30.0, np.array(x), np.array(vx), np.array(ground), jumps, gems, passed, stomps)


def _mode_share(values: np.ndarray) -> float:
    """The share of the most common value."""
    return float(np.unique(values, return_counts=True)[1].max() / len(values))


def statistics(t: Trajectory) -> dict[str, float]:
    """The measures of one trajectory."""
    moving_on_ground = t.on_ground & (np.abs(t.vx) > 1.0)
    speeds = np.round(np.abs(t.vx[moving_on_ground]), 2)
    intervals = np.diff(t.jump_ticks)
    path = float(np.abs(np.diff(t.x)).sum())
    return {
        "progress": (t.x[-1] - t.x[0]) / t.seconds,
        "efficiency": abs(t.x[-1] - t.x[0]) / max(path, 1.0),
        "gems_per_min": 60.0 * t.gems / t.seconds,
        "gem_share": t.gems / max(t.gems_passed, 1),
        "stomps_per_min": 60.0 * t.stomps / t.seconds,
        "idle": float(np.mean(t.on_ground & (np.abs(t.vx) < 0.3))),
        "jump_regularity": _mode_share(intervals) if len(intervals) > 2 else 0.0,
        "speed_constancy": _mode_share(speeds) if len(speeds) else 0.0,
    }


@functools.cache
def style_statistics() -> dict[str, dict[str, float]]:
    """Each style's measures, averaged over its players."""
    out = {}
    for style in STYLES:
        rows = [statistics(play(style, seed)) for seed in range(PLAYERS)]
        out[style] = {key: float(np.mean([row[key] for row in rows])) for key in rows[0]}
    return out


def test_speedrunner_gets_ahead_fastest() -> None:
    stats = style_statistics()
    progress = {s: stats[s]["progress"] for s in STYLES}
    assert progress["speedrunner"] > 150.0, progress  # units per second; its top speed is 210
    assert max(HUMANS, key=progress.__getitem__) == "speedrunner", progress
    assert progress["speedrunner"] > 1.1 * progress["collector"], progress
    assert progress["speedrunner"] > 1.3 * progress["stomper"], progress
    assert progress["speedrunner"] > 2.0 * max(progress["explorer"], progress["idle"]), progress


def test_explorer_doubles_back_most() -> None:
    stats = style_statistics()
    movers = [s for s in STYLES if s not in ("explorer", "idle")]
    assert stats["explorer"]["efficiency"] < 0.6
    assert all(stats["explorer"]["efficiency"] < stats[s]["efficiency"] - 0.2 for s in movers), stats
    assert stats["explorer"]["idle"] < 0.15, "it moves about, it does not stand"


def test_collector_collects_most_gems() -> None:
    stats = style_statistics()
    share = {s: stats[s]["gem_share"] for s in STYLES}
    others = max(v for s, v in share.items() if s != "collector")
    assert share["collector"] > 0.75 and share["collector"] > others + 0.2, share
    per_minute = {s: stats[s]["gems_per_min"] for s in STYLES}
    assert max(per_minute, key=per_minute.__getitem__) == "collector", per_minute


def test_stomper_stomps_most_goblins() -> None:
    stats = style_statistics()
    stomps = {s: stats[s]["stomps_per_min"] for s in STYLES}
    assert stomps["stomper"] > 1.3 * max(v for s, v in stomps.items() if s != "stomper"), stomps


def test_idle_stands_still_most() -> None:
    stats = style_statistics()
    assert stats["idle"]["idle"] > 0.45
    assert all(stats["idle"]["idle"] > 2 * stats[s]["idle"] for s in STYLES if s != "idle"), stats


def test_bot_like_is_inhumanly_regular() -> None:
    stats = style_statistics()
    bot = stats["bot_like"]
    assert bot["jump_regularity"] > 0.35 and bot["speed_constancy"] > 0.8
    for human in HUMANS:
        assert stats[human]["jump_regularity"] < 0.25, human
        assert stats[human]["speed_constancy"] < 0.45, human


def test_a_bot_has_no_noise_and_skill_changes_a_persons_timing() -> None:
    rng = np.random.default_rng(0)
    bot = style_params("bot_like", rng, skill=0.0)
    assert bot[StyleParam.REGULAR] == 1.0 and bot[StyleParam.TIMING_NOISE] == 0.0
    assert bot[StyleParam.HOP] == 0.0 and bot[StyleParam.SPEED_NOISE] == 0.0
    assert bot[StyleParam.PERIOD] == round(bot[StyleParam.PERIOD]) and 30 <= bot[StyleParam.PERIOD] <= 40
    weak = style_params("speedrunner", np.random.default_rng(1), skill=0.0, variation=(0.5, 0.5))
    strong = style_params("speedrunner", np.random.default_rng(1), skill=1.0, variation=(0.5, 0.5))
    assert weak[StyleParam.TIMING_NOISE] == pytest.approx(4 * strong[StyleParam.TIMING_NOISE])
    assert weak[StyleParam.SPEED] < strong[StyleParam.SPEED]


def test_same_seed_same_play() -> None:
    a, b = play("explorer", 3, seconds=6.0), play("explorer", 3, seconds=6.0)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.jump_ticks == b.jump_ticks


def test_bad_style_options_are_refused() -> None:
    rng = np.random.default_rng(0)
    with pytest.raises(KeyError, match="unknown style"):
        style_params("ninja", rng)
    with pytest.raises(ValueError, match="skill"):
        style_params("idle", rng, skill=1.5)
    with pytest.raises(ValueError, match="variation"):
        style_params("idle", rng, variation=(0.8, 0.2))
