"""SB3 callbacks of any agent run: step schedules, evaluation, checkpoints, rollout timing.

All act between two rollouts (``_on_rollout_start``: the policy has just been updated and
no rollout is half collected), so a checkpoint is always at an update boundary and a
resumed run continues exactly where the saved one stood. The arena's own callbacks (match
outcomes, self-play snapshots, its evaluation) are in :mod:`gameai.training.agents.arena`.
"""

from __future__ import annotations

import json
import os
import time
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import HParam


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


class EvaluationCallback(BaseCallback):
    """Evaluates the current policy every ``every`` env steps and once at the end of training.

    Subclasses say how in :meth:`measure`; this logs the figures it returns under ``eval/``
    and keeps every evaluation in :attr:`history`.

    Args:
        every: Env steps between evaluations (0: only at the end of training).
        on_result: Called with each evaluation's record; returning False stops training.
    """

    def __init__(self, every: int, on_result: Callable[[dict[str, Any]], bool] | None = None) -> None:
        super().__init__()
        self.every = every
        self.on_result = on_result
        self.history: list[dict[str, Any]] = []
        """One record per evaluation: timesteps, wall time, then what :meth:`measure` returned."""
        self._schedule: Every | None = None
        self._started = time.perf_counter()
        self._continue = True

    @abstractmethod
    def measure(self) -> tuple[dict[str, Any], dict[str, float]]:
        """Evaluate the current policy: (fields of the record, scalars logged as ``eval/<name>``)."""

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
        fields, scalars = self.measure()
        record: dict[str, Any] = {
            "timesteps": int(self.model.num_timesteps),
            "train_seconds": time.perf_counter() - self._started,
            **fields,
        }
        for name, value in scalars.items():
            self.logger.record(f"eval/{name}", value)
        self.history.append(record)
        if self.on_result is not None:
            self._continue = self.on_result(record)
        return record

    def _on_step(self) -> bool:
        return self._continue


Companion = Callable[[Path], Path | None]
"""Writes a file beside a checkpoint just saved (its path given) and returns it (None: nothing written)."""


class CheckpointCallback(BaseCallback):
    """Saves the model (SB3 zip), its companions and the run's state every ``every`` env steps, atomically.

    ``directory/state.json`` names the run and the latest checkpoint; a killed run is
    resumed from it (:func:`gameai.training.agents.train.learn`). The last ``keep`` zips are
    kept, each with its companion files (``ckpt_<steps>.<what>``: the VecNormalize statistics);
    companions named in ``latest_only`` (the replay buffer, which may be large) only beside the newest.

    Args:
        directory: The experiment's checkpoint folder.
        every: Env steps between checkpoints.
        state: Extra JSON state saved with each checkpoint (the run name...).
        keep: Checkpoints kept on disk.
        companions: Called after each zip is written, before the state names it.
        latest_only: Suffixes (after the stem) of companions kept only beside the newest checkpoint.
    """

    def __init__(
        self,
        directory: Path,
        every: int,
        state: dict[str, Any],
        keep: int = 2,
        companions: list[Companion] | None = None,
        latest_only: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        self.directory = directory
        self.every = every
        self.state = state
        self.keep = keep
        self.companions = companions or []
        self.latest_only = latest_only
        self._schedule: Every | None = None

    def _on_training_start(self) -> None:
        self._schedule = Every(self.every, self.model.num_timesteps)

    def _on_rollout_start(self) -> None:
        assert self._schedule is not None
        if self._schedule.due(self.model.num_timesteps):
            self.save()

    def save(self, finished: bool = False) -> Path:
        """Write a checkpoint (and its companions) now and return its path."""
        steps = int(self.model.num_timesteps)
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"ckpt_{steps:012d}.zip"
        tmp = self.directory / f"ckpt_{steps:012d}.tmp.zip"
        self.model.save(tmp)
        os.replace(tmp, path)
        for companion in self.companions:
            companion(path)
        write_state(
            self.directory, {**self.state, "timesteps": steps, "checkpoint": path.name, "finished": finished}
        )
        for old in sorted(self.directory.glob("ckpt_*.zip"))[: -self.keep]:
            if old != path:
                for file in self.directory.glob(f"{old.stem}.*"):
                    file.unlink()
        for suffix in self.latest_only:
            for file in self.directory.glob(f"ckpt_*{suffix}"):
                if file.name != path.stem + suffix:
                    file.unlink()
        return path

    def _on_step(self) -> bool:
        return True


class HParamsCallback(BaseCallback):
    """Records the run's hyperparameters in TensorBoard's HParams tab when training starts.

    Args:
        hparams: Flat values (bool, str, float or None).
        metrics: Scalars the HParams tab shows beside them (must be logged by the run).
    """

    def __init__(self, hparams: dict[str, bool | str | float | None], metrics: tuple[str, ...]) -> None:
        super().__init__()
        self.hparams = hparams
        self.metrics = metrics

    def _on_training_start(self) -> None:
        metric_dict = {name: 0.0 for name in self.metrics}
        self.logger.record(
            "hparams", HParam(self.hparams, metric_dict), exclude=("stdout", "log", "json", "csv")
        )
        self.logger.dump(self.model.num_timesteps)

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
