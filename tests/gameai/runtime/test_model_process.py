"""The behaviour model in a child process gives the in-process model's answers and survives its child."""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gameai.behaviour.model import BehaviourNetConfig, load_behaviour_model
from gameai.observability.logs import configure_logging
from gameai.runtime.model_process import BehaviourProcess, ModelProcessError
from gameai.runtime.models import BehaviourClassifier, FrameEncodingCache, WindowRequest
from gameai.testing.tiny_models import TINY_FRAMES_PER_WINDOW, random_frames, write_random_behaviour_model

K = TINY_FRAMES_PER_WINDOW


@pytest.fixture(scope="module")
def nature_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("nature") / "behaviour"
    write_random_behaviour_model(
        directory, BehaviourNetConfig(frames_per_window=K, conv_channels=(8, 8, 8), hidden=16)
    )
    return directory


def _start(model_dir: Path, max_batch: int = 8) -> BehaviourProcess:
    config = load_behaviour_model(model_dir).config
    process = BehaviourProcess(model_dir, config, "cpu", torch_threads=1, max_batch=max_batch)
    process.wait_ready()
    return process


@pytest.fixture
def keypoints_process(tiny_keypoints_model: Path) -> Iterator[BehaviourProcess]:
    process = _start(tiny_keypoints_model)
    yield process
    process.close()


def _window(frames: list[np.ndarray], last: int) -> list[np.ndarray]:
    return frames[last - K + 1 : last + 1]


@pytest.mark.parametrize("architecture", ["keypoints", "nature"])
def test_child_gives_the_in_process_answers(
    tiny_keypoints_model: Path, nature_model: Path, architecture: str
) -> None:
    model_dir = tiny_keypoints_model if architecture == "keypoints" else nature_model
    direct = BehaviourClassifier(load_behaviour_model(model_dir))
    process = _start(model_dir)
    try:
        streams = [random_frames(14, seed) for seed in range(3)]
        caches = [FrameEncodingCache() for _ in streams]
        # Three sessions, interleaved; some batches hold two windows of one session, one skips frames.
        for lasts in [(3, 3, 5), (4, 5, 6), (6, 9, 7), (7, 10, 13), (8, 11, 13)]:
            requests = [
                WindowRequest(_window(frames, last), last, cache)
                for frames, cache, last in zip(streams, caches, lasts, strict=True)
            ]
            requests.append(
                WindowRequest(np.stack(_window(streams[0], lasts[0] + 1)), lasts[0] + 1, caches[0])
            )
            got = process(requests)
            expected = direct.classify_windows([np.stack(list(r.window)) for r in requests])
            assert len(got) == len(requests)
            for g, e in zip(got, expected, strict=True):
                assert g.shape == (6,)
                assert np.allclose(g, e, atol=1e-5)
    finally:
        process.close()


def test_a_killed_child_fails_its_batch_and_a_new_one_takes_over(tiny_keypoints_model: Path) -> None:
    exits: list[int] = []
    config = load_behaviour_model(tiny_keypoints_model).config
    keypoints_process = BehaviourProcess(
        tiny_keypoints_model, config, "cpu", torch_threads=1, max_batch=8, on_exit=lambda: exits.append(1)
    )
    try:
        _kill_and_replace(keypoints_process, tiny_keypoints_model)
        assert exits == [1]  # counted once (gameai_model_process_exits_total)
    finally:
        keypoints_process.close()
    assert exits == [1]  # closing is not an exit to count


