"""Batch functions of the served models: what a :class:`~gameai.runtime.batching.BatchingWorker` runs.

Each class wraps a loaded network and exposes ``__call__(batch) -> outputs`` for the
worker thread; they are also what the benchmark calls directly ("raw" throughput), so
served and raw numbers measure the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from gameai.agents.actor import LoadedActor
from gameai.behaviour.model import LoadedBehaviourModel


class BehaviourClassifier:
    """Windows of frames -> class probabilities, in batches.

    Args:
        model: The loaded behaviour model.
    """

    def __init__(self, model: LoadedBehaviourModel) -> None:
        self.model = model
        self.config = model.config
        self.device = next(model.net.parameters()).device

    def __call__(self, windows: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Classify windows.

        Args:
            windows: Each ``(K, H, W, 3)`` uint8, oldest frame first.

        Returns:
            One ``(n_classes,)`` float32 probability vector per window.
        """
        # torch.stack copies without holding the GIL (np.stack would block the event loop meanwhile).
        stacked = torch.stack([torch.from_numpy(w) for w in windows])  # (B, K, H, W, 3)
        batch, k, height, width, channels = stacked.shape
        x = stacked.permute(0, 1, 4, 2, 3).reshape(batch, k * channels, height, width)  # (B, K*3, H, W)
        with torch.inference_mode():
            logits = self.model.net(x.to(self.device, non_blocking=True))  # (B, n_classes)
            probs = torch.softmax(logits.float(), dim=1).cpu().numpy()
        return list(probs)


@dataclass(frozen=True)
class ActRequest:
    """One observation to act on."""

    observation: np.ndarray
    """``(obs_dim,)`` float32."""
    difficulty: float
    """In [0, 1]."""


class AgentPolicy:
    """Observations -> deterministic MultiDiscrete actions, in batches.

    Args:
        actor: The loaded actor.
    """

    def __init__(self, actor: LoadedActor) -> None:
        self.actor = actor
        self.config = actor.config
        self.device = next(actor.net.parameters()).device

    def __call__(self, requests: Sequence[ActRequest]) -> list[tuple[int, ...]]:
        """Choose actions.

        Args:
            requests: Observations of length ``obs_dim`` with their difficulty.

        Returns:
            One action (a choice per branch) per request.
        """
        obs = torch.from_numpy(np.stack([r.observation for r in requests]).astype(np.float32, copy=False))
        difficulty = torch.tensor([r.difficulty for r in requests], dtype=torch.float32)
        with torch.inference_mode():
            actions = self.actor.net.act(obs.to(self.device), difficulty.to(self.device))  # (B, n_branches)
        return [tuple(int(a) for a in row) for row in actions.cpu().tolist()]
