"""``gameai eval agent``: the served agent's win rate against a fixed reference opponent, per difficulty.

The actor is played as the service plays it (:func:`gameai.training.agents.matches.play_matches`).
For the design's measurements the same weights can be played as ablations
(:mod:`gameai.training.agents.ablation`): ``blind`` (the network is told d = 1 at every level,
so only the handicap weakens it) and other handicap chances.

With ``--env`` (or an agent trained on another Gymnasium environment) :func:`main` plays episodes
of that environment instead (:mod:`gameai.training.agents.evaluate_env`).
"""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from gymnasium import spaces

from demo_game.sim.observation import OBSERVATION_SIZE
from envs.spaces import action_space
from gameai.agents.actor import load_actor
from gameai.training.agents.ablation import HANDICAP_FIELDS, BlindActor, variant
from gameai.training.agents.config import EvalAgentConfig
from gameai.training.agents.evaluate_env import check_actor_fits, main_in_env
from gameai.training.agents.matches import Opponent, play_matches

__all__ = ["HANDICAP_FIELDS", "BlindActor", "evaluate_agent", "format_report", "main", "variant"]


def evaluate_agent(config: EvalAgentConfig) -> dict[str, Any]:
    """Play every level against the reference; return the per-level tallies and whether they rise.

    Returns:
        ``levels`` (difficulty, wins, draws, losses, win_rate, score), ``monotone`` (the win
        rate never drops as d rises) and ``strictly_increasing``.

    Raises:
        ValueError: If the agent's observation size or actions are not the arena's (before any match).
    """
    torch.set_num_threads(config.threads)
    actor = load_actor(Path(config.agent_dir))
    net = variant(actor.net, config)
    arena_observations = spaces.Box(-1.0, 1.0, shape=(OBSERVATION_SIZE,), dtype=np.float32)
    check_actor_fits(net.config, arena_observations, action_space(), f"agent {actor.name} in the arena")
    reference = Opponent.parse(config.reference)
    started = time.perf_counter()
    tallies = play_matches(
        net, reference, config.difficulties, config.matches, config.seed, config.match_ticks
    )
    rates = [t.win_rate for t in tallies]
    return {
        "agent": actor.name,
        "version": actor.version,
        "reference": reference.name,
        "matches_per_level": config.matches,
        "handicap": {name: getattr(net.config, name) for name in HANDICAP_FIELDS},
        "blind": config.blind,
        "levels": [
            {"difficulty": d, **t.as_dict()} for d, t in zip(config.difficulties, tallies, strict=True)
        ],
        "monotone": all(b >= a for a, b in itertools.pairwise(rates)),
        "strictly_increasing": all(b > a for a, b in itertools.pairwise(rates)),
        "seconds": round(time.perf_counter() - started, 1),
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as a text table."""
    variant_note = " (blind ablation)" if report["blind"] else ""
    lines = [
        f"agent {report['agent']} ({report['version']}){variant_note} against {report['reference']}, "
        f"{report['matches_per_level']} matches per level, handicap {report['handicap']}",
        "difficulty  win rate  draws  losses  score",
    ]
    for level in report["levels"]:
        n = level["matches"]
        lines.append(
            f"{level['difficulty']:10.2f}  {level['win_rate']:8.3f}  {level['draws'] / n:5.3f}  "
            f"{level['losses'] / n:6.3f}  {level['score']:5.3f}"
        )
    rates = [level["win_rate"] for level in report["levels"]]
    lines.append(
        f"win rate never falls as difficulty rises: {'yes' if report['monotone'] else 'no'}"
        f" (strictly rising: {'yes' if report['strictly_increasing'] else 'no'}; "
        f"d = {report['levels'][0]['difficulty']:g} -> {report['levels'][-1]['difficulty']:g}: "
        f"{rates[0]:.3f} -> {rates[-1]:.3f})"
    )
    return "\n".join(lines)


def main(config: EvalAgentConfig, as_json: bool) -> int:
    """Run and print: episodes in an environment (:func:`~gameai.training.agents.evaluate_env.main_in_env`,
    status 1 when the env reports success and the success rate falls somewhere as d rises, else 0) or
    arena matches (exit status 1 when the win rate does not rise monotonically)."""
    status = main_in_env(config, as_json)
    if status is not None:
        return status
    report = evaluate_agent(config)
    print(json.dumps(report, indent=2) if as_json else format_report(report))
    return 0 if report["monotone"] else 1
