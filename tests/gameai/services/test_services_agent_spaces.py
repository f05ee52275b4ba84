"""Agents of every action space through the real server: welcome describes them, act answers as the actor."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.agents.actor import ActorConfig, load_actor
from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.runtime.config import RuntimeConfig
from gameai.server.config import ServerConfig
from gameai.testing.servers import running_server
from gameai.testing.tiny_models import write_random_actor

CONFIGS = {
    "pendulum": ActorConfig(
        obs_dim=3,
        action_space="Box",
        action_nvec=(),
        action_low=(-2.0,),
        action_high=(2.0,),
        action_squash=True,
        random_action=0.5,
    ),
    "switches": ActorConfig(obs_dim=4, action_space="MultiBinary", action_nvec=(2, 2, 2)),
    "cart": ActorConfig(obs_dim=4, action_space="Discrete", action_nvec=(2,), random_action=0.5),
}


def _agents(root: Path) -> RuntimeConfig:
    for name, config in CONFIGS.items():
        write_random_actor(root / name, config, seed=len(name))
    return RuntimeConfig(behaviour_model="", dialogue_model="", agents_dir=str(root), device="cpu")


@pytest.mark.parametrize("inline_max_params", [200_000, 0], ids=["numpy-on-the-loop", "torch-worker-thread"])
async def test_welcome_describes_each_action_space_and_act_answers_as_the_actor(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, inline_max_params: int
) -> None:
    runtime = RuntimeConfig(**{**_agents(tmp_path).__dict__, "agent_inline_max_params": inline_max_params})
    caplog.set_level(logging.INFO, logger="gameai.services.agents")
    rng = np.random.default_rng(0)
    async with running_server(ServerConfig(port=0), runtime) as server:
        client = await GameAIClient.connect(ClientConfig(url=server.url, services=("agents",)))
        agents = client.welcome.agents
        assert agents["pendulum"].action_space == "Box" and agents["pendulum"].action_nvec == ()
        assert agents["pendulum"].action_low == (-2.0,) and agents["pendulum"].action_high == (2.0,)
        assert agents["pendulum"].handicap == ("random_action",)
        assert agents["switches"].action_space == "MultiBinary" and agents["switches"].action_nvec == (
            2,
            2,
            2,
        )
        assert agents["cart"].action_space == "Discrete" and agents["cart"].handicap == ("random_action",)
        answers = {}
        for name, config in CONFIGS.items():
            obs = rng.standard_normal((20, config.obs_dim)).astype(np.float32)
            replies = [
                await client.act(f"npc-{i}", row, agent=name, difficulty=1.0) for i, row in enumerate(obs)
            ]
            answers[name] = (obs, [reply.action for reply in replies])
        await client.close()
    for name, (obs, actions) in answers.items():
        actor = load_actor(tmp_path / name)
        with torch.no_grad():
            expected = actor.net.choose(torch.from_numpy(obs)).tolist()
        if actor.config.continuous:
            assert all(isinstance(v, float) for row in actions for v in row)
            # float32: a batch of several acts rounds differently from the 20 rows at once (seen: 1.1e-6)
            np.testing.assert_allclose(np.asarray(actions), np.asarray(expected), rtol=1e-5, atol=1e-6)
        else:
            assert all(isinstance(v, int) for row in actions for v in row)
            assert [list(a) for a in actions] == expected
    for name in CONFIGS:  # where each agent came from, and how it runs, is in the log
        assert f"agent {name!r} loaded from {tmp_path / name}" in caplog.text
    assert ("in numpy on the event loop" in caplog.text) == (inline_max_params > 0)


async def test_default_agent_picks_what_an_act_without_agent_gets(tmp_path: Path) -> None:
    runtime = _agents(tmp_path)
    for chosen in ("switches", ""):
        config = RuntimeConfig(**{**runtime.__dict__, "default_agent": chosen})
        async with running_server(ServerConfig(port=0), config) as server:
            client = await GameAIClient.connect(ClientConfig(url=server.url, services=("agents",)))
            reply = await client.act("npc", np.zeros(4, np.float32))
            assert client.welcome.default_agent == (chosen or "cart")  # unset: the first by name
            await client.close()
        assert reply.agent == (chosen or "cart")


def test_a_default_agent_that_does_not_exist_stops_the_start(tmp_path: Path) -> None:
    from gameai.observability.metrics import ServiceMetrics
    from gameai.services.agents import AgentsService

    runtime = RuntimeConfig(**{**_agents(tmp_path).__dict__, "default_agent": "nobody"})
    with pytest.raises(ValueError, match="--default-agent 'nobody': no such agent"):
        AgentsService.load(runtime, torch.device("cpu"), ServiceMetrics())
