"""The platformer app, headless with an autopilot, and ``gameai demo --game platformer`` offline."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pygame
import pytest

from demo_game.app import DemoApp
from demo_game.config import DemoConfig
from demo_game.platformer.app import WINDOW_SIZE, PlatformerApp
from gameai.cli import main
from gameai.commands.demo import make_app


def test_headless_autopilot_run_plays_and_saves_screenshots(tmp_path: Path) -> None:
    config = DemoConfig(game="platformer", headless=True, autopilot="speedrunner", seconds=8, seed=3,
                        screenshot_dir=str(tmp_path), screenshot_every=2, realtime=False)  # fmt: skip
    summary = PlatformerApp(config).run()
    assert summary["game"] == "platformer" and summary["autopilot"] == "speedrunner"
    assert summary["frames"] == 240 and summary["game_seconds"] == 8.0
    assert summary["events"].get("jump", 0) > 0 and summary["service"]["url"] is None
    shots = [Path(p) for p in summary["screenshots"]]
    assert len(shots) >= 4 and all(p.exists() for p in shots)
    last = pygame.surfarray.array3d(pygame.image.load(str(shots[-1])))
    assert last.shape[:2] == WINDOW_SIZE and last.std() > 10
    first = pygame.surfarray.array3d(pygame.image.load(str(shots[0])))
    assert np.any(first != last), "the game moved between screenshots"


def test_a_finished_level_leads_to_the_next(tmp_path: Path) -> None:
    config = DemoConfig(game="platformer", headless=True, autopilot="speedrunner", seconds=0, seed=5,
                        screenshot_dir=str(tmp_path), realtime=False)  # fmt: skip
    app = PlatformerApp(config)
    app.start()
    try:
        while app.game.levels_played == 0 and app.frames < 3000:
            app.frame()
        first = app.game.sim.level.seed
        for _ in range(90):  # two seconds on the level-over screen, then the next level
            app.frame()
        assert app.game.sim.level.seed != first and not app.game.over
        assert set(app.goblins) == set(range(app.game.sim.level.n_goblins))
    finally:
        app.finish()


def test_unknown_autopilot_is_refused_and_the_arena_is_the_default() -> None:
    with pytest.raises(ValueError, match="unknown autopilot"):
        PlatformerApp(DemoConfig(game="platformer", headless=True, autopilot="aggressive"))
    assert isinstance(make_app(DemoConfig(headless=True), None, None), DemoApp)
    assert isinstance(make_app(DemoConfig(game="platformer", headless=True), None, None), PlatformerApp)


def test_gameai_demo_game_platformer_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["demo", "--game", "platformer", "--headless", "--seconds", "5", "--offline", "--no-realtime",
            "--screenshot-dir", str(tmp_path), "--seed", "1"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "an autopilot (collector) plays, 5 s" in out
    summary = json.loads(out[out.index("{") :])
    assert summary["game"] == "platformer" and summary["frames"] == 150
    assert main(["demo", "--game", "platformer", "--headless", "--autopilot", "ninja", "--offline"]) == 2
