"""docs/agents.md "Bring your own environment", step by step: a game's own env class to ``act``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.agents.actor import load_actor
from gameai.cli import main
from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.runtime.config import RuntimeConfig
from gameai.server.config import ServerConfig
from gameai.testing.servers import running_server

DODGE = textwrap.dedent(
    '''
    import gymnasium as gym
    import numpy as np
    from gymnasium import spaces

    class Dodge(gym.Env):
        """Dodge the falling rock: stay, left or right."""

        observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)
        action_space = spaces.Discrete(3)

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            self.player, self.t = 0.0, 0
            self.rock, self.height = float(self.np_random.uniform(-1, 1)), 1.0
            return self._obs(), {}

        def _obs(self):
            return np.array([self.player, self.rock, self.height], dtype=np.float32)

        def step(self, action):
            self.player = float(np.clip(self.player + (0.0, -0.15, 0.15)[int(action)], -1, 1))
            self.height -= 0.1
            self.t += 1
            reward, terminated = 0.0, False
            if self.height <= 0:
                if abs(self.player - self.rock) < 0.2:
                    reward, terminated = -1.0, True
                else:
                    reward = 1.0
                    self.rock, self.height = float(self.np_random.uniform(-1, 1)), 1.0
            return self._obs(), reward, terminated, self.t >= 200, {}
    '''
)


async def test_a_games_own_env_class_is_trained_exported_served_and_acts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "mygame_envs.py").write_text(DODGE)
    monkeypatch.syspath_prepend(str(tmp_path))
    common = [
        "--env", "mygame_envs:Dodge", "--algo", "ppo", "--agent-name", "dodger",
        "--checkpoints-dir", str(tmp_path / "ckpt"), "--assets-dir", str(tmp_path / "agents"),
    ]  # fmt: skip
    learn = ["train", "agent", "learn", *common, "--total-timesteps", "256", "--num-envs", "2"]
    assert main([*learn, "--n-steps", "128", "--runs-dir", str(tmp_path / "runs"), "--no-progress-bar"]) == 0
    assert main(["train", "agent", "export", *common]) == 0
    actor = load_actor(tmp_path / "agents" / "dodger")
    assert actor.config.action_space == "Discrete" and actor.config.action_nvec == (3,)
    assert actor.metadata["env_id"] == "mygame_envs.Dodge"

    runtime = RuntimeConfig(
        behaviour_model="", dialogue_model="", agents_dir=str(tmp_path / "agents"), default_agent="dodger"
    )
    observations = np.random.default_rng(0).uniform(-1, 1, (16, 3)).astype(np.float32)
    async with running_server(ServerConfig(port=0), runtime) as server:
        client = await GameAIClient.connect(ClientConfig(url=server.url, services=("agents",)))
        spec = client.welcome.agents["dodger"]
        assert (spec.action_space, spec.action_nvec, spec.handicap) == ("Discrete", (3,), ("random_action",))
        replies = [await client.act("rock-dodger", obs, difficulty=1.0) for obs in observations]
        await client.close()
    with torch.no_grad():
        expected = actor.net.choose(torch.from_numpy(observations)).numpy()
    assert [r.action for r in replies] == [(int(row[0]),) for row in expected]
    assert {r.agent for r in replies} == {"dodger"}
