"""``gameai eval adapt``: simulated players against the served agent, with and without adaptation.

For each control mode (``adaptive``, then ``fixed`` at ``fixed_difficulty``) a real
``gameai serve`` is started on a free loopback port, serving the exported agent with that
difficulty control. Every simulated player (by default an independent player of
:mod:`gameai.training.agents.skilled_players` at a skill; a scripted style works too) opens its own
session and plays ``matches`` matches in its own arena: each env step its observation
goes out in an ``act`` (no difficulty: the session's controller decides), the ``action``
that comes back is played, and each finished match is reported with ``match.result``.
All players play at once, so the server batches their ``act`` requests together.

A player's win rate counts a draw as half a win (the rate the controller holds). The
report gives each player's win rate over the last ``last`` matches and the spread across
players, for both modes, and the agent's range: each player's win rate against the agent
at fixed difficulties (``range_difficulties``, by default 0 and 1), played in-process as the
service plays the actor (:func:`~gameai.training.agents.matches.play_matches`), so one sees
whether the weakest and strongest players lie inside what d can reach.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np

from gameai.training.agents.config import EvalAdaptConfig
from gameai.training.agents.matches import PLAYER_RESULTS, Opponent, arenas_against, play_matches

DifficultyControl = Literal["adaptive", "fixed"]

_POINTS = {"win": 1.0, "draw": 0.5, "loss": 0.0}


@dataclasses.dataclass
class PlayerRun:
    """One simulated player's matches."""

    player: str
    outcomes: list[str] = dataclasses.field(default_factory=list)
    """Per match, from the player's side: win, draw or loss."""
    difficulties: list[float] = dataclasses.field(default_factory=list)
    """Per match, the difficulty the agent was served at."""

    def win_rate(self, last: int) -> float:
        """The player's points per match over the last ``last`` matches (a draw counts half)."""
        recent = self.outcomes[-last:]
        return sum(_POINTS[o] for o in recent) / max(len(recent), 1)


async def play_player(
    url: str, player: Opponent, npc_id: str, agent: str, matches: int, seed: int, match_ticks: int
) -> PlayerRun:
    """Play one simulated player's matches against the served agent through its own session."""
    from gameai.client.async_client import ClientConfig, GameAIClient

    client = await GameAIClient.connect(ClientConfig(url=url, game_id="eval-adapt", services=("agents",)))
    env = arenas_against(player, 1, match_ticks, seed)
    obs, _ = env.reset(seed=seed)
    run = PlayerRun(player.name)
    served = 0.0
    try:
        while len(run.outcomes) < matches:
            action = await client.act(npc_id, obs[0], agent=agent)
            served = action.difficulty
            obs, _, terminated, _, infos = env.step(np.asarray([action.action], dtype=np.int64))
            if terminated[0]:
                final = infos["final_info"]
                outcome = PLAYER_RESULTS[int(final["outcome"][0])]
                await client.match_result(outcome, npc_id=npc_id, duration_s=float(final["ticks"][0]) / 30.0)
                run.outcomes.append(outcome)
                run.difficulties.append(served)
    finally:
        await client.close()
        env.close()
    return run


async def play_all(url: str, config: EvalAdaptConfig) -> list[PlayerRun]:
    """Every player at once, one session each."""
    players = [Opponent.parse(p) for p in config.players]
    return list(
        await asyncio.gather(
            *(
                play_player(
                    url, p, f"rival-{i}", config.agent, config.matches, config.seed + i, config.match_ticks
                )
                for i, p in enumerate(players)
            )
        )
    )


def run_mode(config: EvalAdaptConfig, mode: DifficultyControl) -> dict[str, Any]:
    """Serve the agent with one difficulty control and let every player play against it."""
    from gameai.testing.servers import ServerProcess

    args = [
        "--agents-dir", config.agents_dir, "--behaviour-model", "", "--dialogue-model", "",
        "--difficulty-control", mode, "--default-difficulty", str(config.fixed_difficulty),
        "--difficulty-target", str(config.target), "--max-messages-per-s", "1000000",
        "--idle-timeout-s", "600", "--no-http",
    ]  # fmt: skip
    started = time.perf_counter()
    with ServerProcess(args) as server:
        runs = asyncio.run(play_all(server.url, config))
    rates = [r.win_rate(config.last) for r in runs]
    return {
        "mode": mode,
        "players": [
            {
                "player": r.player,
                "last_win_rate": round(rate, 4),
                "last_wins": r.outcomes[-config.last :].count("win"),
                "last_draws": r.outcomes[-config.last :].count("draw"),
                "final_difficulty": round(r.difficulties[-1], 4),
                "outcomes": "".join(o[0].upper() for o in r.outcomes),
                "difficulties": [round(d, 3) for d in r.difficulties],
            }
            for r, rate in zip(runs, rates, strict=True)
        ],
        "spread": round(max(rates) - min(rates), 4),
        "within_goal": all(abs(rate - config.target) <= config.tolerance for rate in rates),
        "seconds": round(time.perf_counter() - started, 1),
    }


