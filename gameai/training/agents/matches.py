"""Whole matches of a served actor (or the scripted enemy) against scripted players, tallied.

Every evaluation of the agents goes through here: the evaluation callback, ``gameai eval
agent``, the rating round robin and the benchmark. The actor is played exactly as the
service plays it (:meth:`~gameai.agents.actor.ActorNet.act`: the difficulty written into
the observation, the handicap on the chosen action); the env itself adds nothing.

Matches at several difficulties share their seeds (arena j plays seed ``seed + j`` at every
level), so the levels meet the same players on the same layouts and their differences are
not noise of the draw.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Literal

import numpy as np
import torch

from demo_game.sim import ArenaConfig, ArenaField, ArenaRules, Outcome, key_from_generator
from demo_game.sim.scripted import ScriptedMatches
from demo_game.sim.styles import STYLES, style_params
from envs.vector_env import ArenaVectorEnv
from gameai.agents.actor import ActorNet
from gameai.training.agents.skilled_players import BEHAVIOURS, PlayerSpec, SkilledPlayer


@dataclasses.dataclass(frozen=True)
class Opponent:
    """A simulated player: a scripted style, or an independent behaviour, at a skill."""

    style: str
    """One of ``demo_game.sim.styles.STYLES`` (the styles the agent trained against) or of
    :data:`~gameai.training.agents.skilled_players.BEHAVIOURS` (independent players)."""
    skill: float
    """0 (weak) .. 1 (strong)."""

    @property
    def independent(self) -> bool:
        """Whether this is an independent player (:mod:`~gameai.training.agents.skilled_players`)."""
        return self.style in BEHAVIOURS

    @property
    def name(self) -> str:
        """``style@skill``, e.g. ``aggressive@0.5``."""
        return f"{self.style}@{self.skill:g}"

    @classmethod
    def parse(cls, text: str) -> Opponent:
        """Read ``style@skill`` (``style`` alone is skill 0.5), e.g. ``aggressive@0.2``, ``rusher@0.3``.

        Raises:
            ValueError: If the style is unknown or the skill is not a number in [0, 1].
        """
        style, _, skill_text = text.partition("@")
        if style not in STYLES and style not in BEHAVIOURS:
            raise ValueError(
                f"unknown player {style!r} in {text!r}; scripted styles: {', '.join(STYLES)}; "
                f"independent players: {', '.join(BEHAVIOURS)}"
            )
        try:
            skill = float(skill_text) if skill_text else 0.5
        except ValueError:
            raise ValueError(
                f"bad skill {skill_text!r} in {text!r}: expected style@skill, skill in [0, 1]"
            ) from None
        if not 0.0 <= skill <= 1.0:
            raise ValueError(f"skill must be in [0, 1], got {skill} in {text!r}")
        return cls(style, skill)


@dataclasses.dataclass
class Tally:
    """Outcomes of matches, from the agent's side."""

    wins: int = 0
    draws: int = 0
    losses: int = 0

    @property
    def matches(self) -> int:
        """Matches played."""
        return self.wins + self.draws + self.losses

    @property
    def win_rate(self) -> float:
        """Share of matches won."""
        return self.wins / max(self.matches, 1)

    @property
    def score(self) -> float:
        """Points per match, a draw counting half (the rate Elo ratings predict)."""
        return (self.wins + 0.5 * self.draws) / max(self.matches, 1)

    def add(self, agent_outcome: int) -> None:
        """Count one match: +1 the agent won, 0 a draw, -1 the agent lost."""
        if agent_outcome > 0:
            self.wins += 1
        elif agent_outcome < 0:
            self.losses += 1
        else:
            self.draws += 1

    def as_dict(self) -> dict[str, float]:
        """JSON-ready counts and rates."""
        return {
            "matches": self.matches,
            "wins": self.wins,
            "draws": self.draws,
            "losses": self.losses,
            "win_rate": round(self.win_rate, 4),
            "score": round(self.score, 4),
        }


PLAYER_RESULTS: dict[int, Literal["win", "loss", "draw"]] = {
    Outcome.WIN: "win",
    Outcome.LOSS: "loss",
    Outcome.TIMEOUT: "draw",
}
"""A finished match's :class:`~demo_game.sim.Outcome` as the player's ``match.result``."""


