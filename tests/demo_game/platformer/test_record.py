"""The platformer's labelled play, written through the public dataset API and read back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from demo_game.platformer import GAME_ID
from demo_game.platformer.record import FRAME_SIZE, SAMPLE_FPS, main, play_frames, write_dataset
from demo_game.platformer.sim.styles import STYLES
from gameai.behaviour.dataset import read_dataset


def test_a_small_dataset_writes_and_reads_back_with_its_classes_and_labels(tmp_path: Path) -> None:
    written = write_dataset(tmp_path / "data", players_per_style=1, seconds=4.0, seed=7)
    assert written["sessions"] == len(STYLES) and written["frames"] == len(STYLES) * 20  # 4 s at 5 fps

    dataset = read_dataset(tmp_path / "data")
    info = dataset.info
    assert info.game_id == GAME_ID == "platformer"
    assert info.classes == tuple(STYLES) and info.accusation_classes == ("bot_like",)
    assert info.frame_size == FRAME_SIZE == (84, 84) and info.sample_fps == SAMPLE_FPS
    assert not dataset.skipped and len(dataset.players) == len(STYLES)
    labels: dict[str, str | None] = {}
    for session in dataset.sessions:
        assert session.closed and session.source == "api" and session.frame_count == 20
        assert set(session.frame_labels()) == {session.player_id.split("-")[1]}
        labels[session.player_id] = session.label_runs()[0].label
        frames = session.frames()
        assert frames.shape == (20, 84, 84, 3) and frames.dtype == np.uint8
        assert frames.std() > 20 and np.any(frames[0] != frames[-1]), "real, moving frames"
    assert sorted(str(label) for label in labels.values()) == sorted(STYLES)


def test_recorded_frames_are_what_the_app_would_send(tmp_path: Path) -> None:
    """The same player replayed gives the same frames, byte for byte: drawn at the window's size and
    downscaled like the plugin does (not drawn at 84x84, which differs)."""
    write_dataset(tmp_path / "data", players_per_style=1, seconds=2.0, seed=3, styles=("idle",))
    session = read_dataset(tmp_path / "data").sessions[0]
    rng = np.random.default_rng([3, list(STYLES).index("idle"), 0])
    skill = float(rng.uniform(0.0, 1.0))
    replayed = np.stack(list(play_frames("idle", 2.0, rng, skill, (0.0, 1.0))))
    np.testing.assert_array_equal(session.frames(), replayed)

    from demo_game.platformer.render import PlatformerRenderer
    from demo_game.platformer.sim import PlatformerSimulation

    sim = PlatformerSimulation()
    sim.reset(0)
    assert np.any(PlatformerRenderer((84, 84)).render(sim.state) != session.frames()[0])


def test_more_players_go_into_the_same_dataset_and_another_game_is_refused(tmp_path: Path) -> None:
    write_dataset(tmp_path / "data", players_per_style=1, seconds=1.0, seed=0, styles=("bot_like",))
    write_dataset(tmp_path / "data", players_per_style=1, seconds=1.0, seed=1, styles=("bot_like",))
    assert len(read_dataset(tmp_path / "data").sessions) == 2
    with pytest.raises(ValueError, match="styles"):
        write_dataset(tmp_path / "data", styles=("ninja",))
    from gameai.behaviour.dataset import DatasetWriter

    DatasetWriter(tmp_path / "other", game_id="other", classes=("a", "b"))
    with pytest.raises(ValueError, match="another dataset"):
        write_dataset(tmp_path / "other", players_per_style=1, seconds=1.0)


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--path", str(tmp_path / "cli"), "--players-per-style", "1", "--seconds", "1",
                 "--styles", "idle", "speedrunner"]) == 0  # fmt: skip
    assert '"sessions": 2' in capsys.readouterr().out
