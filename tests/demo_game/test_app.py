"""The demo app, headless with an autopilot, as ``make demo`` runs it without a display."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from demo_game.app import FRIENDLY_NPCS, DemoApp, friendly_names
from demo_game.config import DemoConfig
from gameai.dialogue.npc_card import load_npc_cards


def test_headless_autopilot_run_plays_and_saves_screenshots(tmp_path: Path) -> None:
    config = DemoConfig(headless=True, autopilot="aggressive", seconds=6, screenshot_dir=str(tmp_path),
                        screenshot_every=2, seed=3, realtime=False)  # fmt: skip
    summary = DemoApp(config).run()
    assert summary["mode"] == "headless" and summary["autopilot"] == "aggressive"
    assert summary["frames"] == 180 and summary["game_seconds"] == 6.0
    assert summary["events"].get("fire", 0) > 0
    shots = [Path(p) for p in summary["screenshots"]]
    assert len(shots) >= 3 and all(p.exists() for p in shots)
    image = pygame.surfarray.array3d(pygame.image.load(str(shots[-1])))
    assert image.shape[:2] == (1280, 720) and image.std() > 10
    first = pygame.surfarray.array3d(pygame.image.load(str(shots[0])))
    assert np.any(first != image), "the game moved between screenshots"


def test_unknown_autopilot_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown autopilot"):
        DemoApp(DemoConfig(headless=True, autopilot="ninja"))


def test_friendly_names_are_the_cards_names() -> None:
    assert friendly_names() == ["Brann the blacksmith", "Mira the healer"]
    cards = load_npc_cards(Path(__file__).parents[2] / "assets" / "dialogue" / "npcs.toml")
    assert friendly_names() == [f"{cards[npc].name} the {cards[npc].role}" for npc in FRIENDLY_NPCS]
