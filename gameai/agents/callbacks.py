"""SB3 callbacks of an agent run: match outcomes, self-play snapshots, evaluation, checkpoints.

All act between two rollouts (``_on_rollout_start``: the policy has just been updated and
no rollout is half collected), so a checkpoint is always at an update boundary and a
resumed run continues exactly where the saved one stood.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from gameai.agents.actor import ActorNet, save_actor
from gameai.agents.matches import Opponent, play_matches
from gameai.agents.opponents import FrozenPolicyPool

ActorFromModel = Callable[[], ActorNet]
"""Returns the current policy as a served actor (see :func:`gameai.agents.export.actor_from_policy`)."""


class Every:
    """Fires once each time the step count crosses a multiple of ``interval`` (0: never)."""

    def __init__(self, interval: int, start: int = 0) -> None:
        self.interval = interval
        self.next = (start // interval + 1) * interval if interval > 0 else -1

    def due(self, step: int) -> bool:
        """Whether ``step`` reached the next multiple; if so, move on to the one after."""
        if self.interval <= 0 or step < self.next:
            return False
        self.next = (step // self.interval + 1) * self.interval
        return True


class MatchOutcomeCallback(BaseCallback):
    """Logs ``charts/win_rate``, ``charts/draw_rate`` (and the self-play arenas' win rate) per rollout.

    Args:
        self_play_from: Index of the first self-play arena (arenas from there on are reported
            apart); None when there are none.
        window: Finished matches the rates are averaged over.
    """

    def __init__(self, self_play_from: int | None = None, window: int = 200) -> None:
        super().__init__()
        self.self_play_from = self_play_from
        self.scripted: deque[int] = deque(maxlen=window)
        self.self_play: deque[int] = deque(maxlen=window)

    def _on_step(self) -> bool:
        dones = self.locals["dones"]
        if dones.any():
            infos = self.locals["infos"]
            for i in np.flatnonzero(dones):
                info = infos[i]
                if "outcome" not in info:
                    continue
                outcome = 1 if info["agent_won"] else (0 if info["outcome"] == 3 else -1)
                is_self_play = self.self_play_from is not None and i >= self.self_play_from
                (self.self_play if is_self_play else self.scripted).append(outcome)
        return True

    def _on_rollout_end(self) -> None:
        if self.scripted:
            outcomes = np.asarray(self.scripted)
            self.logger.record("charts/win_rate", float((outcomes == 1).mean()))
            self.logger.record("charts/draw_rate", float((outcomes == 0).mean()))
        if self.self_play:
            self.logger.record("charts/self_play_win_rate", float((np.asarray(self.self_play) == 1).mean()))


class SelfPlayCallback(BaseCallback):
    """Adds a frozen copy of the policy to the self-play pool every ``every`` env steps.

    The pool gets the current policy at the start of training (when empty), so self-play
    arenas have a player from the first step. Each member is also written to
    ``directory/<step>/`` (``actor.safetensors`` + ``actor.json``) so a resumed run gets its pool back.

    Args:
        pool: The pool the self-play arenas' player comes from.
        actor_from_model: Converts the current policy.
        every: Env steps between snapshots.
        directory: Where members are saved.
    """

    def __init__(
        self, pool: FrozenPolicyPool, actor_from_model: ActorFromModel, every: int, directory: Path
    ) -> None:
        super().__init__()
        self.pool = pool
        self.actor_from_model = actor_from_model
        self.every = every
        self.directory = directory
        self._schedule: Every | None = None

    def _on_training_start(self) -> None:
        self._schedule = Every(self.every, self.model.num_timesteps)
        if not self.pool.members:
            self._snapshot(self.model.num_timesteps)

    def _on_rollout_start(self) -> None:
        assert self._schedule is not None
        step = self.model.num_timesteps
        if self._schedule.due(step):
            self._snapshot(step)

    def _snapshot(self, step: int) -> None:
        actor = self.actor_from_model()
        label = f"{step:012d}"
        # Written aside and renamed into place, so a run killed mid-write leaves no member
        # without its actor.json for the resumed run to trip on.
        staging = self.directory / f".{label}.partial"
        shutil.rmtree(staging, ignore_errors=True)
        save_actor(staging, actor, {"timesteps": step})
        final = self.directory / label
        shutil.rmtree(final, ignore_errors=True)  # a resumed run snapshots a step it did before
        os.replace(staging, final)
        self.pool.add(actor, label)
        self.logger.record("charts/self_play_pool_size", len(self.pool.members))

    def _on_step(self) -> bool:
        return True


class ArenaEvalCallback(BaseCallback):
    """Plays the current policy against the reference opponent at several difficulties.

    Logs ``eval/win_rate_d{d}`` and ``eval/score_d{d}`` per level, and ``eval/monotone``
    (1 when the win rate never drops as d rises); keeps every evaluation in :attr:`history`.

    Args:
        actor_from_model: Converts the current policy.
        reference: The fixed opponent.
        difficulties: Levels played.
        matches: Matches per level.
        every: Env steps between evaluations (also one at the end of training).
        seed: Seed of the matches (the same every time, so evaluations compare like with like).
        match_ticks: Match length, ticks.
        on_result: Called with each evaluation's record (e.g. to stop at a goal).
    """

    def __init__(
        self,
        actor_from_model: ActorFromModel,
        reference: Opponent,
        difficulties: Sequence[float],
        matches: int,
        every: int,
        seed: int = 10_000,
        match_ticks: int = 900,
        on_result: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        super().__init__()
        self.actor_from_model = actor_from_model
        self.reference = reference
        self.difficulties = tuple(difficulties)
        self.matches = matches
        self.every = every
        self.seed = seed
        self.match_ticks = match_ticks
        self.on_result = on_result
        self.history: list[dict[str, Any]] = []
        """One record per evaluation: timesteps, wall time, win rate and score per level."""
        self._schedule: Every | None = None
        self._started = time.perf_counter()
        self._continue = True

    def _on_training_start(self) -> None:
        self._schedule = Every(self.every, self.model.num_timesteps)
        self._started = time.perf_counter()

    def _on_rollout_start(self) -> None:
        assert self._schedule is not None
        if self._schedule.due(self.model.num_timesteps):
            self.evaluate()

    def _on_training_end(self) -> None:
        if self._continue and (not self.history or self.history[-1]["timesteps"] != self.model.num_timesteps):
            self.evaluate()
            self.logger.dump(self.model.num_timesteps)  # SB3 dumps at rollout ends only

    def evaluate(self) -> dict[str, Any]:
        """Play the evaluation now, log it and return its record."""
        actor = self.actor_from_model()
        tallies = play_matches(
            actor, self.reference, self.difficulties, self.matches, self.seed, self.match_ticks
        )
        win_rates = [t.win_rate for t in tallies]
        record: dict[str, Any] = {
            "timesteps": int(self.model.num_timesteps),
            "train_seconds": time.perf_counter() - self._started,
            "win_rate": dict(zip(self.difficulties, win_rates, strict=True)),
            "score": {d: t.score for d, t in zip(self.difficulties, tallies, strict=True)},
            "monotone": bool(all(b >= a for a, b in itertools.pairwise(win_rates))),
        }
        for d, tally in zip(self.difficulties, tallies, strict=True):
            self.logger.record(f"eval/win_rate_d{d:.2f}", tally.win_rate)
            self.logger.record(f"eval/score_d{d:.2f}", tally.score)
        self.logger.record("eval/monotone", float(record["monotone"]))
        self.history.append(record)
        if self.on_result is not None:
            self._continue = self.on_result(record)
        return record

    def _on_step(self) -> bool:
        return self._continue


class CheckpointCallback(BaseCallback):
    """Saves the model (SB3 zip) and the run's state every ``every`` env steps, atomically.

    ``directory/state.json`` names the run and the latest checkpoint; a killed run is
    resumed from it (:func:`gameai.agents.train.train_ppo`). The last ``keep`` zips are kept.

    Args:
        directory: The experiment's checkpoint folder.
        every: Env steps between checkpoints.
        state: Extra JSON state saved with each checkpoint (the run name...).
        keep: Checkpoints kept on disk.
    """

    def __init__(self, directory: Path, every: int, state: dict[str, Any], keep: int = 2) -> None:
        super().__init__()
        self.directory = directory
        self.every = every
        self.state = state
        self.keep = keep
        self._schedule: Every | None = None

    def _on_training_start(self) -> None:
        self._schedule = Every(self.every, self.model.num_timesteps)

    def _on_rollout_start(self) -> None:
        assert self._schedule is not None
        if self._schedule.due(self.model.num_timesteps):
            self.save()

    def save(self, finished: bool = False) -> Path:
        """Write a checkpoint now and return its path."""
        steps = int(self.model.num_timesteps)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"ckpt_{steps:012d}.zip"
        tmp = self.directory / f"ckpt_{steps:012d}.tmp.zip"
        self.model.save(tmp)
        os.replace(tmp, path)
        write_state(
            self.directory, {**self.state, "timesteps": steps, "checkpoint": path.name, "finished": finished}
        )
        for old in sorted(self.directory.glob("ckpt_*.zip"))[: -self.keep]:
            if old != path:
                old.unlink()
        return path

    def _on_step(self) -> bool:
        return True


class RolloutTimerCallback(BaseCallback):
    """Adds up the time spent collecting rollouts (env steps and policy forwards), apart from updates."""

    def __init__(self) -> None:
        super().__init__()
        self.seconds = 0.0
        """Seconds spent in rollouts so far."""
        self._start = 0.0

    def _on_rollout_start(self) -> None:
        self._start = time.perf_counter()

    def _on_rollout_end(self) -> None:
        self.seconds += time.perf_counter() - self._start

    def _on_step(self) -> bool:
        return True


STATE_FILE = "state.json"


def write_state(directory: Path, state: dict[str, Any]) -> None:
    """Write ``state.json`` atomically."""
    tmp = directory / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, directory / STATE_FILE)


def read_state(directory: Path) -> dict[str, Any] | None:
    """The run state in ``directory``, or None when there is none (or it names no checkpoint on disk)."""
    path = directory / STATE_FILE
    if not path.is_file():
        return None
    state: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not (directory / state.get("checkpoint", "")).is_file():
        return None
    return state
