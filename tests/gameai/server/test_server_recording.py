"""Opt-in recording through the real server: off by default, only sessions that ask (with consent),
frames and labels into the game's dataset, bad labels refused, deletion, a failing disk.

The datasets are read back with :func:`~gameai.behaviour.dataset.read_dataset` once the server
has stopped (a stopping server waits for the recordings' last chunks).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.dataset import DatasetWriter, SessionRecord, read_dataset
from gameai.cli import main
from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.protocol import ErrorCode
from gameai.protocol.messages import BehaviourResult, Error, Message, RecordingInfo, RecordRequest
from gameai.server.app import GameAIServer
from gameai.server.config import ServerConfig
from gameai.services.behaviour import BehaviourService
from gameai.services.behaviour_recording import (
    NO_BEHAVIOUR_SERVICE,
    NO_CONSENT,
    OFF_ON_SERVER,
    BehaviourRecordings,
)
from gameai.services.builtin import load_services
from gameai.testing.servers import running_server, runtime_config_for
from gameai.testing.tiny_models import random_frames

SERVER = ServerConfig(port=0, max_fps=1000.0)
TOKEN = "token-never-stored"
K = 4
"""Frames per window of the test model: the first result comes with the 4th frame."""


async def _connect(
    server: GameAIServer,
    player: str | None,
    consent: bool = True,
    game_id: str = "arena",
    services: tuple[str, ...] = ("behaviour",),
) -> GameAIClient:
    record = RecordRequest(player_id=player, consent=consent) if player is not None else None
    config = ClientConfig(url=server.url, game_id=game_id, token=TOKEN, services=services, record=record)  # type: ignore[arg-type]
    return await GameAIClient.connect(config)


class _Play:
    """A client's behaviour results and errors, as they arrive."""

    def __init__(self, client: GameAIClient) -> None:
        self.client = client
        self.results: list[BehaviourResult] = []
        self.errors: list[Error] = []
        client.on_message = self._keep

    def _keep(self, message: Message) -> None:
        if isinstance(message, BehaviourResult):
            self.results.append(message)
        elif isinstance(message, Error):
            self.errors.append(message)

    async def send(self, frames: Sequence[np.ndarray], first_seq: int = 0) -> None:
        """Send frames one by one, and wait for the result of the last (so every one was taken)."""
        for seq, pixels in enumerate(frames, first_seq):
            await self.client.send_frame(pixels, seq=seq, timestamp=float(seq))
            await asyncio.sleep(0.02)
        last = first_seq + len(frames) - 1
        async with asyncio.timeout(20):
            while not any(r.seq == last for r in self.results):
                await asyncio.sleep(0.01)

    async def error(self, code: ErrorCode) -> Error:
        """Wait for an error of this code."""
        async with asyncio.timeout(10):
            while not any(e.code is code for e in self.errors):
                await asyncio.sleep(0.01)
        return next(e for e in self.errors if e.code is code)

    @property
    def dropped(self) -> int:
        """Frames the server's queue dropped (not classified, not recorded)."""
        return sum(r.dropped_frames for r in self.results)


def _sent_indices(session: SessionRecord, sent: Sequence[np.ndarray]) -> list[int]:
    """Which sent frame each recorded frame is (every one must be one, in order)."""
    recorded = session.frames()
    indices, start = [], 0
    for frame in recorded:
        index = next(i for i in range(start, len(sent)) if np.array_equal(sent[i], frame))
        indices.append(index)
        start = index + 1
    return indices


def _files_text(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file())


