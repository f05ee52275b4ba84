"""Smoothing a session's behaviour results over time, so that the label does not flicker.

One window of frames is weak evidence (a second of play rarely tells an explorer from a
collector); a player keeps a style for a while. :class:`BehaviourSmoother` keeps an
exponentially weighted mean of each class's log-probability (a window's weight halves every
``half_life_s`` seconds of play; the mean is normalised by the total weight, so at the start
of a session every window so far counts equally rather than the first one dominating), turns
it back into probabilities with a softmax, and changes the reported label only when another
class overtakes the current one by ``switch_margin`` (hysteresis). A label can also be held
to a minimum smoothed probability (``min_probabilities``: a game may act on ``bot_like``
against a player, so the server says it only when the evidence is strong); below it the next
most likely label is reported instead. That minimum may fall as the session goes on
(``min_probability_schedule``): a session's first seconds rest on few windows, later ones on
many. Pure numpy, no I/O; one per session.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from gameai.behaviour.calibration import NEVER, accusation_classes, bot_like_guard, class_calibration_metadata
from gameai.vocabulary import BEHAVIOURS

#: Probabilities are clipped to at least this before their log is taken.
_FLOOR = 1e-6
#: Seconds within which a session's age counts as the start of a period of its schedule (the
#: age adds up frame times, so 25 frames at 5 fps may make 5.000000000000001 s).
_AGE_TOLERANCE_S = 1e-6


@dataclass(frozen=True)
class SmoothingConfig:
    """How behaviour results are smoothed."""

    half_life_s: float = 6.0
    """Seconds of play after which a window's evidence counts half; 0 turns smoothing off."""
    switch_margin: float = 0.1
    """The reported label changes only when another class's smoothed probability exceeds it by this."""
    min_probabilities: tuple[tuple[str, float], ...] = ()
    """``(label, p)`` pairs: that label is reported only while its smoothed probability is at
    least ``p``; otherwise the most likely of the other labels is. Labels the model does not
    have are ignored. Empty: every label like any other."""
    min_probability_schedule: tuple[tuple[str, float, float], ...] = ()
    """``(label, from_s, p)`` rows: once the session has seen more than ``from_s`` seconds of
    play, that label is reported only while its smoothed probability is at least ``p`` (1: not
    at all), until a later row of the label begins. Each label's first row begins at 0. With
    ``min_probabilities`` too, the higher of the two holds."""

    def minimums_of(self, label: str) -> tuple[tuple[float, float], ...]:
        """``(from_s, p)`` rows: the smoothed probability ``label`` needs from each age of a session
        on, with ``min_probabilities`` and the schedule together (empty: none)."""
        floor = dict(self.min_probabilities).get(label, 0.0)
        rows = tuple(
            (from_s, max(p, floor)) for name, from_s, p in self.min_probability_schedule if name == label
        )
        return rows or (((0.0, floor),) if floor > 0 else ())

    def __post_init__(self) -> None:
        if self.half_life_s < 0 or not 0.0 <= self.switch_margin < 1.0:
            raise ValueError("half_life_s must be >= 0 and switch_margin in [0, 1)")
        for pair in self.min_probabilities:
            if len(pair) != 2 or not isinstance(pair[0], str) or not 0.0 <= pair[1] < 1.0:
                raise ValueError(f"min_probabilities needs (label, p) pairs with p in [0, 1), got {pair!r}")
        starts: dict[str, list[float]] = {}
        for row in self.min_probability_schedule:
            if len(row) != 3 or not isinstance(row[0], str) or row[1] < 0 or not 0.0 <= row[2] <= 1.0:
                raise ValueError(
                    "min_probability_schedule needs (label, from_s, p) rows with from_s >= 0 "
                    f"and p in [0, 1], got {row!r}"
                )
            starts.setdefault(row[0], []).append(row[1])
        for label, label_starts in starts.items():
            if label_starts[0] != 0.0 or label_starts != sorted(set(label_starts)):
                raise ValueError(
                    f"the schedule of {label!r} must begin at 0 s and go forward in time: {label_starts}"
                )


class SmoothingSettings(Protocol):
    """The server settings smoothing is made from (:class:`~gameai.runtime.config.RuntimeConfig` has them)."""

    @property
    def behaviour_smoothing_s(self) -> float: ...
    @property
    def behaviour_switch_margin(self) -> float: ...
    @property
    def behaviour_bot_like_min_probability(self) -> float: ...
    @property
    def behaviour_bot_like_min_precision(self) -> float | None: ...


def smoothing_config(
    runtime: SmoothingSettings,
    model_metadata: Mapping[str, Any] | None = None,
    class_names: tuple[str, ...] = BEHAVIOURS,
) -> SmoothingConfig:
    """The smoothing a server with ``runtime``'s settings applies (``behaviour_*`` fields).

    Every accusation class of the model (:func:`~gameai.behaviour.calibration.accusation_classes`:
    ``bot_like`` for the arena's, a game's own from its dataset) is held back the same way: to
    ``behaviour_bot_like_min_probability``, and by its own calibration to
    ``behaviour_bot_like_min_precision``.

    Args:
        runtime: The server's settings (a :class:`~gameai.runtime.config.RuntimeConfig`).
        model_metadata: The behaviour model's ``config.json`` metadata, where
            ``behaviour_bot_like_min_precision`` looks up its calibrations (none: the default
            precision holds nothing back).
        class_names: The model's classes.

    Raises:
        ValueError: If a minimum is out of range, the model's accusation classes are garbled,
            or a minimum precision is asked of a model without a calibration that reached it.
    """
    floor = runtime.behaviour_bot_like_min_probability
    if not 0.0 <= floor < 1.0:
        raise ValueError(f"behaviour_bot_like_min_probability must be in [0, 1), got {floor}")
    metadata = model_metadata or {}
    schedule: list[tuple[str, float, float]] = []
    floors: list[tuple[str, float]] = []
    for label in accusation_classes(metadata, class_names):
        own = class_calibration_metadata(metadata, label)
        guard = bot_like_guard(own, runtime.behaviour_bot_like_min_precision, label)
        if guard.schedule is not None:
            schedule += [(label, from_s, p) for from_s, p in guard.schedule.minimums()]
        if floor > 0:
            floors.append((label, floor))
    return SmoothingConfig(
        runtime.behaviour_smoothing_s, runtime.behaviour_switch_margin, tuple(floors), tuple(schedule)
    )


