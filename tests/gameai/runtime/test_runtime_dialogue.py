"""The dialogue worker streams a real (tiny) model's reply off the loop, cancels, and bounds its queue."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from gameai.dialogue.hf_backend import HuggingFaceBackend
from gameai.dialogue.hf_batch import HuggingFaceBatch
from gameai.dialogue.types import (
    DialogueBackend,
    DialogueBatch,
    DialogueContext,
    GenerationParams,
    ReplyProgress,
    TextDelta,
)
from gameai.observability.metrics import ServiceMetrics
from gameai.protocol.messages import NpcCard
from gameai.runtime.batching import OverloadedError, WorkerStoppedError
from gameai.runtime.dialogue import DialogueStream, DialogueWorker
from gameai.testing.tiny_models import write_tiny_dialogue_model

CONTEXT = DialogueContext(npc_id="n", npc=NpcCard(name="Mira", role="healer"), player_line="I am hurt.")
LONG = DialogueContext(npc_id="n", npc=NpcCard(name="Kestrel", role="scout"), player_line="word " * 500)
"""A prompt that fills a 64-position context: the reply gets the other half, 32 tokens."""


def _alone(backend: HuggingFaceBackend, context: DialogueContext, params: GenerationParams) -> str:
    return "".join(delta.text for delta in backend.stream(context, params, threading.Event()))


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
    assert pieces and all(isinstance(p, str) and p for p in pieces)  # non-empty text, as it came
    assert sum(p.tokens for p in pieces) <= stream.tokens and 1 <= stream.tokens <= 12
    assert not stream.cancelled
    assert stream.finish_reason == ("length" if stream.tokens == 12 else "stop")
    expected = _alone(backend, CONTEXT, GenerationParams(max_new_tokens=12, temperature=1.0, seed=4))
    assert "".join(p.text for p in pieces) == expected
    assert metrics.registry.get_sample_value("gameai_dialogue_tokens_total") == stream.tokens


async def test_cancel_ends_the_stream_early(long_backend: HuggingFaceBackend) -> None:
    worker = DialogueWorker("dialogue", long_backend)
    worker.start()
    stream = worker.submit(CONTEXT, GenerationParams(max_new_tokens=1000, temperature=1.0, seed=1))
    assert stream.finish_reason is None
    async for _ in stream:
        stream.cancel()
    await worker.stop()
    assert stream.cancelled and stream.tokens < 1000
    assert stream.finish_reason == "cancelled"


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
    assert stream.cancelled and stream.tokens < 1500 and stream.finish_reason == "cancelled"
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


# ---------------------------------------------------------------- batched generation


class _BatchSpy:
    """Wraps a backend's batches to record how many replies each step ran."""

    def __init__(self, backend: HuggingFaceBackend) -> None:
        self.backend = backend
        self.name, self.version = backend.name, backend.version
        self.widths: list[int] = []

    def stream(
        self, context: DialogueContext, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[TextDelta]:
        return self.backend.stream(context, params, cancel)

    def open_batch(self) -> DialogueBatch | None:
        batch = self.backend.open_batch()
        assert batch is not None
        spy = self

        class Recording:
            def add(self, context: DialogueContext, params: GenerationParams, cancel: threading.Event) -> int:
                return batch.add(context, params, cancel)

            def step(self) -> list[ReplyProgress]:
                spy.widths.append(len(batch))
                return batch.step()

            def __len__(self) -> int:
                return len(batch)

        return Recording()


async def test_concurrent_replies_are_batched_and_each_is_what_it_is_alone(
    backend: HuggingFaceBackend,
) -> None:
    spy = _BatchSpy(backend)
    metrics = ServiceMetrics()
    worker = DialogueWorker("dialogue", spy, max_batch=4, metrics=metrics)
    worker.start()
    params = [GenerationParams(max_new_tokens=10 + i, temperature=1.0, seed=i) for i in range(6)]
    streams = [worker.submit(CONTEXT, p) for p in params]
    texts = [[piece.text async for piece in stream] for stream in streams]
    await worker.stop()
    assert max(spy.widths) == 4  # never more than max_batch, and really batched
    for stream, pieces, p in zip(streams, texts, params, strict=True):
        assert "".join(pieces) == _alone(backend, CONTEXT, p)
        assert not stream.cancelled and 1 <= stream.tokens <= p.max_new_tokens
        assert stream.finish_reason == ("length" if stream.tokens == p.max_new_tokens else "stop")
    assert metrics.registry.get_sample_value("gameai_dialogue_tokens_total") == sum(s.tokens for s in streams)


async def test_batched_cancel_and_stop(long_backend: HuggingFaceBackend) -> None:
    worker = DialogueWorker("dialogue", long_backend, max_batch=8)
    worker.start()
    cancelled = worker.submit(CONTEXT, GenerationParams(max_new_tokens=1000, temperature=1.0, seed=2))
    running = worker.submit(
        CONTEXT, GenerationParams(max_new_tokens=1000, temperature=1.0, seed=1)
    )  # 308 alone
    async for _ in cancelled:
        cancelled.cancel()
    assert cancelled.cancelled and cancelled.tokens < 1000 and cancelled.finish_reason == "cancelled"
    pieces = 0
    async for _ in running:  # the other reply goes on
        pieces += 1
        if pieces == 5:
            break
    await worker.stop()
    async for _ in running:
        pieces += 1
    assert pieces >= 5 and running.cancelled and running.tokens < 300
    assert running.finish_reason == "cancelled"


async def test_a_failing_batch_fails_its_replies_and_the_worker_goes_on(
    backend: HuggingFaceBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    worker = DialogueWorker("dialogue", backend, max_batch=8)
    worker.start()
    original = HuggingFaceBatch.step
    failures = iter([RuntimeError("batch exploded")])

    def failing_step(self: HuggingFaceBatch) -> list[ReplyProgress]:
        error = next(failures, None)
        if error is not None:
            raise error
        return original(self)

    monkeypatch.setattr(HuggingFaceBatch, "step", failing_step)
    stream = worker.submit(CONTEXT, GenerationParams(max_new_tokens=8, seed=1))
    with pytest.raises(RuntimeError, match="batch exploded"):
        async for _ in stream:
            pass
    again = worker.submit(CONTEXT, GenerationParams(max_new_tokens=8, seed=1))
    pieces = [piece async for piece in again]
    await worker.stop()
    assert pieces and again.tokens >= 1
    assert stream.finish_reason is None and again.finish_reason in ("stop", "length")


async def test_a_backend_that_cannot_batch_streams_one_reply_at_a_time(backend: HuggingFaceBackend) -> None:
    class Unbatchable:
        name, version = backend.name, backend.version
        stream = backend.stream

        def open_batch(self) -> None:
            return None

    for candidate in (Unbatchable(), _Broken()):
        worker = DialogueWorker("dialogue", candidate, max_batch=8)  # type: ignore[arg-type]
        worker.start()
        stream = worker.submit(CONTEXT, GenerationParams(max_new_tokens=6, seed=2))
        try:
            pieces = [piece.text async for piece in stream]
        except RuntimeError as exc:
            assert candidate.name == "broken" and "exploded" in str(exc)
        else:
            assert "".join(pieces) == _alone(backend, CONTEXT, GenerationParams(max_new_tokens=6, seed=2))
        await worker.stop()


# ---------------------------------------------------------------- why a reply ended


@pytest.fixture(scope="module")
def short_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_dialogue_model(tmp_path_factory.mktemp("short"), "chat", n_positions=64)


async def _one_reply(
    backend: DialogueBackend, max_batch: int, context: DialogueContext, params: GenerationParams
) -> tuple[str, DialogueStream]:
    worker = DialogueWorker("dialogue", backend, max_batch=max_batch)
    worker.start()
    stream = worker.submit(context, params)
    text = "".join([piece.text async for piece in stream])
    await worker.stop()
    return text, stream


@pytest.mark.parametrize("max_batch", [1, 4])
async def test_a_reply_cut_by_the_prompts_room_ends_with_length(short_dir: Path, max_batch: int) -> None:
    backend = HuggingFaceBackend.load(short_dir)
    params = GenerationParams(max_new_tokens=48, temperature=0.0)
    text, stream = await _one_reply(backend, max_batch, LONG, params)
    assert text == _alone(backend, LONG, params)
    assert stream.tokens == 32 < stream.params.max_new_tokens
    assert stream.finish_reason == "length"


@pytest.mark.parametrize("max_batch", [1, 4])
async def test_the_end_token_ends_a_reply_with_stop(short_dir: Path, max_batch: int) -> None:
    backend = HuggingFaceBackend.load(short_dir)
    params = GenerationParams(max_new_tokens=12, temperature=0.0)
    with torch.no_grad():
        logits = backend.model(backend.encode(CONTEXT, params).input_ids).logits
    backend.eos_token_ids = [int(logits[0, -1].argmax())]  # the greedy reply's first token ends it
    _, stream = await _one_reply(backend, max_batch, CONTEXT, params)
    assert stream.tokens == 1
    assert stream.finish_reason == "stop" and not stream.cancelled


class _PlainText:
    """A backend that yields plain ``str`` and does not say why it ended."""

    name, version = "plain", "0"

    def stream(self, context: object, params: GenerationParams, cancel: object) -> Iterator[str]:
        yield from ["a", "b", "c"][: params.max_new_tokens]


@pytest.mark.parametrize(("max_new_tokens", "reason"), [(3, "length"), (8, "stop")])
async def test_a_backend_that_does_not_say_why_gets_it_from_its_token_count(
    max_new_tokens: int, reason: str
) -> None:
    text, stream = await _one_reply(_PlainText(), 1, CONTEXT, GenerationParams(max_new_tokens=max_new_tokens))
    assert text == "abc" and stream.tokens == 3
    assert stream.finish_reason == reason


def test_batch_size_and_threads_must_be_positive(backend: HuggingFaceBackend) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        DialogueWorker("dialogue", backend, max_batch=0)
