"""Issue 35 end to end: the two shipped games on one server at once, each with its own models.

One ``gameai serve`` over the shipped models directory (``assets``): an arena session and a
Skyline (``platformer``) session, side by side. Each gets its game's behaviour classes, agents
and NPC cards; each game's frames (fresh players, seeds no recording used) come back as that
game's styles from its own model and ``unknown`` from the other game's, never an accusation;
the goblin agent acts on its env's observation; Odo answers in the platformer session only.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

import envs  # noqa: F401  (registers gameai/Platformer-v0)
from demo_game.platformer.record import play_frames
from demo_game.platformer.sim.styles import STYLES
from gameai.behaviour.look import UNKNOWN
from gameai.client.async_client import ClientConfig, GameAIClient, ServerError
from gameai.runtime.config import RuntimeConfig
from gameai.server.config import ServerConfig
from gameai.testing.behaviour_streams import stream_in_lockstep
from gameai.testing.servers import running_server
from gameai.training.behaviour.config import RecordConfig
from gameai.training.behaviour.record import plan_players, record_split

ASSETS = Path(__file__).resolve().parents[3] / "assets"
PLATFORMER_STYLES = tuple(STYLES)


def _platformer_frames(seconds: float, seed: int) -> dict[str, list[np.ndarray]]:
    """Each style's frames, one fresh player each, as the app sends them (84x84)."""
    frames = {}
    for i, style in enumerate(PLATFORMER_STYLES):
        rng = np.random.default_rng([seed, i])
        frames[style] = list(play_frames(style, seconds, rng, float(rng.uniform()), (0.0, 1.0)))
    return frames


def _arena_frames(count: int) -> list[np.ndarray]:
    """84x84 frames of a fresh arena player (a seed no shipped recording used), in play order."""
    config = RecordConfig(seed=9393, train_players=0, val_players=0, test_players=1, heldout_players=0,
                          frames_per_player=count)  # fmt: skip
    recorded = record_split(config, plan_players(config, "test"))
    return [np.asarray(recorded.frames[i]) for i in range(min(count, len(recorded.frames)))]


async def _connect(url: str, game_id: str) -> GameAIClient:
    config = ClientConfig(url=url, game_id=game_id, services=("behaviour", "dialogue", "agents"))
    return await GameAIClient.connect(config)


@pytest.fixture(scope="module")
def frames() -> dict[str, list[np.ndarray]]:
    """Fresh platformer players per style (12 s each) and a fresh arena player (60 frames)."""
    out = _platformer_frames(12.0, seed=35_035)
    out["arena"] = _arena_frames(60)
    return out


async def test_one_server_serves_the_arena_and_skyline_each_its_own_models(
    frames: dict[str, list[np.ndarray]],
) -> None:
    runtime = RuntimeConfig(models_dir=str(ASSETS), device="cpu")
    config = ServerConfig(port=0, max_fps=1000.0, frame_queue=64)  # the first window: no frame dropped
    async with running_server(config, runtime) as server:
        arena, platformer, platformer_alien, arena_alien = await asyncio.gather(
            _connect(server.url, "arena"),
            _connect(server.url, "platformer"),
            _connect(server.url, "platformer"),
            _connect(server.url, "arena"),
        )
        try:
            # Each session got its own game's models.
            assert platformer.welcome.game is not None and platformer.welcome.game.models_game == "platformer"
            assert arena.welcome.game is not None and arena.welcome.game.models_game == "arena"
            assert platformer.welcome.behaviour is not None and arena.welcome.behaviour is not None
            assert platformer.welcome.behaviour.classes == PLATFORMER_STYLES
            assert "bot_like" in arena.welcome.behaviour.classes
            assert set(platformer.welcome.agents) == {"goblin"}
            assert "goblin" not in arena.welcome.agents
            assert {"shopkeeper", "guide"} <= set(platformer.welcome.npcs)
            assert "shopkeeper" not in arena.welcome.npcs

            platformer_stream = [f for style in PLATFORMER_STYLES for f in frames[style]]
            own, alien_to_platformer, alien_to_arena = await asyncio.gather(
                stream_in_lockstep(platformer, platformer_stream),
                stream_in_lockstep(platformer_alien, frames["arena"]),
                stream_in_lockstep(arena_alien, platformer_stream),
            )

            env = gym.make("gameai/Platformer-v0")
            observation, _ = env.reset(seed=35)
            action = await platformer.act("goblin-0", observation, difficulty=1.0)
            assert action.agent == "goblin" and len(action.action) == 2
            assert 0 <= int(action.action[0]) < 3 and 0 <= int(action.action[1]) < 2
            with pytest.raises(ServerError):
                await arena.act("goblin-0", observation, agent="goblin")

            reply = await platformer.dialogue("shopkeeper", player_line="What do you sell?", seed=1)
            deltas = [delta async for delta in reply]
            assert deltas and reply.text.strip()  # Odo answers in the platformer session
        finally:
            for client in (arena, platformer, platformer_alien, arena_alien):
                await client.close()

    # Its own model: Skyline's styles, hardly ever unknown.
    own_labels = [r.label for r in own]
    assert own_labels.count(UNKNOWN) <= 0.02 * len(own_labels)
    assert set(own_labels) - {UNKNOWN} <= set(PLATFORMER_STYLES)
    # Each game's frames to the other's model: unknown, never the accusation class.
    for results in (alien_to_platformer, alien_to_arena):
        labels = [r.label for r in results]
        assert len(labels) >= 40
        assert labels.count(UNKNOWN) >= 0.95 * len(labels)
        assert "bot_like" not in labels
