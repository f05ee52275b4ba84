"""``gameai eval agent``: the served agent's win rate against a fixed reference opponent, per difficulty."""

from __future__ import annotations

import dataclasses
import itertools
import json
import time
from pathlib import Path
from typing import Any


@dataclasses.dataclass(frozen=True)
class EvalAgentConfig:
    """Options of ``gameai eval agent``."""

    agent_dir: str = "assets/agents/arena"
    """The exported agent (actor.safetensors + actor.json)."""
    reference: str = "aggressive@0.5"
    """The fixed reference opponent, ``style@skill``."""
    difficulties: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    """Difficulty levels to play at."""
    matches: int = 200
    """Matches per level (the same seeds at every level)."""
    seed: int = 0
    """Seed of the first match."""
    match_ticks: int = 900
    """Match length, ticks (900 = 30 s)."""
    threads: int = 1
    """Torch CPU threads."""


def evaluate_agent(config: EvalAgentConfig) -> dict[str, Any]:
    """Play every level against the reference; return the per-level tallies and whether they rise.

    Returns:
        ``levels`` (difficulty, wins, draws, losses, win_rate, score), ``monotone`` (the win
        rate never drops as d rises) and ``strictly_increasing``.
    """
    import torch

    from gameai.agents.actor import load_actor
    from gameai.agents.matches import Opponent, play_matches

    torch.set_num_threads(config.threads)
    actor = load_actor(Path(config.agent_dir))
    reference = Opponent.parse(config.reference)
    started = time.perf_counter()
    tallies = play_matches(
        actor.net, reference, config.difficulties, config.matches, config.seed, config.match_ticks
    )
    rates = [t.win_rate for t in tallies]
    return {
        "agent": actor.name,
        "version": actor.version,
        "reference": reference.name,
        "matches_per_level": config.matches,
        "levels": [
            {"difficulty": d, **t.as_dict()} for d, t in zip(config.difficulties, tallies, strict=True)
        ],
        "monotone": all(b >= a for a, b in itertools.pairwise(rates)),
        "strictly_increasing": all(b > a for a, b in itertools.pairwise(rates)),
        "seconds": round(time.perf_counter() - started, 1),
    }


def format_report(report: dict[str, Any]) -> str:
    """The report as a text table."""
    lines = [
        f"agent {report['agent']} ({report['version']}) against {report['reference']}, "
        f"{report['matches_per_level']} matches per level",
        "difficulty  win rate  draws  losses  score",
    ]
    for level in report["levels"]:
        n = level["matches"]
        lines.append(
            f"{level['difficulty']:10.2f}  {level['win_rate']:8.3f}  {level['draws'] / n:5.3f}  "
            f"{level['losses'] / n:6.3f}  {level['score']:5.3f}"
        )
    lines.append(f"win rate rises with difficulty: {'yes' if report['strictly_increasing'] else 'no'}")
    return "\n".join(lines)


def main(config: EvalAgentConfig, as_json: bool) -> int:
    """Run and print; exit status 1 when the win rate does not rise monotonically."""
    report = evaluate_agent(config)
    print(json.dumps(report, indent=2) if as_json else format_report(report))
    return 0 if report["monotone"] else 1
