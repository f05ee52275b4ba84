"""A model's ``bot_like`` calibration, and the minimum probability it gives for a wanted precision.

``gameai train behaviour calibrate`` plays new players, feeds their windows through the
server's smoother once per minimum probability the server can hold ``bot_like`` to, and stores
what came out in the model's ``config.json``, over whole sessions (``rows``) and by how much of
the session the server had seen (``by_time``)::

    "metadata": {"bot_like_calibration": {
        "rows": [{"min_probability": 0.8, "precision": 0.966, "precision_low": 0.950,
                  "recall": 0.66, ...}, ...],
        "by_time": [{"from_s": 0.0, "to_s": 5.0, "rows": [...]}, ..., {"from_s": 30.0, "to_s": null, ...}],
        "players_per_style": 200, "windows": 45055, "data_manifest_sha256": "...", ...}}

``precision_low`` is the 5th percentile of the precision over resamples of whole players: a
one-sided 95% lower bound (a player's windows are not independent evidence). A server started
with ``behaviour_bot_like_min_precision = P`` reads that table (:func:`bot_like_schedule`) and
holds the label, in each period of a session, to the smallest minimum whose lower bound there
is at least ``P``: the precision is then ``P`` or better with 95% confidence, not merely on
average over one set of players, and at every age of a session, not only over a whole one.
A session's first seconds rest on few windows and need a high minimum; after half a minute the
smoothed evidence is strong and a low one keeps the precision, so a minimum that falls as the
session goes on names more bots than any fixed one at the same precision. A calibration
without ``by_time`` (made before it existed) gives one minimum for the whole session
(:func:`bot_like_minimum`). A server told nothing holds the label to
:data:`DEFAULT_MIN_PRECISION` where the model's calibration reaches it (:func:`bot_like_guard`).
No torch here: the server's process reads it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeGuard

#: The key of ``config.json``'s metadata that holds the calibration.
CALIBRATION_KEY: Final = "bot_like_calibration"
#: A game's own model (trained on a dataset, ``docs/behaviour-your-game.md``, *Your game, your labels*):
#: the metadata's list of its accusation classes, and per class a calibration of the same
#: structure as the arena's ``bot_like_calibration``.
ACCUSATION_CLASSES_KEY: Final = "accusation_classes"
ACCUSATION_CALIBRATION_KEY: Final = "accusation_calibration"
#: The arena's accusation class.
BOT_LIKE: Final = "bot_like"
#: Where a session's periods begin, in seconds of the player's play the server has seen: the
#: calibration's ``by_time`` buckets ``(0, 5], (5, 10], (10, 20], (20, 30], (30, ...)``.
SCHEDULE_STARTS_S: Final = (0.0, 5.0, 10.0, 20.0, 30.0)
#: The minimum of a period in which no calibrated minimum reached the precision: the label is
#: not sent at all then.
NEVER: Final = 1.0
#: The ``bot_like`` precision a server holds the label to when not told otherwise: a false
#: cheating accusation is costly, and other sets of players scatter a little below the calibrated
#: bound, so asking 2 points above the 0.95 goal keeps it (``docs/behaviour-guards.md``).
DEFAULT_MIN_PRECISION: Final = 0.97


def _check_precision(precision: float) -> None:
    if not 0.0 < precision <= 1.0:
        raise ValueError(f"the bot_like minimum precision must be in (0, 1], got {precision}")


_ROW_FIELDS: Final = ("min_probability", "precision", "precision_low", "recall")


def _is_number(value: Any) -> TypeGuard[float]:
    """Whether a JSON value is a number (``true`` and ``false`` are not)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_rows(rows: Any, where: str) -> None:
    if not isinstance(rows, list) or not rows:
        raise ValueError(f"{where}: rows must be a non-empty list")
    for index, row in enumerate(rows):
        if not isinstance(row, Mapping):
            raise ValueError(f"{where}: row {index} is not an object")
        for name in _ROW_FIELDS:
            value = row.get(name)
            if not _is_number(value) or not 0.0 <= value <= 1.0:
                raise ValueError(f"{where}: row {index}: {name} must be a number in [0, 1], got {value!r}")


