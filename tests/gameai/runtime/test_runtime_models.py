"""The behaviour worker's batch function: cached frame encodings give whole-window results."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from gameai.behaviour.model import (
    BehaviourNetConfig,
    frames_to_input,
    load_behaviour_model,
    save_behaviour_model,
)
from gameai.runtime.models import BehaviourClassifier, FrameEncodingCache, WindowRequest
from gameai.testing.tiny_models import write_random_behaviour_model

K = 6
KEYPOINTS = BehaviourNetConfig(
    architecture="keypoints", frames_per_window=K, conv_channels=(8, 8, 8), hidden=16, batch_norm=True
)


class CountingClassifier:
    """A real classifier, with a count of the frames that went through the per-frame convs."""

    def __init__(self, classifier: BehaviourClassifier) -> None:
        self.classifier = classifier
        self.encoded = 0
        fused = classifier.fused
        assert fused is not None
        encode = fused.encode_frames

        def counted(frames: torch.Tensor) -> torch.Tensor:
            self.encoded += len(frames)
            return encode(frames)

        fused.encode_frames = counted  # type: ignore[method-assign]


def _classifier(tmp_path: Path, config: BehaviourNetConfig) -> BehaviourClassifier:
    torch.manual_seed(0)
    net = write_random_behaviour_model(tmp_path / "model", config)
    # Give the batch norms real statistics, so that no layer is an identity.
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, torch.nn.BatchNorm2d | torch.nn.BatchNorm1d):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
    save_behaviour_model(tmp_path / "model", net)
    return BehaviourClassifier(load_behaviour_model(tmp_path / "model"), "float32")  # the network's numbers


@pytest.fixture
def frames() -> np.ndarray:
    return np.random.default_rng(3).integers(0, 256, (40, 84, 84, 3), dtype=np.uint8)


@pytest.fixture
def counting(tmp_path: Path) -> Iterator[CountingClassifier]:
    yield CountingClassifier(_classifier(tmp_path, KEYPOINTS))


def _window(frames: np.ndarray, last: int) -> np.ndarray:
    return frames[last - K + 1 : last + 1].copy()


@pytest.mark.parametrize("every", [1, 3, K, K + 2])
def test_a_stream_with_a_cache_gives_the_whole_window_results_and_encodes_each_frame_once(
    counting: CountingClassifier, frames: np.ndarray, every: int
) -> None:
    classifier = counting.classifier
    cache = FrameEncodingCache()
    lasts = list(range(K - 1, len(frames), every))
    streamed = [classifier([WindowRequest(_window(frames, last), last, cache)])[0] for last in lasts]
    encoded = counting.encoded
    whole = classifier.classify_windows([_window(frames, last) for last in lasts])
    np.testing.assert_allclose(np.array(streamed), np.array(whole), atol=1e-5)
    assert len({tuple(np.round(p, 4)) for p in streamed}) > 1  # the windows do differ
    with torch.no_grad():  # and they are the trained network's (served through FusedBehaviourNet)
        stacked = np.stack([_window(frames, last) for last in lasts])  # (B, K, H, W, 3)
        direct = torch.softmax(classifier.model.net(torch.from_numpy(frames_to_input(stacked))), dim=1)
    np.testing.assert_allclose(np.array(whole), direct.numpy(), atol=1e-5)
    # The first window encodes K frames, every later one the frames it slid by (K at most).
    assert encoded == K + (len(lasts) - 1) * min(every, K)
    assert cache.last_frame == lasts[-1] and cache.window is not None and cache.window.shape[0] == K


@pytest.mark.parametrize(
    "changes",
    [{"mirror_average": True}, {"ensemble_members": 2}, {"ensemble_members": 2, "mirror_average": True}],
    ids=["mirror", "ensemble", "ensemble-mirror"],
)
def test_a_mirror_averaged_or_ensemble_stream_gives_the_whole_window_results(
    tmp_path: Path, frames: np.ndarray, changes: dict[str, object]
) -> None:
    classifier = _classifier(tmp_path, replace(KEYPOINTS, **changes))  # type: ignore[arg-type]
    plain = _classifier(tmp_path / "plain", KEYPOINTS)  # the same seed: the same (first) weights
    cache = FrameEncodingCache()
    lasts = list(range(K - 1, len(frames), 2))
    streamed = [classifier([WindowRequest(_window(frames, last), last, cache)])[0] for last in lasts]
    whole = classifier.classify_windows([_window(frames, last) for last in lasts])
    np.testing.assert_allclose(np.array(streamed), np.array(whole), atol=1e-5)
    unmirrored = plain.classify_windows([_window(frames, last) for last in lasts])
    assert np.abs(np.array(whole) - np.array(unmirrored)).max() > 1e-4  # 10x the tolerance above


def test_one_batch_with_two_windows_of_a_session_and_others(
    counting: CountingClassifier, frames: np.ndarray
) -> None:
    classifier = counting.classifier
    first, second = FrameEncodingCache(), FrameEncodingCache()
    classifier([WindowRequest(_window(frames, K - 1), K - 1, first)])
    counting.encoded = 0
    batch = [
        WindowRequest(_window(frames, K), K, first),  # slides by 1
        WindowRequest(_window(frames, 20), 20, second),  # a new session: K frames
        WindowRequest(_window(frames, K + 2), K + 2, first),  # the same session again, by 2 more
        WindowRequest(_window(frames, 30), 30),  # no cache: K frames
    ]
    probabilities = classifier(batch)
    assert counting.encoded == 1 + K + 2 + K
    np.testing.assert_allclose(
        np.array(probabilities), np.array(classifier.classify_windows([r.window for r in batch])), atol=1e-5
    )
    assert first.last_frame == K + 2 and second.last_frame == 20


def test_a_window_that_does_not_move_forward_is_encoded_whole(
    counting: CountingClassifier, frames: np.ndarray
) -> None:
    classifier = counting.classifier
    cache = FrameEncodingCache()
    classifier([WindowRequest(_window(frames, 12), 12, cache)])
    counting.encoded = 0
    # Same number, other pixels (a client that restarted its count): nothing stale is reused.
    again = classifier([WindowRequest(_window(frames, 30), 12, cache)])
    assert counting.encoded == K
    np.testing.assert_allclose(again[0], classifier.classify_windows([_window(frames, 30)])[0], atol=1e-5)


def test_the_nature_architecture_classifies_whole_windows(tmp_path: Path, frames: np.ndarray) -> None:
    classifier = _classifier(
        tmp_path, BehaviourNetConfig(frames_per_window=K, conv_channels=(8, 8, 8), hidden=16)
    )
    assert not classifier.encodes_frames
    requests = [WindowRequest(_window(frames, last), last, FrameEncodingCache()) for last in (K - 1, 9, 17)]
    np.testing.assert_allclose(
        np.array(classifier(requests)),
        np.array(classifier.classify_windows([r.window for r in requests])),
        atol=1e-6,
    )
    assert all(r.cache is not None and r.cache.window is None for r in requests)
