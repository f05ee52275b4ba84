"""Per-game models through the real server: a models directory of games, one session per game at once.

The directory holds ``arena`` (the default game), ``puzzle`` (its own behaviour classes, frame
size, agents and NPC cards) and ``racer`` (NPC cards only): each session gets its own game's
models, never another game's, and a game the directory does not hold gets the default set.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gameai.agents.actor import ActorConfig
from gameai.behaviour.model import BehaviourNetConfig
from gameai.client.async_client import ClientConfig, GameAIClient, ServerError
from gameai.protocol import CloseCode, ErrorCode
from gameai.protocol.messages import BehaviourResult, GameModelsInfo, Message
from gameai.runtime.config import RuntimeConfig
from gameai.server.app import GameAIServer
from gameai.server.config import ServerConfig
from gameai.services.behaviour import BehaviourService
from gameai.testing.servers import running_server
from gameai.testing.tiny_models import random_frames, write_random_actor, write_random_behaviour_model

ARENA_CLASSES = ("aggressive", "explorer", "collector", "evasive", "idle", "bot_like")
PUZZLE_CLASSES = ("thinking", "rushing", "stuck")
PUZZLE_FRAME = (48, 64)
"""(height, width) of the puzzle's frames; the arena's are 84x84."""


def _card(card_id: str, name: str) -> str:
    return f'[npcs.{card_id}]\nname = "{name}"\nfacts = ["{name} knows one thing."]\n'


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three games by the folder convention; games.toml names only the default."""
    root = tmp_path_factory.mktemp("models")
    (root / "games.toml").write_text('default = "arena"\n')
    arena = BehaviourNetConfig(conv_channels=(8, 8, 8), hidden=16)
    puzzle = dataclasses.replace(
        arena, frame_size=PUZZLE_FRAME, frames_per_window=2, class_names=PUZZLE_CLASSES
    )
    write_random_behaviour_model(root / "arena" / "behaviour", arena)
    write_random_behaviour_model(root / "puzzle" / "behaviour", puzzle, seed=1)
    write_random_actor(root / "arena" / "agents" / "fighter", ActorConfig(obs_dim=8))
    write_random_actor(root / "puzzle" / "agents" / "solver", ActorConfig(obs_dim=3), seed=1)
    (root / "arena" / "npcs.toml").write_text(_card("brann", "Brann"))
    (root / "puzzle" / "npcs.toml").write_text(_card("sphinx", "Sphinx"))
    (root / "racer").mkdir()
    (root / "racer" / "npcs.toml").write_text(_card("mechanic", "Rosa"))
    return root


@pytest.fixture(scope="module")
def runtime(models_dir: Path, assets: Path) -> RuntimeConfig:
    """Every model from the models directory, the test dialogue model shared by all games."""
    return RuntimeConfig(
        models_dir=str(models_dir), dialogue_model=str(assets / "dialogue" / "model"), device="cpu"
    )


async def _results(client: GameAIClient, frame_size: tuple[int, int], frames: int) -> list[BehaviourResult]:
    """Send ``frames`` frames; the behaviour results they get."""
    results: list[BehaviourResult] = []

    def keep(message: Message) -> None:
        if isinstance(message, BehaviourResult):
            results.append(message)

    client.on_message = keep
    for seq, pixels in enumerate(random_frames(frames, seed=frames, size=frame_size)):
        await client.send_frame(pixels, seq=seq, timestamp=float(seq))
        await asyncio.sleep(0.02)
    async with asyncio.timeout(20):
        while len(results) < 2:
            await asyncio.sleep(0.01)
    return results


def _http_get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


async def _connect(server: GameAIServer, game_id: str) -> GameAIClient:
    return await GameAIClient.connect(ClientConfig(url=server.url, game_id=game_id))


