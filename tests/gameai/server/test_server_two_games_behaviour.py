"""Issue 34 end to end: a studio's own game beside the arena, on one server.

The toy game (:mod:`gameai.testing.toy_game`, its own green-and-yellow look) is filled through
the public dataset API, trained with ``gameai train behaviour all --dataset`` into its models
directory entry; the arena is the shipped model. One ``gameai serve`` serves both: each
session gets its game's classes and results, and each game's frames, sent to the other game's
model (downscaled to the size that model asks for, as a client does), come back ``unknown``,
never an accusation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.look import UNKNOWN, load_frame_look
from gameai.cli import main
from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.protocol.messages import BehaviourResult
from gameai.runtime.config import RuntimeConfig
from gameai.server.config import ServerConfig
from gameai.testing.behaviour_streams import stream_in_lockstep
from gameai.testing.servers import running_server
from gameai.testing.toy_game import SPEEDS, toy_frames, write_toy_dataset
from gameai.training.behaviour.config import RecordConfig
from gameai.training.behaviour.record import plan_players, record_split

pytestmark = pytest.mark.xdist_group("behaviour_dataset_e2e")

SHIPPED = Path(__file__).resolve().parents[3] / "assets" / "behaviour"
TINY_MODEL = ["--frames-per-window", "8", "--conv-channels", "8", "16", "16", "--hidden", "64",
              "--fine-keypoints", "1", "--batch-size", "80", "--clip-frames", "12", "--lr", "3e-3",
              "--warmup-steps", "5", "--val-windows", "512", "--threads", "1", "--device", "cpu",
              "--ensemble-members", "1", "--split-shares", "0.5", "0.1", "0.2", "0.2",
              "--max-epochs", "6", "--patience", "6", "--windows-per-epoch", "2000"]  # fmt: skip


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``arena`` (the shipped model, the default game) and ``toy``, trained here from its dataset."""
    root = tmp_path_factory.mktemp("two-games")
    write_toy_dataset(root / "data", players=24, palette="fixed")
    models = root / "models"
    (models / "arena").mkdir(parents=True)
    (models / "arena" / "behaviour").symlink_to(SHIPPED)
    (models / "games.toml").write_text('default = "arena"\n')
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        args = ["train", "behaviour", "all", "--dataset", "data", "--assets-dir", "models/toy/behaviour"]
        assert main([*args, *TINY_MODEL]) == 0
    return models


def _arena_frames() -> Iterator[np.ndarray]:
    """84x84 frames of fresh arena players (seeds no shipped model's recording used), play order."""
    config = RecordConfig(seed=9191, train_players=0, val_players=0, test_players=1, heldout_players=0,
                          frames_per_player=24)  # fmt: skip
    recorded = record_split(config, plan_players(config, "test"))
    return iter(np.asarray(recorded.frames[i]) for i in range(len(recorded.frames)))


async def _labels(
    url: str, game_id: str, frames: list[np.ndarray]
) -> tuple[list[BehaviourResult], tuple[str, ...]]:
    """Stream ``frames`` in one session of ``game_id``; its results and its model's classes."""
    client = await GameAIClient.connect(ClientConfig(url=url, game_id=game_id, services=("behaviour",)))
    try:
        assert client.welcome.behaviour is not None
        return await stream_in_lockstep(client, frames), client.welcome.behaviour.classes
    finally:
        await client.close()


def test_the_toy_games_look_tells_it_from_other_scenes(models_dir: Path) -> None:
    look = load_frame_look(models_dir / "toy" / "behaviour")
    assert look is not None and look.metadata["separated"]
    assert look.metadata["own_unknown_share"] <= 0.02 and look.metadata["other_unknown_share"] >= 0.95


async def test_one_server_serves_both_games_and_each_calls_the_others_frames_unknown(
    models_dir: Path,
) -> None:
    rng = np.random.default_rng(4242)  # toy players no dataset session drew
    toy = [frame for label in SPEEDS for frame in toy_frames(label, 16, rng)]
    arena = [frame for frame, _ in zip(_arena_frames(), range(48), strict=False)]
    runtime = RuntimeConfig(models_dir=str(models_dir), dialogue_model="", device="cpu")
    config = ServerConfig(port=0, max_fps=1000.0, frame_queue=64)  # the first window: no frame dropped
    async with running_server(config, runtime) as server:
        (toy_on_toy, toy_classes), (arena_on_toy, _), (toy_on_arena, arena_classes) = await asyncio.gather(
            _labels(server.url, "toy", toy),
            _labels(server.url, "toy", arena),
            _labels(server.url, "arena", toy),
        )
    assert toy_classes == tuple(SPEEDS) and "bot_like" in arena_classes
    assert all(r.label in SPEEDS for r in toy_on_toy)  # its own game: never unknown
    assert toy_on_toy[0].label == "still" and toy_on_toy[-1].label == "fast"  # 16 frames still ... fast
    for results, accusation in ((arena_on_toy, "fast"), (toy_on_arena, "bot_like")):
        labels = [r.label for r in results]
        assert len(labels) >= 20
        assert labels.count(UNKNOWN) >= 0.95 * len(labels)
        assert accusation not in labels