async def test_recording_is_off_by_default(
    assets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # anything written to a relative path would land here
    async with running_server(SERVER, runtime_config_for(assets)) as server:
        play = _Play(await _connect(server, "player-1"))
        assert play.client.welcome.recording == RecordingInfo(recorded=False, reason=OFF_ON_SERVER)
        await play.client.label("explorer")
        refused = await play.error(ErrorCode.NOT_RECORDING)
        assert OFF_ON_SERVER in refused.message
        await play.send(random_frames(K + 1, seed=1))  # behaviour results as ever
        await play.client.close()
    assert list(tmp_path.iterdir()) == []


async def test_a_recorded_session_stores_the_frames_the_model_got_and_their_labels(
    assets: Path, tmp_path: Path
) -> None:
    record_dir = tmp_path / "recordings"
    frames = random_frames(10, seed=2)
    async with running_server(SERVER, runtime_config_for(assets, record_dir=str(record_dir))) as server:
        play = _Play(await _connect(server, "player-1"))
        assert play.client.welcome.recording == RecordingInfo(recorded=True)
        await play.send(frames[:4])
        await play.client.label("explorer")
        await play.send(frames[4:8], first_seq=4)
        await play.client.label(None)
        await play.send(frames[8:], first_seq=8)
        await play.client.close()
        assert play.errors == []

    dataset = read_dataset(record_dir / "arena")
    classes = ("aggressive", "explorer", "collector", "evasive", "idle", "bot_like")
    assert (dataset.info.game_id, dataset.info.classes, dataset.info.accusation_classes) == (
        "arena",
        classes,
        ("bot_like",),
    )
    assert (dataset.info.frame_size, dataset.info.sample_fps) == ((84, 84), 5.0)
    (session,) = dataset.sessions
    assert (session.player_id, session.source, session.closed) == ("player-1", "server", True)
    indices = _sent_indices(session, frames)  # pixels as sent, in order
    assert len(indices) == len(frames) - play.dropped
    expected = ["explorer" if 4 <= i < 8 else None for i in indices]
    assert session.frame_labels() == expected
    if play.dropped == 0:
        assert [(r.start, r.stop, r.label) for r in session.label_runs()] == [
            (0, 4, None),
            (4, 8, "explorer"),
            (8, 10, None),
        ]
    stored = _files_text(record_dir)
    assert TOKEN.encode() not in stored and b"127.0.0.1" not in stored  # no token, no address
    record = json.loads((session.directory / "session.json").read_text())
    assert set(record) == {
        "format", "format_version", "session_id", "player_id", "source", "created", "closed", "frames",
        "chunks", "labels",
    }  # fmt: skip


async def test_sessions_that_do_not_ask_or_cannot_be_recorded_store_nothing(
    assets: Path, tmp_path: Path
) -> None:
    record_dir = tmp_path / "recordings"
    other = DatasetWriter(record_dir / "puzzle", game_id="puzzle", classes=("thinking", "stuck"))
    async with running_server(SERVER, runtime_config_for(assets, record_dir=str(record_dir))) as server:
        silent = _Play(await _connect(server, None))
        unwilling = _Play(await _connect(server, "player-2", consent=False, game_id="chess"))
        mismatched = _Play(await _connect(server, "player-3", game_id="puzzle"))
        unnameable = _Play(await _connect(server, "player-4", game_id="my game"))
        frameless = await _connect(server, "player-5", game_id="quiz", services=("agents",))

        assert silent.client.welcome.recording is None
        assert unwilling.client.welcome.recording == RecordingInfo(recorded=False, reason=NO_CONSENT)
        recording = mismatched.client.welcome.recording
        assert recording is not None and not recording.recorded and recording.reason is not None
        assert "classes" in recording.reason and str(tmp_path) not in recording.reason
        recording = unnameable.client.welcome.recording
        assert recording is not None and not recording.recorded and "game_id" in str(recording.reason)
        assert frameless.welcome.recording == RecordingInfo(recorded=False, reason=NO_BEHAVIOUR_SERVICE)

        for seed, play in enumerate((silent, unwilling, mismatched, unnameable)):
            await play.send(random_frames(K + 1, seed=seed))
            await play.client.label("explorer")
            assert "not recorded" in (await play.error(ErrorCode.NOT_RECORDING)).message
        await asyncio.gather(
            silent.client.close(),
            unwilling.client.close(),
            mismatched.client.close(),
            unnameable.client.close(),
            frameless.close(),
        )
    assert sorted(path.name for path in record_dir.iterdir()) == ["puzzle"]
    assert read_dataset(other.path).sessions == ()


async def test_a_bad_label_is_refused_and_the_session_goes_on(assets: Path, tmp_path: Path) -> None:
    record_dir = tmp_path / "recordings"
    frames = random_frames(K + 4, seed=3)
    async with running_server(SERVER, runtime_config_for(assets, record_dir=str(record_dir))) as server:
        play = _Play(await _connect(server, "player-1"))
        await play.client.label("collector")
        await play.send(frames[:K])
        for bad in ("flying", "unknown"):
            play.errors.clear()
            await play.client.label(bad)
            refused = await play.error(ErrorCode.UNKNOWN_LABEL)
            assert bad in refused.message and "collector" in refused.message and not refused.fatal
        await play.send(frames[K:], first_seq=K)  # still classified, still recorded, same label
        await play.client.close()
    (session,) = read_dataset(record_dir / "arena").sessions
    assert session.frame_count == len(frames) - play.dropped
    assert set(session.frame_labels()) == {"collector"}


async def test_two_players_at_once_are_recorded_apart_and_deleted_apart(
    assets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    record_dir = tmp_path / "recordings"
    frames = {"ann": random_frames(6, seed=4), "bob": random_frames(6, seed=5)}
    async with running_server(SERVER, runtime_config_for(assets, record_dir=str(record_dir))) as server:
        ann, bob = (
            _Play(client) for client in await asyncio.gather(_connect(server, "ann"), _connect(server, "bob"))
        )
        await asyncio.gather(ann.client.label("aggressive"), bob.client.label("idle"))
        await asyncio.gather(ann.send(frames["ann"]), bob.send(frames["bob"]))
        await asyncio.gather(ann.client.close(), bob.client.close())

    sessions = {s.player_id: s for s in read_dataset(record_dir / "arena").sessions}
    assert set(sessions) == {"ann", "bob"}
    for player, play, label in (("ann", ann, "aggressive"), ("bob", bob, "idle")):
        assert len(_sent_indices(sessions[player], frames[player])) == 6 - play.dropped
        assert set(sessions[player].frame_labels()) == {label}

    assert main(["recordings", "list", "--record-dir", str(record_dir)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {k: listed["games"]["arena"][k] for k in ("sessions", "players", "open_sessions")} == {
        "sessions": 2,
        "players": 2,
        "open_sessions": 0,
    }
    assert main(["recordings", "delete", "--record-dir", str(record_dir), "--player", "ann"]) == 0
    deleted = json.loads(capsys.readouterr().out)
    assert deleted["removed"] == {"arena": [sessions["ann"].session_id]} and deleted["sessions_removed"] == 1
    assert [s.player_id for s in read_dataset(record_dir / "arena").sessions] == ["bob"]
    assert not sessions["ann"].directory.exists()

    assert main(["recordings", "delete", "--record-dir", str(record_dir), "--player", "ann"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["sessions_removed"] == 0 and "no recorded sessions" in again["message"]
    assert main(["recordings", "list", "--record-dir", str(record_dir), "--player", "bob"]) == 0
    assert json.loads(capsys.readouterr().out)["games"]["arena"]["session_ids"] == [
        sessions["bob"].session_id
    ]


async def test_deleting_a_player_being_recorded_stops_the_recording(assets: Path, tmp_path: Path) -> None:
    record_dir = tmp_path / "recordings"
    services = await asyncio.to_thread(load_services, runtime_config_for(assets))
    services.get(BehaviourService).recordings = BehaviourRecordings(record_dir, chunk_frames=2)
    async with running_server(SERVER, services=services) as server:
        play = _Play(await _connect(server, "ann"))
        await play.send(random_frames(K + 2, seed=6))
        async with asyncio.timeout(10):  # its first chunks are on disk
            while not list((record_dir / "arena" / "sessions").glob("*/chunk-*.npz")):
                await asyncio.sleep(0.01)
        assert main(["recordings", "delete", "--record-dir", str(record_dir), "--player", "ann"]) == 0
        await play.send(random_frames(K, seed=7), first_seq=K + 2)  # the next chunk finds it deleted
        stopped = await play.error(ErrorCode.RECORDING_STOPPED)
        assert "deleted" in stopped.message and not stopped.fatal
        await play.client.label("idle")
        assert "stopped" in (await play.error(ErrorCode.NOT_RECORDING)).message
        await play.send(random_frames(K, seed=8), first_seq=2 * K + 2)  # the session goes on
        await play.client.close()
    assert [e.code for e in play.errors].count(ErrorCode.RECORDING_STOPPED) == 1
    assert read_dataset(record_dir / "arena").sessions == ()
    left = [path.name for path in (record_dir / "arena" / "sessions").iterdir()]
    assert [name for name in left if not name.startswith(".")] == []  # (a hidden one goes next time)


async def test_a_recording_that_cannot_be_written_stops_once_and_the_session_goes_on(
    assets: Path, tmp_path: Path
) -> None:
    record_dir = tmp_path / "recordings"
    record_dir.mkdir()
    (record_dir / "arena").write_text("a file where the game's folder would go")
    async with running_server(SERVER, runtime_config_for(assets, record_dir=str(record_dir))) as server:
        play = _Play(await _connect(server, "player-1"))
        assert play.client.welcome.recording == RecordingInfo(recorded=True)  # known at the first write
        await play.send(random_frames(K + 4, seed=9))
        stopped = await play.error(ErrorCode.RECORDING_STOPPED)
        assert "could not write" in stopped.message and str(tmp_path) not in stopped.message
        await play.client.label("idle")
        assert "stopped" in (await play.error(ErrorCode.NOT_RECORDING)).message
        await play.send(random_frames(K, seed=10), first_seq=K + 4)
        await play.client.close()
    assert [e.code for e in play.errors].count(ErrorCode.RECORDING_STOPPED) == 1
    assert len(play.results) >= 5
