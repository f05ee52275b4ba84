"""TensorBoard scalars of an agent run, grouped the CleanRL way: ``charts/``, ``losses/``, ``eval/``.

SB3 logs under its own names (``rollout/ep_rew_mean``, ``train/value_loss``, ``time/fps``);
:class:`GroupedTensorBoardFormat` is an SB3 ``KVWriter`` that files them under our groups
before writing, so every run reads the same in TensorBoard. The run's hyperparameters go to
TensorBoard's HParams tab (an SB3 ``HParam`` recorded when training starts).
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.logger import HParam, Logger, TensorBoardOutputFormat
from torch.utils.tensorboard import SummaryWriter

#: SB3 name -> our name; other ``rollout/`` keys go to ``charts/``, other ``train/`` keys to ``losses/``.
RENAMED: dict[str, str] = {
    "rollout/ep_rew_mean": "charts/episodic_return",
    "rollout/ep_len_mean": "charts/episodic_length",
    "time/fps": "charts/SPS",
    "train/learning_rate": "charts/learning_rate",
    "train/clip_range": "charts/clip_range",
    "train/policy_gradient_loss": "losses/policy_loss",
    "train/entropy_loss": "losses/entropy",
    "train/clip_fraction": "losses/clipfrac",
}
GROUPS: tuple[str, ...] = ("charts/", "losses/", "eval/")


def grouped_key(key: str) -> str | None:
    """Our name for an SB3 key, or None to leave it out (``time/`` bookkeeping)."""
    if key in RENAMED:
        return RENAMED[key]
    if key.startswith(GROUPS):
        return key
    if key.startswith("rollout/"):
        return "charts/" + key.removeprefix("rollout/")
    if key.startswith("train/"):
        return "losses/" + key.removeprefix("train/")
    return None


class GroupedTensorBoardFormat(TensorBoardOutputFormat):
    """Writes SB3's key/values to TensorBoard under :func:`grouped_key` names.

    Args:
        folder: The run's folder under ``runs/``.
        purge_step: On resume, the step of the checkpoint: events logged at or after it by the
            killed process are dropped, so curves do not fold back.
    """

    def __init__(self, folder: str, purge_step: int | None = None) -> None:
        self.writer = SummaryWriter(log_dir=folder, purge_step=purge_step)
        self._is_closed = False

    def write(
        self, key_values: dict[str, Any], key_excluded: dict[str, tuple[str, ...]], step: int = 0
    ) -> None:
        """Rename, then write as SB3 would (the run's ``HParam`` as it is)."""
        values: dict[str, Any] = {}
        excluded: dict[str, tuple[str, ...]] = {}
        for key, value in key_values.items():
            name = key if isinstance(value, HParam) else grouped_key(key)
            if name is not None:
                values[name] = value
                excluded[name] = key_excluded.get(key, ())
        super().write(values, excluded, step)


def make_run_logger(folder: str, purge_step: int | None = None) -> Logger:
    """An SB3 logger writing grouped TensorBoard scalars into ``folder``."""
    return Logger(folder=folder, output_formats=[GroupedTensorBoardFormat(folder, purge_step)])
