"""Elo ratings of the agent's difficulty levels, from a round robin against the scripted styles.

The enemy side (the agent at each difficulty level, and the game's scripted enemy as a
yardstick) plays every scripted player (each style at several skills) the same number of
matches. Ratings are the maximum-likelihood Elo fit of all results at once (a draw counts
half a point; the expected score of A against B is ``1 / (1 + 10 ** ((R_B - R_A) / 400))``),
with a weak Gaussian prior so that a side that never scores keeps a finite rating, and
shifted so the scripted players average 1500. Unlike running Elo updates, the fit does not
depend on the order the matches were played in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gameai.model_files import write_json

if TYPE_CHECKING:
    from gameai.training.agents.config import AgentTrainConfig
    from gameai.training.agents.matches import Tally

ELO_SCALE = 400.0
"""Rating points for a factor of 10 in the odds."""
ANCHOR = 1500.0
"""Mean rating of the scripted players."""
PRIOR_SD = 600.0
"""Standard deviation of the prior on each rating, points (weak: only matters for one-sided records)."""


@dataclass(frozen=True)
class Result:
    """Matches between two participants: ``points`` scored by ``a`` out of ``matches``."""

    a: str
    b: str
    points: float
    matches: int


def fit_elo(names: Sequence[str], results: Sequence[Result], anchor_names: Sequence[str]) -> dict[str, float]:
    """Maximum-likelihood Elo ratings (Newton's method on the Bradley-Terry likelihood).

    Args:
        names: Every participant.
        results: Matches between them.
        anchor_names: Participants whose mean rating is set to :data:`ANCHOR`.

    Returns:
        ``{name: rating}``.
    """
    index = {name: i for i, name in enumerate(names)}
    k = math.log(10.0) / ELO_SCALE
    ratings = np.zeros(len(names))
    a = np.array([index[r.a] for r in results])
    b = np.array([index[r.b] for r in results])
    points = np.array([r.points for r in results])
    matches = np.array([r.matches for r in results], dtype=np.float64)
    precision = 1.0 / PRIOR_SD**2
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-k * (ratings[a] - ratings[b])))  # expected score of a
        residual = k * (points - matches * p)
        gradient = np.zeros(len(names))
        np.add.at(gradient, a, residual)
        np.add.at(gradient, b, -residual)
        gradient -= precision * ratings
        weight = k * k * matches * p * (1.0 - p)
        hessian = np.zeros((len(names), len(names)))
        np.add.at(hessian, (a, a), -weight)
        np.add.at(hessian, (b, b), -weight)
        np.add.at(hessian, (a, b), weight)
        np.add.at(hessian, (b, a), weight)
        hessian -= precision * np.eye(len(names))
        step = np.linalg.solve(hessian, gradient)
        ratings = ratings - step
        if np.abs(step).max() < 1e-6:
            break
    ratings += ANCHOR - ratings[[index[n] for n in anchor_names]].mean()
    return {name: float(ratings[i]) for name, i in index.items()}


def level_name(agent: str, difficulty: float) -> str:
    """The participant name of an agent at a difficulty, e.g. ``arena@d=0.50``."""
    return f"{agent}@d={difficulty:.2f}"


def round_robin(
    actor_dir: Path,
    difficulties: Sequence[float],
    styles: Sequence[str],
    skills: Sequence[float],
    matches: int,
    seed: int = 20_000,
    match_ticks: int = 900,
) -> dict[str, Any]:
    """Play the round robin and fit the ratings.

    Args:
        actor_dir: The exported agent.
        difficulties: The agent's levels (each is a participant).
        styles: Scripted player styles.
        skills: Skills each style plays at (each style@skill is a participant).
        matches: Matches per pairing.
        seed: Seed of the matches.
        match_ticks: Match length, ticks.

    Returns:
        The table: ``participants`` (name, side, rating, matches, score) and ``pairings``.
    """
    from gameai.agents.actor import load_actor
    from gameai.training.agents.matches import Opponent, play_matches, play_scripted_enemy

    actor = load_actor(actor_dir)
    levels = [level_name(actor.name, d) for d in difficulties]
    enemy = "scripted enemy"
    players = [Opponent(style, skill) for style in styles for skill in skills]
    results: list[Result] = []
    pairings: list[dict[str, Any]] = []

    def record(a: str, b: str, tally: Tally) -> None:
        results.append(Result(a, b, tally.wins + 0.5 * tally.draws, tally.matches))
        pairings.append({"enemy": a, "player": b, **tally.as_dict()})

    for player in players:
        tallies = play_matches(actor.net, player, difficulties, matches, seed, match_ticks)
        for name, tally in zip(levels, tallies, strict=True):
            record(name, player.name, tally)
        record(enemy, player.name, play_scripted_enemy(player, matches, seed, match_ticks))
    names = [*levels, enemy, *(p.name for p in players)]
    ratings = fit_elo(names, results, [p.name for p in players])
    participants = []
    for name in names:
        mine = [r for r in results if name in (r.a, r.b)]
        played = sum(r.matches for r in mine)
        scored = sum(r.points if r.a == name else r.matches - r.points for r in mine)
        participants.append(
            {
                "name": name,
                "side": "player" if name not in (*levels, enemy) else "enemy",
                "rating": round(ratings[name], 1),
                "matches": played,
                "score": round(scored / max(played, 1), 4),
            }
        )
    participants.sort(key=lambda p: -float(p["rating"]))
    return {
        "method": "maximum-likelihood Elo over all matches (draw = half a point), "
        "scripted players' mean = 1500",
        "matches_per_pairing": matches,
        "match_ticks": match_ticks,
        "seed": seed,
        "participants": participants,
        "pairings": pairings,
    }


def markdown_table(table: dict[str, Any]) -> str:
    """The ratings as a Markdown table."""
    lines = [
        "# Elo ratings of the arena agent",
        "",
        f"{table['method']}; {table['matches_per_pairing']} matches per pairing "
        "(every enemy-side participant against every scripted player).",
        "",
        "| participant | side | Elo | matches | score |",
        "|---|---|---:|---:|---:|",
    ]
    for p in table["participants"]:
        lines.append(f"| {p['name']} | {p['side']} | {p['rating']:.0f} | {p['matches']} | {p['score']:.3f} |")
    return "\n".join(lines) + "\n"


def rate_agent(actor_dir: Path, config: AgentTrainConfig) -> dict[str, Any]:
    """Step 3 of ``gameai train agent``: write ``ratings.json`` and ``ratings.md`` beside the actor.

    Returns:
        ``{participant: rating}``.
    """
    table = round_robin(
        actor_dir,
        config.eval_difficulties,
        config.opponent_styles,
        config.rating_skills,
        config.rating_matches,
        match_ticks=config.match_ticks,
    )
    write_json(actor_dir / "ratings.json", table)
    (actor_dir / "ratings.md").write_text(markdown_table(table), encoding="utf-8")
    return {p["name"]: p["rating"] for p in table["participants"]}