def _kill_and_replace(keypoints_process: BehaviourProcess, tiny_keypoints_model: Path) -> None:
    direct = BehaviourClassifier(load_behaviour_model(tiny_keypoints_model))
    frames = random_frames(12, 7)
    cache = FrameEncodingCache()
    for last in range(K - 1, 7):
        keypoints_process([WindowRequest(_window(frames, last), last, cache)])
    first_pid = keypoints_process.pid
    assert first_pid is not None
    os.kill(first_pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while keypoints_process.pid == first_pid and time.monotonic() < deadline:
        time.sleep(0.01)  # its reply thread sees the socket close
    assert keypoints_process.pid is None
    # The next batch starts a new child, which has none of the old encodings: whole windows again.
    got = keypoints_process([WindowRequest(_window(frames, 8), 8, cache)])
    assert keypoints_process.pid not in (None, first_pid)
    assert np.allclose(got[0], direct.classify_windows([np.stack(_window(frames, 8))])[0], atol=1e-5)


def test_a_batch_in_flight_when_the_child_dies_gets_a_typed_error(
    keypoints_process: BehaviourProcess,
) -> None:
    pid = keypoints_process.pid
    assert pid is not None
    os.kill(pid, signal.SIGSTOP)  # it cannot answer
    try:
        frames = random_frames(K, 1)
        outcome: list[object] = []

        def call() -> None:
            try:
                outcome.append(keypoints_process([WindowRequest(frames, K - 1, FrameEncodingCache())]))
            except ModelProcessError as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        time.sleep(0.2)
        assert not outcome  # waiting for the stopped child
        os.kill(pid, signal.SIGKILL)
        caller.join(timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGCONT)
    assert len(outcome) == 1 and isinstance(outcome[0], ModelProcessError)
    assert "exited" in str(outcome[0])


def test_sessions_that_end_are_forgotten_by_the_child(keypoints_process: BehaviourProcess) -> None:
    frames = random_frames(K + 1, 3)
    cache = FrameEncodingCache()
    key = cache.key
    keypoints_process([WindowRequest(_window(frames, K - 1), K - 1, cache)])
    assert key in keypoints_process._held
    del cache
    gc.collect()
    assert key in keypoints_process._forgotten
    other = FrameEncodingCache()
    keypoints_process([WindowRequest(_window(frames, K), K, other)])  # carries the news
    assert key not in keypoints_process._held and not keypoints_process._forgotten
    assert other.key in keypoints_process._held


def test_close_ends_the_child_and_later_batches_are_refused(tiny_keypoints_model: Path) -> None:
    process = _start(tiny_keypoints_model)
    pid = process.pid
    assert pid is not None
    process.close()
    assert process.pid is None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone and reaped
    with pytest.raises(ModelProcessError, match="closed"):
        process([WindowRequest(random_frames(K, 0), K - 1)])


def test_a_child_that_cannot_load_the_model_says_why(tiny_keypoints_model: Path, tmp_path: Path) -> None:
    config = load_behaviour_model(tiny_keypoints_model).config
    process = BehaviourProcess(tmp_path / "missing", config, "cpu", torch_threads=1, max_batch=4)
    try:
        with pytest.raises(ModelProcessError, match="could not start"):
            process.wait_ready()
        with pytest.raises(ModelProcessError, match="moments ago"):  # no restart storm
            process([WindowRequest(random_frames(K, 0), K - 1)])
    finally:
        process.close()


def test_a_batch_the_child_fails_on_is_an_error_and_the_next_one_works(
    keypoints_process: BehaviourProcess, tiny_keypoints_model: Path
) -> None:
    direct = BehaviourClassifier(load_behaviour_model(tiny_keypoints_model))
    frames = random_frames(K + 2, 4)
    cache = FrameEncodingCache()
    keypoints_process._held[cache.key] = K - 1  # a lie: the child holds nothing for this session
    with pytest.raises(ModelProcessError, match="cached encodings"):
        keypoints_process([WindowRequest(_window(frames, K), K, cache)])
    got = keypoints_process([WindowRequest(_window(frames, K + 1), K + 1, cache)])  # encoded whole
    assert np.allclose(got[0], direct.classify_windows([np.stack(_window(frames, K + 1))])[0], atol=1e-5)


def test_the_child_logs_in_the_servers_format(
    tiny_keypoints_model: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    gameai_logger = logging.getLogger("gameai")
    saved = (gameai_logger.handlers[:], gameai_logger.level, gameai_logger.propagate)
    configure_logging("json", "INFO")
    try:
        process = _start(tiny_keypoints_model)
        try:
            cache = FrameEncodingCache()
            process._held[cache.key] = K - 1  # makes the child fail, and log why
            with pytest.raises(ModelProcessError):
                process([WindowRequest(random_frames(K, 0), K, cache)])
        finally:
            process.close()
    finally:
        gameai_logger.handlers[:], gameai_logger.level, gameai_logger.propagate = saved
    err = capfd.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    child_lines = [
        entry
        for entry in lines
        if entry["logger"] == "gameai.runtime.model_process" and entry["level"] == "ERROR"
    ]
    assert child_lines and "cached encodings" in child_lines[0]["exception"]