async def test_two_games_at_once_get_their_own_models_and_results(runtime: RuntimeConfig) -> None:
    async with running_server(ServerConfig(port=0), runtime) as server:
        arena, puzzle = await asyncio.gather(_connect(server, "arena"), _connect(server, "puzzle"))
        try:
            welcomes = arena.welcome, puzzle.welcome
            assert welcomes[0].game == GameModelsInfo(
                game_id="arena", models_game="arena", default_game="arena"
            )
            assert welcomes[1].game == GameModelsInfo(
                game_id="puzzle", models_game="puzzle", default_game="arena"
            )
            assert welcomes[0].behaviour is not None and welcomes[1].behaviour is not None
            assert welcomes[0].behaviour.classes == ARENA_CLASSES
            assert welcomes[1].behaviour.classes == PUZZLE_CLASSES
            assert (welcomes[1].behaviour.height, welcomes[1].behaviour.width) == PUZZLE_FRAME
            assert (list(welcomes[0].agents), welcomes[0].default_agent) == (["fighter"], "fighter")
            assert (list(welcomes[1].agents), welcomes[1].default_agent) == (["solver"], "solver")
            assert (welcomes[0].npcs, welcomes[1].npcs) == (("brann",), ("sphinx",))
            for welcome, agent in zip(welcomes, ("fighter", "solver"), strict=True):
                assert set(welcome.models) == {"behaviour", "dialogue", f"agent/{agent}"}
            assert welcomes[0].models["behaviour"].version != welcomes[1].models["behaviour"].version

            arena_results, puzzle_results = await asyncio.gather(
                _results(arena, (84, 84), 6), _results(puzzle, PUZZLE_FRAME, 4)
            )
            assert all(set(r.probabilities) == set(ARENA_CLASSES) for r in arena_results)
            assert all(set(r.probabilities) == set(PUZZLE_CLASSES) for r in puzzle_results)
            assert [r.seq for r in puzzle_results][:2] == [1, 2]  # K = 2: from the 2nd frame on

            fought, solved = await asyncio.gather(
                arena.act("npc", np.zeros(8, np.float32)), puzzle.act("npc", np.zeros(3, np.float32))
            )
            assert (fought.agent, len(fought.action), solved.agent) == ("fighter", 3, "solver")
            with pytest.raises(ServerError) as refused:
                await puzzle.act("npc", np.zeros(8, np.float32), agent="fighter")  # the arena's agent
            assert refused.value.code is ErrorCode.UNKNOWN_AGENT

            reply = await puzzle.dialogue("sphinx", player_line="Hello?", max_new_tokens=4, seed=1)
            async with asyncio.timeout(30):
                assert (await reply.done).tokens >= 1
            stranger = await puzzle.dialogue(
                "brann", player_line="Hello?", max_new_tokens=4
            )  # the arena's card
            with pytest.raises(ServerError) as missing:
                async with asyncio.timeout(30):
                    await stranger.done
            assert missing.value.code is ErrorCode.MISSING_FIELD
            assert arena.errors == []
        finally:
            await asyncio.gather(arena.close(), puzzle.close())

        service = server.services.get(BehaviourService)
        game_model = service.games["puzzle"].model
        assert service.model is not None and game_model is not None
        assert game_model.worker is not service.model.worker  # each model its own worker
        assert game_model.process is None or game_model.process is not service.model.process


async def test_an_unknown_game_gets_the_default_set_and_a_game_without_a_part_gets_none(
    runtime: RuntimeConfig,
) -> None:
    async with running_server(ServerConfig(port=0), runtime) as server:
        chess, arena, racer = await asyncio.gather(
            _connect(server, "chess"), _connect(server, "arena"), _connect(server, "racer")
        )
        try:
            assert chess.welcome.game == GameModelsInfo(
                game_id="chess", models_game=None, default_game="arena"
            )
            assert chess.welcome.behaviour is not None and chess.welcome.behaviour.classes == ARENA_CLASSES
            assert chess.welcome.models["behaviour"] == arena.welcome.models["behaviour"]
            assert (list(chess.welcome.agents), chess.welcome.npcs) == (["fighter"], ("brann",))
            assert (await chess.act("npc", np.zeros(8, np.float32))).agent == "fighter"

            assert racer.welcome.game is not None and racer.welcome.game.models_game == "racer"
            assert racer.welcome.npcs == ("mechanic",)
            assert racer.welcome.behaviour is None and racer.welcome.agents == {}  # never the arena's
            behaviour = racer.welcome.models["behaviour"]
            assert (behaviour.status, behaviour.reason) == (
                "unavailable",
                "game 'racer' has no behaviour model",
            )
            with pytest.raises(ServerError) as refused:
                await racer.act("npc", np.zeros(8, np.float32))
            assert refused.value.code is ErrorCode.MODEL_UNAVAILABLE
        finally:
            await asyncio.gather(chess.close(), arena.close(), racer.close())

        health = json.loads(
            await asyncio.to_thread(_http_get, server.url.replace("ws://", "http://") + "healthz")
        )
        assert health["status"] == "ok"  # racer has no behaviour model: nothing is broken
        assert health["models"] == {
            "behaviour": "ready",
            "games/puzzle/behaviour": "ready",
            "dialogue": "ready",
            "agent/fighter": "ready",
            "games/puzzle/agent/solver": "ready",
        }


async def test_the_frame_size_in_hello_is_checked_against_the_sessions_game(runtime: RuntimeConfig) -> None:
    height, width = PUZZLE_FRAME
    async with running_server(ServerConfig(port=0), runtime) as server:
        for game_id, accepted in (("puzzle", True), ("arena", False), ("chess", False)):
            hello = {"type": "hello", "protocol": 1, "game_id": game_id, "services": ["behaviour"],
                     "frames": {"width": width, "height": height}}  # fmt: skip
            async with connect(server.url, compression=None) as websocket:
                await websocket.send(json.dumps(hello))
                answer = json.loads(await websocket.recv())
                if accepted:
                    assert answer["type"] == "welcome", answer
                    continue
                assert (answer["code"], answer["fatal"]) == ("unsupported_frame_format", True), answer
                assert "frames must be 84x84" in answer["message"]
                with pytest.raises(ConnectionClosed):
                    await websocket.recv()
                assert websocket.close_code == CloseCode.UNSUPPORTED_FRAME_FORMAT
