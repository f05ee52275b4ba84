"""Independent simulated players: seeded, skill-dependent, parsed with clear errors, playable in matches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from demo_game.sim.observation import OBSERVATION_SIZE, ObservationField
from envs.vector_env import ArenaVectorEnv
from gameai.training.agents.matches import Opponent, arenas_against
from gameai.training.agents.skilled_players import MAX_DELAY_STEPS, PlayerSpec, SkilledPlayer

F = ObservationField


def _facing_target(n: int, sideways: float = 0.0) -> np.ndarray:
    """(n, OBSERVATION_SIZE): the agent 200 units to the right, in sight, moving along y; open floor."""
    obs = np.zeros((n, OBSERVATION_SIZE), dtype=np.float32)
    obs[:, F.TARGET_DX] = 200.0 / 640.0
    obs[:, F.TARGET_DISTANCE] = 200.0 / 800.0
    obs[:, F.TARGET_VISIBLE] = 1.0
    obs[:, F.TARGET_ALIVE] = 1.0
    obs[:, F.TARGET_VY] = sideways
    obs[:, F.RAY0 : F.RAY0 + 8] = 1.0
    return obs


def _play(player: SkilledPlayer, steps: int, seed: int = 0) -> list[np.ndarray]:
    env = ArenaVectorEnv(player.num_arenas, opponent_policy=player, match_ticks=300)
    env.reset(seed=seed)
    taken = []
    for _ in range(steps):
        env.step(np.zeros((player.num_arenas, 3), dtype=np.int64))
        taken.append(player._last.copy())
    return taken


def test_a_player_is_deterministic_given_its_seed() -> None:
    runs = [_play(SkilledPlayer(PlayerSpec("kiter", 0.4), 3, seed=7), 60) for _ in range(2)]
    assert all((a == b).all() for a, b in zip(*runs, strict=True))
    other = _play(SkilledPlayer(PlayerSpec("kiter", 0.4), 3, seed=8), 60)
    assert any((a != b).any() for a, b in zip(runs[0], other, strict=True))


def test_skill_sets_aim_trigger_and_reaction() -> None:
    n = 4000
    obs = _facing_target(n, sideways=0.3)  # moving down the screen: the + lead fits
    shots = {}
    for skill in (0.0, 1.0):
        player = SkilledPlayer(PlayerSpec("rusher", skill), n, seed=1)
        actions = np.concatenate([player(obs) for _ in range(MAX_DELAY_STEPS + 1)])
        fired = actions[actions[:, 1] > 0, 1]
        shots[skill] = (len(fired) / len(actions), (fired == 3).mean())
    assert shots[1.0][0] > 0.95 and shots[0.0][0] < 0.4  # trigger discipline
    assert shots[1.0][1] == 1.0 and shots[0.0][1] < 0.5  # the right lead vs a random one
    # A beginner reacts MAX_DELAY_STEPS steps late: it keeps acting on what it saw first.
    beginner, expert = (SkilledPlayer(PlayerSpec("rusher", s), 1, seed=0) for s in (0.0, 1.0))
    hidden = _facing_target(1)
    hidden[:, F.TARGET_VISIBLE] = 0.0
    for _ in range(3):
        beginner(hidden)
        expert(hidden)
    assert beginner.delay == MAX_DELAY_STEPS and expert.delay == 0
    assert all(expert(_facing_target(1))[0, 1] > 0 for _ in range(3))
    assert beginner(_facing_target(1))[0, 1] == 0  # still sees the hidden target


def test_behaviours_differ_in_range() -> None:
    """A rusher closes in; a kiter at close range backs off."""
    close = _facing_target(200)
    close[:, F.TARGET_DX] = 60.0 / 640.0
    close[:, F.TARGET_DISTANCE] = 60.0 / 800.0
    rusher = SkilledPlayer(PlayerSpec("rusher", 1.0), 200, seed=0)(close)
    kiter = SkilledPlayer(PlayerSpec("kiter", 1.0), 200, seed=0)(close)
    step_x = np.cos((np.arange(9) - 1) * np.pi / 4) * (np.arange(9) > 0)
    assert (step_x[rusher[:, 0]] > 0.9).all()  # straight at the target (+x)
    assert (step_x[kiter[:, 0]] < 0).all()  # away from it


def test_player_specs_parse_next_to_scripted_styles_with_clear_errors() -> None:
    assert Opponent.parse("rusher@0.2") == Opponent("rusher", 0.2)
    assert Opponent.parse("rusher@0.2").independent
    assert not Opponent.parse("aggressive@0.2").independent
    assert Opponent.parse("kiter").name == "kiter@0.5"
    with pytest.raises(ValueError, match=r"unknown player 'sniper'.*rusher, kiter"):
        Opponent.parse("sniper@0.3")
    with pytest.raises(ValueError, match=r"bad skill 'high'"):
        Opponent.parse("rusher@high")
    with pytest.raises(ValueError, match=r"skill must be in \[0, 1\]"):
        Opponent.parse("kiter@1.5")
    with pytest.raises(ValueError, match="unknown player behaviour"):
        PlayerSpec("camper", 0.5)


def test_arenas_against_an_independent_player_finish_matches() -> None:
    env = arenas_against(Opponent("rusher", 1.0), 2, match_ticks=240, seed=3)
    env.reset(seed=0)
    finished = 0
    for _ in range(130):
        _, _, terminated, _, _ = env.step(np.zeros((2, 3), dtype=np.int64))  # the agent stands still
        finished += int(terminated.sum())
    assert finished >= 2


@pytest.mark.slow
def test_the_shipped_agents_range_covers_the_weakest_players() -> None:
    """At d = 0 every player, the weakest first, scores most of the points (the served beginner
    handicap); every player scores less at d = 1 (~20 s)."""
    from gameai.training.agents.adapt import agent_range
    from gameai.training.agents.config import EvalAdaptConfig

    agents = Path(__file__).resolve().parents[4] / "assets" / "agents"
    report = agent_range(EvalAdaptConfig(agents_dir=str(agents), range_matches=40))
    rates = {p["player"]: [level["win_rate"] for level in p["levels"]] for p in report["players"]}
    assert rates["rusher@0"][0] >= 0.9 and all(at_0 >= 0.75 for at_0, _ in rates.values()), rates
    assert all(at_0 > at_1 for at_0, at_1 in rates.values()), rates
    assert rates["rusher@0"][1] <= 0.1 and rates["kiter@1"][1] <= 0.4, rates
