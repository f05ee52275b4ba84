"""The CNN that reads ``gameai/ArenaPixels-v0`` frames, as an SB3 features extractor."""

from __future__ import annotations

import gymnasium as gym
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn


class ArenaCNN(BaseFeaturesExtractor):
    """Stacked arena frames -> a feature vector (the policy and value MLPs come after it).

    Three convolutions in the shape of the DQN Nature network (8x8/4, 4x4/2, 3x3/1), then one
    linear layer. SB3 hands it channel-first frames scaled to [0, 1]
    (``VecTransposeImage`` and ``normalize_images``).

    Args:
        observation_space: ``Box(0, 255, (C, H, W), uint8)``, C = 3 x frame_stack, H, W >= 36.
        features_dim: Width of the output features.
    """

    def __init__(self, observation_space: gym.spaces.Box, features_dim: int = 256) -> None:
        super().__init__(observation_space, features_dim)
        channels = observation_space.shape[0]
        self.cnn = nn.Sequential(
            nn.Conv2d(channels, 32, kernel_size=8, stride=4),  # (B, 32, 20, 20) at 84x84
            nn.ReLU(),
            nn.Conv2d(32, 64, kernel_size=4, stride=2),  # (B, 64, 9, 9)
            nn.ReLU(),
            nn.Conv2d(64, 64, kernel_size=3, stride=1),  # (B, 64, 7, 7)
            nn.ReLU(),
            nn.Flatten(),  # (B, 3136)
        )
        with torch.no_grad():
            flat = self.cnn(torch.zeros(1, *observation_space.shape)).shape[1]
        self.linear = nn.Sequential(nn.Linear(flat, features_dim), nn.ReLU())

    def forward(self, observations: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) floats in [0, 1] -> (B, features_dim)."""
        features: torch.Tensor = self.linear(self.cnn(observations))
        return features