@dataclass(frozen=True)
class SmoothedBehaviour:
    """The smoothed result after one window."""

    label: str
    """The reported behaviour (changes only past the switch margin)."""
    probabilities: np.ndarray
    """``(n_classes,)`` smoothed probabilities, summing to 1."""
    confidence: float
    """The smoothed probability of ``label``."""


class BehaviourSmoother:
    """Exponential moving average of log-probabilities with a hysteresis on the label.

    Calling order: :meth:`update` with every new window's probabilities; :meth:`reset` when
    the stream restarts (e.g. a new match). The session's age is the sum of the ``elapsed_s``
    given since then (the first: the play seen before the first window).

    Args:
        class_names: Labels in the model's output order.
        config: Half-life and switch margin.
    """

    def __init__(self, class_names: tuple[str, ...], config: SmoothingConfig | None = None) -> None:
        self.class_names = class_names
        self.config = config or SmoothingConfig()
        self._log_evidence: list[float] | None = None
        self._weight = 0.0
        self._label: int | None = None
        self._age_s = 0.0
        floors = dict(self.config.min_probabilities)
        self._fixed_floors = [floors.get(name, 0.0) for name in class_names]
        # Per class with a schedule: its (from_s, p) rows, p = 1 made unreachable.
        self._schedules: dict[int, list[tuple[float, float]]] = {}
        for label, from_s, p in self.config.min_probability_schedule:
            if label in class_names:
                rows = self._schedules.setdefault(class_names.index(label), [])
                rows.append((from_s, math.inf if p >= NEVER else p))

    @property
    def age_s(self) -> float:
        """Seconds of play the smoother has seen since it started or was reset."""
        return self._age_s

    def reset(self) -> None:
        """Forget everything seen so far."""
        self._log_evidence = None
        self._weight = 0.0
        self._label = None
        self._age_s = 0.0

    def _floors_at(self, age_s: float) -> list[float]:
        if not self._schedules:
            return self._fixed_floors
        floors = list(self._fixed_floors)
        for index, rows in self._schedules.items():
            # The age is a sum of frame times: a period begins a hair past its start.
            scheduled = next(
                p for from_s, p in reversed(rows) if from_s + _AGE_TOLERANCE_S < age_s or from_s == 0.0
            )
            floors[index] = max(floors[index], scheduled)
        return floors

    def update(self, probabilities: np.ndarray, elapsed_s: float) -> SmoothedBehaviour:
        """Take one window's class probabilities into account.

        Args:
            probabilities: ``(n_classes,)`` the model's output for the newest window.
            elapsed_s: Seconds of play since the previous window (its frames / sample_fps);
                for a session's first window, the seconds of play it ends at.

        Returns:
            The smoothed label, probabilities and confidence.

        Raises:
            ValueError: If ``probabilities`` has the wrong length.
        """
        # Plain floats, not numpy: six classes are too few for numpy's per-call cost, and this
        # runs on the server's event loop for every result.
        if isinstance(probabilities, np.ndarray) and probabilities.ndim != 1:
            raise ValueError(f"expected {len(self.class_names)} probabilities, got {probabilities.shape}")
        values = (
            probabilities.tolist()
            if isinstance(probabilities, np.ndarray)
            else [float(p) for p in probabilities]
        )
        if len(values) != len(self.class_names):
            raise ValueError(f"expected {len(self.class_names)} probabilities, got {len(values)}")
        log_p = [math.log(min(max(p, _FLOOR), 1.0)) for p in values]
        half_life = self.config.half_life_s
        self._age_s += max(elapsed_s, 0.0)
        if self._log_evidence is None or half_life == 0.0:
            self._log_evidence, self._weight = log_p, 1.0
        else:
            keep = math.exp(-math.log(2.0) * max(elapsed_s, 0.0) / half_life)
            evidence = zip(self._log_evidence, log_p, strict=True)
            self._log_evidence = [keep * e + p for e, p in evidence]  # weighted sum
            self._weight = keep * self._weight + 1.0
        mean = [e / self._weight for e in self._log_evidence]  # weighted mean of log-probabilities
        top = max(mean)
        exps = [math.exp(m - top) for m in mean]
        total = sum(exps)
        smoothed = [e / total for e in exps]
        floors = self._floors_at(self._age_s)
        allowed = [i for i, p in enumerate(smoothed) if p >= floors[i]] or range(len(smoothed))
        best = max(allowed, key=smoothed.__getitem__)  # the first largest, as argmax
        if (
            self._label is None
            or smoothed[self._label] < floors[self._label]
            or smoothed[best] > smoothed[self._label] + self.config.switch_margin
        ):
            self._label = best
        return SmoothedBehaviour(
            label=self.class_names[self._label],
            probabilities=np.array(smoothed),
            confidence=smoothed[self._label],
        )
