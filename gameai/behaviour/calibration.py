"""A model's ``bot_like`` calibration, and the minimum probability it gives for a wanted precision.

``gameai train behaviour calibrate`` plays new players, feeds their windows through the
server's smoother once per minimum probability the server can hold ``bot_like`` to, and stores
what came out in the model's ``config.json``::

    "metadata": {"bot_like_calibration": {
        "rows": [{"min_probability": 0.8, "precision": 0.966, "precision_low": 0.950,
                  "recall": 0.66, ...}, ...],
        "players_per_style": 200, "windows": 45055, "data_manifest_sha256": "...", ...}}

``precision_low`` is the 5th percentile of the precision over resamples of whole players: a
one-sided 95% lower bound (a player's windows are not independent evidence). A server started
with ``behaviour_bot_like_min_precision = P`` reads that table and holds the label to the
smallest minimum whose lower bound is at least ``P`` (:func:`bot_like_minimum`): the precision
is then ``P`` or better with 95% confidence, not merely on average over one set of players
(two calibration sets of 200 players per style put the shipped model at 0.955 and 0.942 at
minimum 0.75). No torch here: the server's process reads it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

#: The key of ``config.json``'s metadata that holds the calibration.
CALIBRATION_KEY: Final = "bot_like_calibration"


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


def bot_like_minimum(metadata: Mapping[str, Any], precision: float) -> CalibratedMinimum:
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
    if not 0.0 < precision <= 1.0:
        raise ValueError(f"the bot_like minimum precision must be in (0, 1], got {precision}")
    calibration = metadata.get(CALIBRATION_KEY)
    if not isinstance(calibration, Mapping) or not calibration.get("rows"):
        raise ValueError(
            "the behaviour model has no bot_like calibration in its config.json metadata "
            "(run `gameai train behaviour calibrate --assets-dir <model>`), so a minimum precision "
            "cannot be turned into a minimum probability; set behaviour_bot_like_min_probability instead"
        )
    rows = sorted(calibration["rows"], key=lambda row: float(row["min_probability"]))
    players = int(calibration.get("players_per_style", 0))
    for row in rows:
        if float(row["precision_low"]) >= precision:
            return CalibratedMinimum(
                float(row["min_probability"]),
                float(row["precision"]),
                float(row["precision_low"]),
                float(row["recall"]),
                players,
            )
    best = max(rows, key=lambda row: float(row["precision_low"]))
    raise ValueError(
        f"no calibrated bot_like minimum reached precision {precision} with 95% confidence: the "
        f"best lower bound was {float(best['precision_low']):.3f} (precision "
        f"{float(best['precision']):.3f}) at minimum {float(best['min_probability'])}, on "
        f"{players} calibration players per style"
    )