def arenas_against(opponent: Opponent, n: int, match_ticks: int = 900, seed: int = 0) -> ArenaVectorEnv:
    """``n`` arenas where the agent meets ``opponent`` at the game's own difficulty (d = 1, no handicap).

    ``seed`` seeds an independent player's generator (a scripted style draws from the arenas' own).
    """
    if opponent.independent:
        player = SkilledPlayer(PlayerSpec(opponent.style, opponent.skill), n, seed)
        return ArenaVectorEnv(n, opponent_policy=player, match_ticks=match_ticks)
    return ArenaVectorEnv(
        n,
        opponent_styles=(opponent.style,),
        opponent_skill=(opponent.skill, opponent.skill),
        match_ticks=match_ticks,
    )


def _agent_outcome(player_outcome: int) -> int:
    """+1 / 0 / -1 from the agent's side of a finished match's :class:`Outcome` (the player's side)."""
    if player_outcome == Outcome.LOSS:
        return 1
    if player_outcome == Outcome.WIN:
        return -1
    return 0


def play_matches(
    actor: ActorNet,
    opponent: Opponent,
    difficulties: Sequence[float],
    matches: int,
    seed: int = 0,
    match_ticks: int = 900,
    generator: torch.Generator | None = None,
) -> list[Tally]:
    """Play ``matches`` matches of the actor against ``opponent`` at each difficulty.

    Args:
        actor: The served actor (CPU).
        opponent: The simulated player (scripted or independent).
        difficulties: Difficulty levels in [0, 1].
        matches: Matches per level.
        seed: Arena j of every level plays a match seeded ``seed + j``.
        match_ticks: Match length, ticks.
        generator: Draws of the handicap (default: a generator seeded with ``seed``).

    Returns:
        One tally per difficulty, in order.
    """
    levels = len(difficulties)
    n = levels * matches
    env = arenas_against(opponent, n, match_ticks, seed)
    obs, _ = env.reset(seed=[seed + j for _ in range(levels) for j in range(matches)])
    difficulty = torch.tensor(np.repeat(np.asarray(difficulties, dtype=np.float32), matches))  # (n,)
    if generator is None:
        generator = torch.Generator().manual_seed(seed)
    outcome = np.zeros(n, dtype=np.int64)
    finished = np.zeros(n, dtype=np.bool_)
    with torch.inference_mode():
        while not finished.all():
            actions = actor.act(torch.from_numpy(obs), difficulty, generator).numpy()
            obs, _, terminated, _, infos = env.step(actions)
            for i in np.flatnonzero(terminated & ~finished):
                outcome[i] = _agent_outcome(int(infos["final_info"]["outcome"][i]))
                finished[i] = True
    tallies = []
    for k in range(levels):
        tally = Tally()
        for value in outcome[k * matches : (k + 1) * matches]:
            tally.add(int(value))
        tallies.append(tally)
    return tallies


def play_scripted_enemy(opponent: Opponent, matches: int, seed: int = 0, match_ticks: int = 900) -> Tally:
    """Play the game's scripted enemy (``demo_game.sim.styles.ENEMY_STYLE``) against ``opponent``.

    It is the enemy the agent replaces, so its rating is the yardstick of the agent's.

    Args:
        opponent: The scripted player (a scripted style).
        matches: Matches to play (match j seeded ``seed + j``).
        seed: First seed.
        match_ticks: Match length, ticks.

    Returns:
        The tally from the enemy's side.
    """
    if opponent.independent:
        raise ValueError(f"the scripted enemy meets scripted styles only, not {opponent.name!r}")
    rngs = [np.random.default_rng(seed + j) for j in range(matches)]
    keys = np.array([key_from_generator(rng) for rng in rngs], dtype=np.uint64)
    players = np.stack([style_params(opponent.style, rng, skill=opponent.skill) for rng in rngs])
    config = ArenaConfig(n_enemies=1, rules=ArenaRules(match_ticks=float(match_ticks)))
    game = ScriptedMatches(players, config, enemy_rng=np.random.default_rng(seed))
    game.reset(keys)
    arena = game.sim.state.arena
    while (arena[:, ArenaField.OUTCOME] == Outcome.RUNNING).any():
        game.step()
    tally = Tally()
    for value in arena[:, ArenaField.OUTCOME]:
        tally.add(_agent_outcome(int(value)))
    return tally