def checked_calibration(metadata: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The model's ``bot_like`` calibration, checked (None: the model has none).

    Raises:
        ValueError: If the calibration is there but garbled (what is wrong and where), so that
            no server holds ``bot_like`` to minimums read from a damaged file.
    """
    calibration = metadata.get(CALIBRATION_KEY)
    if calibration is None:
        return None
    where = (
        f"the behaviour model's {CALIBRATION_KEY} (config.json metadata) is garbled; make it anew with "
        "`gameai train behaviour calibrate --assets-dir <model>`"
    )
    if not isinstance(calibration, Mapping):
        raise ValueError(f"{where}: not an object")
    players = calibration.get("players_per_style", 0)
    if isinstance(players, bool) or not isinstance(players, int) or players < 0:
        raise ValueError(f"{where}: players_per_style must be a whole number >= 0, got {players!r}")
    if calibration.get("rows"):  # none or empty: not calibrated (callers say so)
        _check_rows(calibration["rows"], where)
    periods = calibration.get("by_time")
    if periods is not None:
        if not isinstance(periods, list):
            raise ValueError(f"{where}: by_time must be a list of periods")
        for index, period in enumerate(periods):
            if not isinstance(period, Mapping):
                raise ValueError(f"{where}: by_time[{index}] is not an object")
            from_s, to_s = period.get("from_s"), period.get("to_s")
            if not _is_number(from_s) or from_s < 0:
                raise ValueError(f"{where}: by_time[{index}].from_s must be a number >= 0, got {from_s!r}")
            if to_s is not None and (not _is_number(to_s) or to_s <= from_s):
                raise ValueError(
                    f"{where}: by_time[{index}].to_s must be a number above from_s, got {to_s!r}"
                )
            _check_rows(period.get("rows"), f"{where}: by_time[{index}]")
    return calibration


def _smallest_reaching(rows: Any, precision: float) -> Mapping[str, Any] | None:
    """The row of the smallest minimum whose ``precision_low`` reached ``precision``, if any."""
    for row in sorted(rows, key=lambda row: float(row["min_probability"])):
        if float(row["precision_low"]) >= precision:
            return row
    return None


def _figures(row: Mapping[str, Any]) -> tuple[float, float, float, float]:
    """``min_probability, precision, precision_low, recall`` of a calibration row."""
    return (
        float(row["min_probability"]),
        float(row["precision"]),
        float(row["precision_low"]),
        float(row["recall"]),
    )


@dataclass(frozen=True)
class CalibratedMinimum:
    """The ``bot_like`` minimum chosen for a wanted precision, with what it gave on calibration."""

    min_probability: float
    """The smoothed ``bot_like`` probability the label is held to."""
    precision: float
    """``bot_like`` precision of the calibration players at that minimum."""
    precision_low: float
    """Its player-bootstrap 5th percentile (what the minimum was chosen on)."""
    recall: float
    """``bot_like`` recall of the calibration players at that minimum."""
    players_per_style: int
    """Calibration players per style the figures come from."""


def bot_like_minimum(
    metadata: Mapping[str, Any], precision: float, label: str = BOT_LIKE
) -> CalibratedMinimum:
    """The smallest calibrated minimum with ``bot_like`` precision >= ``precision`` at 95% confidence.

    Args:
        metadata: The model's ``config.json`` metadata.
        precision: The wanted precision, in (0, 1].

    Returns:
        The minimum (the smallest whose ``precision_low`` reached ``precision``), with the
        calibration's figures there.

    Raises:
        ValueError: If ``precision`` is out of range, the model was not calibrated, or no
            calibrated minimum reached ``precision`` (the message gives the best one).
    """
    _check_precision(precision)
    calibration = checked_calibration(metadata)
    if calibration is None or not calibration.get("rows"):
        raise ValueError(
            f"the behaviour model has no {label} calibration in its config.json metadata "
            "(run `gameai train behaviour calibrate --assets-dir <model>`), so a minimum precision "
            "cannot be turned into a minimum probability; set behaviour_bot_like_min_probability instead"
        )
    rows = calibration["rows"]
    players = int(calibration.get("players_per_style", 0))
    row = _smallest_reaching(rows, precision)
    if row is not None:
        return CalibratedMinimum(*_figures(row), players)
    best = max(rows, key=lambda row: float(row["precision_low"]))
    raise ValueError(
        f"no calibrated {label} minimum reached precision {precision} with 95% confidence: the "
        f"best lower bound was {float(best['precision_low']):.3f} (precision "
        f"{float(best['precision']):.3f}) at minimum {float(best['min_probability'])}, on "
        f"{players} calibration players per style"
    )


@dataclass(frozen=True)
class CalibratedStep:
    """The ``bot_like`` minimum of one period of a session, with what it gave on calibration."""

    from_s: float
    """The period begins once the server has seen more than this many seconds of the player's play."""
    to_s: float | None
    """And ends at this many (None: it lasts for the rest of the session)."""
    min_probability: float
    """The smoothed ``bot_like`` probability the label is held to then (:data:`NEVER`: not sent)."""
    precision: float
    """``bot_like`` precision of the calibration players' results in this period at that minimum."""
    precision_low: float
    """Its player-bootstrap 5th percentile (what the minimum was chosen on)."""
    recall: float
    """``bot_like`` recall of the calibration players' results in this period at that minimum."""


@dataclass(frozen=True)
class CalibratedSchedule:
    """The ``bot_like`` minimum by the age of a session, chosen for a wanted precision."""

    precision: float
    """The precision asked for."""
    steps: tuple[CalibratedStep, ...]
    """One per period, in order (a calibration without ``by_time``: one for the whole session)."""
    players_per_style: int
    """Calibration players per style the figures come from."""

    def minimums(self) -> tuple[tuple[float, float], ...]:
        """``(from_s, min_probability)`` per period (what the server's smoother is given)."""
        return tuple((step.from_s, step.min_probability) for step in self.steps)

    def describe(self) -> str:
        """One line for the log, e.g. ``0.95 to 5 s, 0.8 to 10 s, 0.6 after 30 s``."""
        parts = []
        for step in self.steps:
            value = "not sent" if step.min_probability >= NEVER else f"{step.min_probability:g}"
            when = (
                f"to {step.to_s:g} s"
                if step.to_s is not None
                else (f"after {step.from_s:g} s" if step.from_s > 0 else "throughout")
            )
            parts.append(f"{value} {when}")
        return ", ".join(parts)


def bot_like_schedule(
    metadata: Mapping[str, Any], precision: float, label: str = BOT_LIKE
) -> CalibratedSchedule:
    """Per period of a session, the smallest ``bot_like`` minimum with precision >= ``precision`` (95% sure).

    Args:
        metadata: The model's ``config.json`` metadata.
        precision: The wanted precision, in (0, 1].

    Returns:
        The schedule: per period of the calibration's ``by_time``, the smallest minimum whose
        ``precision_low`` there reached ``precision`` (:data:`NEVER` where none did). A
        calibration without ``by_time``: the one minimum of :func:`bot_like_minimum`.

    Raises:
        ValueError: If ``precision`` is out of range, the model was not calibrated, or no
            calibrated minimum reached ``precision`` in any period.
    """
    calibration = checked_calibration(metadata)
    periods = calibration.get("by_time") if calibration is not None else None
    if not periods:
        fixed = bot_like_minimum(metadata, precision, label)  # checks the precision and the calibration
        figures = (fixed.min_probability, fixed.precision, fixed.precision_low, fixed.recall)
        step = CalibratedStep(0.0, None, *figures)
        return CalibratedSchedule(precision, (step,), fixed.players_per_style)
    _check_precision(precision)
    assert calibration is not None
    steps = []
    for period in sorted(periods, key=lambda period: float(period["from_s"])):
        row = _smallest_reaching(period["rows"], precision)
        to_s = None if period.get("to_s") is None else float(period["to_s"])
        figures = _figures(row) if row is not None else (NEVER, 1.0, 1.0, 0.0)
        steps.append(CalibratedStep(float(period["from_s"]), to_s, *figures))
    if all(step.min_probability >= NEVER for step in steps):
        raise ValueError(
            f"no calibrated {label} minimum reached precision {precision} with 95% confidence "
            f"at any age of a session, on {calibration.get('players_per_style', 0)} calibration "
            "players per style"
        )
    return CalibratedSchedule(precision, tuple(steps), int(calibration.get("players_per_style", 0)))


@dataclass(frozen=True)
class BotLikeGuard:
    """How a server holds ``bot_like`` back, for one setting of ``behaviour_bot_like_min_precision``."""

    schedule: CalibratedSchedule | None
    """The calibrated minimums by the age of a session; None: the label is sent like any other."""
    requested: bool
    """Whether the precision was asked for (False: the default, :data:`DEFAULT_MIN_PRECISION`)."""
    reason: str
    """Why the label is not held back (empty when ``schedule`` is set)."""


def bot_like_guard(
    metadata: Mapping[str, Any], min_precision: float | None, label: str = BOT_LIKE
) -> BotLikeGuard:
    """What a server does with ``bot_like`` for a setting of ``behaviour_bot_like_min_precision``.

    Args:
        metadata: The model's ``config.json`` metadata.
        min_precision: The setting. None (the default): :data:`DEFAULT_MIN_PRECISION` if the
            model's calibration reaches it, else the label is sent like any other (the reason
            says why, for the log: a user's own model may have no calibration). 0: off. Any
            other value must be reached.

    Raises:
        ValueError: If ``min_precision`` is out of range, or was asked for and the model has no
            calibration or none that reaches it.
    """
    if min_precision is None:
        try:
            schedule = bot_like_schedule(metadata, DEFAULT_MIN_PRECISION, label)
        except ValueError as exc:
            return BotLikeGuard(None, False, str(exc))
        return BotLikeGuard(schedule, False, "")
    if min_precision == 0:
        return BotLikeGuard(None, True, "turned off (behaviour_bot_like_min_precision = 0)")
    return BotLikeGuard(bot_like_schedule(metadata, min_precision, label), True, "")


def accusation_classes(metadata: Mapping[str, Any], class_names: tuple[str, ...]) -> tuple[str, ...]:
    """The classes of a model that a game may act against a player on, held back by calibration.

    A game's own model lists them in its metadata (``accusation_classes``, from its dataset);
    a model without the list (the arena's) has ``bot_like`` if it has that class.

    Raises:
        ValueError: If the list is garbled or names a class the model does not have.
    """
    listed = metadata.get(ACCUSATION_CLASSES_KEY)
    if listed is None:
        return (BOT_LIKE,) if BOT_LIKE in class_names else ()
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        raise ValueError(
            f"the behaviour model's {ACCUSATION_CLASSES_KEY} must be a list of class names, got {listed!r}"
        )
    strays = [name for name in listed if name not in class_names]
    if strays:
        raise ValueError(
            f"the behaviour model's {ACCUSATION_CLASSES_KEY} names classes it does not have: {strays}"
        )
    return tuple(listed)


def class_calibration_metadata(metadata: Mapping[str, Any], label: str) -> Mapping[str, Any]:
    """Metadata holding ``label``'s calibration under :data:`CALIBRATION_KEY`, as the functions
    of this module read it: a game's own model's ``accusation_calibration[label]``, or the
    arena's ``bot_like_calibration`` for ``bot_like`` (empty: ``label`` has no calibration)."""
    calibrations = metadata.get(ACCUSATION_CALIBRATION_KEY)
    if isinstance(calibrations, Mapping) and label in calibrations:
        return {CALIBRATION_KEY: calibrations[label]}
    if label == BOT_LIKE and CALIBRATION_KEY in metadata:
        return {CALIBRATION_KEY: metadata[CALIBRATION_KEY]}
    return {}
