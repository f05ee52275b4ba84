"""Skyline's shipped behaviour model (``assets/platformer/behaviour``), judged on players it never saw.

The players are fresh: seeds no recording of the model used, and style parameters drawn from
each style's whole range (the model's dataset drew them from its middle 80%). They are written
through the public dataset API (``demo_game.platformer.record``) and scored with the public
command (``gameai eval behaviour --dataset DIR --splits all``), the served view as a server
sends it over each player's minute of play.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_game.platformer.record import write_dataset
from demo_game.platformer.sim.styles import STYLES
from gameai.behaviour.look import load_frame_look
from gameai.cli import main

MODEL = Path(__file__).resolve().parents[3] / "assets" / "platformer" / "behaviour"


def _evaluate(tmp_path: Path, players_per_style: int, seconds: float, seed: int) -> dict:
    write_dataset(tmp_path / "fresh", players_per_style=players_per_style, seconds=seconds, seed=seed,
                  variation=(0.0, 1.0))  # fmt: skip
    args = ["eval", "behaviour", "--model-dir", str(MODEL), "--dataset", str(tmp_path / "fresh"),
            "--splits", "all", "--output-dir", str(tmp_path / "eval"), "--device", "cpu"]  # fmt: skip
    assert main(args) == 0
    report: dict = json.loads((tmp_path / "eval" / "eval.json").read_text())
    return report["splits"]["all"]


def test_the_shipped_model_has_the_games_classes_and_a_look_that_knows_its_game() -> None:
    config = json.loads((MODEL / "config.json").read_text())["config"]
    assert tuple(config["class_names"]) == tuple(STYLES)
    look = load_frame_look(MODEL)
    assert look is not None and look.metadata["separated"]
    assert look.metadata["own_unknown_share"] <= 0.02 and look.metadata["other_unknown_share"] >= 0.95


def test_fresh_players_are_told_apart_within_a_short_session(tmp_path: Path) -> None:
    split = _evaluate(tmp_path, players_per_style=1, seconds=30.0, seed=3535)
    assert split["served"]["macro_f1"] >= 0.6, split["served"]["per_class"]  # chance: 1/6
    assert split["look"]["unknown_share"] <= 0.02


@pytest.mark.slow
def test_served_macro_f1_on_held_out_players_over_a_minute_is_at_least_0_9(tmp_path: Path) -> None:
    split = _evaluate(tmp_path, players_per_style=8, seconds=60.0, seed=5353)
    served = split["served"]
    assert served["macro_f1"] >= 0.9, served["per_class"]
    bot_like = served["per_class"]["bot_like"]
    assert bot_like["precision"] >= 0.9, bot_like  # the accusation class: few false accusations