def agent_range(config: EvalAdaptConfig) -> dict[str, Any]:
    """Each player's win rate (a draw counts half) against the agent at each of ``range_difficulties``.

    Played in-process with the exported actor (its handicap as served), ``range_matches``
    matches per level with shared seeds; no server, so this takes seconds.
    """
    import torch

    from gameai.agents.actor import load_actor

    started = time.perf_counter()
    net = load_actor(Path(config.agents_dir) / config.agent).net
    players = []
    for i, text in enumerate(config.players):
        player = Opponent.parse(text)
        tallies = play_matches(
            net, player, config.range_difficulties, config.range_matches,
            seed=config.seed + 1000 * (i + 1), match_ticks=config.match_ticks,
            generator=torch.Generator().manual_seed(config.seed + i),
        )  # fmt: skip
        players.append(
            {
                "player": player.name,
                "levels": [
                    {
                        "difficulty": d,
                        "win_rate": round(1.0 - t.score, 4),  # the player's side: the agent's losses
                        "wins": t.losses,
                        "draws": t.draws,
                        "losses": t.wins,
                    }
                    for d, t in zip(config.range_difficulties, tallies, strict=True)
                ],
            }
        )
    return {
        "difficulties": list(config.range_difficulties),
        "matches": config.range_matches,
        "players": players,
        "seconds": round(time.perf_counter() - started, 1),
    }


def evaluate_adaptation(config: EvalAdaptConfig) -> dict[str, Any]:
    """Run every mode (and the agent's range); return the JSON-ready report."""
    if not (Path(config.agents_dir) / config.agent).is_dir():
        raise FileNotFoundError(
            f"no agent {config.agent!r} in {config.agents_dir}; run `gameai train agent all`"
        )
    for text in config.players:
        Opponent.parse(text)  # a bad name fails before any server starts
    return {
        "agent": config.agent,
        "matches": config.matches,
        "last": config.last,
        "target": config.target,
        "tolerance": config.tolerance,
        "fixed_difficulty": config.fixed_difficulty,
        "modes": {mode: run_mode(config, mode) for mode in config.modes},  # type: ignore[arg-type]
        "range": agent_range(config) if config.range_matches > 0 and config.range_difficulties else None,
    }


def format_report(report: dict[str, Any]) -> str:
    """Every mode side by side, one line per player, then the agent's range at fixed difficulties."""
    modes = report["modes"]
    last = report["last"]
    ranged = report.get("range")
    range_columns = [f"d={d:g} ({ranged['matches']})" for d in ranged["difficulties"]] if ranged else []
    header = (
        f"{'player':14s}"
        + "".join(f"  {mode + f' last-{last}':>16s}  {'final d':>7s}" for mode in modes)
        + "".join(f"  {c:>10s}" for c in range_columns)
    )
    lines = [
        f"simulated players vs served agent {report['agent']!r}: {report['matches']} matches each; "
        f"win rate = player's points per match over the last {last} (draw = half)"
        + (f"; d=X: win rate over {ranged['matches']} matches at fixed d (in-process)" if ranged else ""),
        header,
    ]
    names = [p["player"] for p in next(iter(modes.values()))["players"]] if modes else []
    if not names and ranged:
        names = [p["player"] for p in ranged["players"]]
    for i, name in enumerate(names):
        cells = "".join(
            f"  {m['players'][i]['last_win_rate']:16.2f}  {m['players'][i]['final_difficulty']:7.2f}"
            for m in modes.values()
        )
        if ranged:
            cells += "".join(f"  {level['win_rate']:10.2f}" for level in ranged["players"][i]["levels"])
        lines.append(f"{name:14s}{cells}")
    if modes:
        lines.append(f"{'spread':14s}" + "".join(f"  {m['spread']:16.2f}  {'':7s}" for m in modes.values()))
    if "adaptive" in modes:
        goal = f"{report['target']:.0%} +/- {report['tolerance']:.0%}"
        verdict = "yes" if modes["adaptive"]["within_goal"] else "no"
        lines.append(f"every player within {goal} under adaptation: {verdict}")
    return "\n".join(lines)


def main(config: EvalAdaptConfig, as_json: bool) -> int:
    """Run, print; exit status 1 if the adaptive mode misses the goal."""
    report = evaluate_adaptation(config)
    print(json.dumps(report, indent=2) if as_json else format_report(report))
    adaptive = report["modes"].get("adaptive")
    return 0 if adaptive is None or adaptive["within_goal"] else 1
