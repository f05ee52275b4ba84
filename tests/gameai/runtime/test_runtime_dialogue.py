"""The dialogue worker streams a real (tiny) model's reply off the loop, cancels, and bounds its queue."""

from __future__ import annotations

import asyncio

import pytest

from gameai.dialogue.hf_backend import HuggingFaceBackend
from gameai.dialogue.types import DialogueContext, GenerationParams
from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.batching import OverloadedError, WorkerStoppedError
from gameai.runtime.dialogue import DialogueWorker
from gameai.testing.tiny_models import write_tiny_dialogue_model

CONTEXT = DialogueContext(npc_id="n", persona="healer", player_line="I am hurt.")


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> HuggingFaceBackend:
    return HuggingFaceBackend.load(write_tiny_dialogue_model(tmp_path_factory.mktemp("tiny"), "chat"))


@pytest.fixture(scope="module")
def long_backend(tmp_path_factory: pytest.TempPathFactory) -> HuggingFaceBackend:
    """A long context: greedy decoding of this seeded model runs for over a second without an end token."""
    directory = tmp_path_factory.mktemp("long")
    return HuggingFaceBackend.load(write_tiny_dialogue_model(directory, "chat", n_positions=2048))


async def test_reply_streams_with_token_counts(backend: HuggingFaceBackend) -> None:
    metrics = ServiceMetrics()
    worker = DialogueWorker("dialogue", backend, metrics=metrics)
    worker.start()
    stream = worker.submit(CONTEXT, GenerationParams(max_new_tokens=12, temperature=1.0, seed=4))
    pieces = [piece async for piece in stream]
    await worker.stop()
    assert pieces and stream.tokens == sum(p.tokens for p in pieces) and 1 <= stream.tokens <= 12
    assert not stream.cancelled
    expected = "".join(backend.stream(CONTEXT, GenerationParams(max_new_tokens=12, temperature=1.0, seed=4),
                                      __import__("threading").Event()))  # fmt: skip
    assert "".join(p.text for p in pieces) == expected
    assert metrics.registry.get_sample_value("gameai_dialogue_tokens_total") == stream.tokens


async def test_cancel_ends_the_stream_early(long_backend: HuggingFaceBackend) -> None:
    worker = DialogueWorker("dialogue", long_backend)
    worker.start()
    stream = worker.submit(CONTEXT, GenerationParams(max_new_tokens=1000, temperature=1.0, seed=1))
    async for _ in stream:
        stream.cancel()
    await worker.stop()
    assert stream.cancelled and stream.tokens < 1000


async def test_queue_is_bounded(backend: HuggingFaceBackend) -> None:
    worker = DialogueWorker("dialogue", backend, concurrency=1, max_queue=2)
    worker.start()
    streams = []
    with pytest.raises(OverloadedError):  # two wait, at most one more is taken by the thread meanwhile
        for i in range(10):
            streams.append(worker.submit(CONTEXT, GenerationParams(max_new_tokens=5, seed=i)))
    assert 2 <= len(streams) <= 4
    for stream in streams:
        async for _ in stream:
            pass
    await worker.stop()


async def test_stop_cancels_replies_in_flight_and_refuses_new_ones(long_backend: HuggingFaceBackend) -> None:
    worker = DialogueWorker("dialogue", long_backend)
    worker.start()
    stream = worker.submit(CONTEXT, GenerationParams(max_new_tokens=1500, temperature=0.0))
    await asyncio.sleep(0.05)
    await worker.stop()
    async for _ in stream:
        pass
    assert stream.cancelled and stream.tokens < 1500
    with pytest.raises(WorkerStoppedError):
        worker.submit(CONTEXT, GenerationParams())


class _Broken:
    name = "broken"
    version = "0"

    def stream(self, context: object, params: object, cancel: object) -> list[str]:
        raise RuntimeError("backend exploded")


async def test_backend_failure_surfaces_from_the_stream() -> None:
    worker = DialogueWorker("dialogue", _Broken())  # a backend is the edge: any model may fail
    worker.start()
    stream = worker.submit(CONTEXT, GenerationParams())
    with pytest.raises(RuntimeError, match="exploded"):
        async for _ in stream:
            pass
    await worker.stop()
