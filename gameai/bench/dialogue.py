"""``gameai bench dialogue``: time to first token and tokens/s, one reply at a time vs batched.

The timed object is :class:`gameai.runtime.dialogue.DialogueWorker`, what the server runs,
in-process on an event loop: replies are submitted as sessions' requests would be, and their
deltas come back to the loop. Workers on the same loaded model, side by side:

* ``sequential``: ``max_batch = 1``, one reply at a time through ``backend.stream``
  (``model.generate``), what the server does with ``--dialogue-max-batch 1``;
* ``batched``: up to ``max_batch`` replies together, one forward pass per token
  (:class:`~gameai.dialogue.hf_batch.HuggingFaceBatch`), the server's default;
* ``batched_transformers``, only for a model the lean forward pass
  (:mod:`gameai.dialogue.llama_forward`) runs: the same batches through the model's own
  ``forward`` (``--dialogue-forward transformers``); ``lean_over_transformers`` gives the ratios.

Each path is measured with one stream and with ``streams`` concurrent streams. A stream is a
client with one reply in flight that asks again as soon as its reply ends (closed loop), for
``seconds``; cards and player lines cycle and every reply has its own seed, the same for
every path, so all generate the same text (``same_replies`` checks every reply the paths
share). Per reply: time to first token (``ttft_ms``) is from ``submit`` to the first
delta on the loop (deltas are whole words, so it covers the first few tokens); tokens/s is its
tokens over submit-to-end, waiting in the queue included. ``aggregate_tokens_per_s`` is all
tokens over the measurement. Measurements alternate between the paths for ``rounds`` rounds;
each figure is the median over rounds. The goals are checked on the batched path.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import functools
import statistics
import time
from typing import Any

from gameai.runtime.config import RuntimeConfig

#: What the issue asks of dialogue on the 2-core CPU (the batched path is the one served).
GOALS: dict[str, tuple[str, float]] = {
    "ttft_ms_one_stream": ("<=", 50.0),
    "tokens_per_s_one_stream": (">=", 150.0),
    "aggregate_tokens_per_s_8_streams": (">=", 600.0),
}

#: Player lines: questions the cards answer, questions they do not, chit-chat, silence.
_LINES = (
    "Hello!",
    "How long does a match last?",
    "Where is the dragon's lair?",
    "What's my score?",
    "You are useless.",
    "How much health does a health pack give?",
    "",
    "Who are you?",
)
#: A card-sized game state (about 60 characters of sentences in the prompt).
_GAME_STATE = {"score": 120, "health": 70, "max_health": 100, "coins": 3, "time_left": 42}


@dataclasses.dataclass
class DialogueBenchConfig:
    """Options of ``gameai bench dialogue``."""

    model_dir: str = "assets/dialogue/model"
    """The dialogue model to time (a Hugging Face model directory)."""
    npcs: str = "assets/dialogue/npcs.toml"
    """The NPC cards the requests use (the demo's four, 6 facts each)."""
    streams: int = 8
    """Clients of the concurrent measurement (each has one reply in flight at a time)."""
    max_batch: int = RuntimeConfig.dialogue_max_batch
    """The batched path's most replies per forward pass (the server's default)."""
    max_new_tokens: int = 48
    """Most tokens per reply (the server's default)."""
    temperature: float = 0.5
    """Sampling temperature of every reply (the protocol's default)."""
    seed: int = 0
    """Seed of the first reply; turn ``t`` of client ``c`` uses ``seed + 1000 c + t``."""
    seconds: float = 2.0
    """Length of one measurement: each client asks again as soon as its reply ends, until then."""
    rounds: int = 3
    """Measurements of each path and each load, alternating; figures are medians over rounds."""
    device: str = "cpu"
    """Where the model runs: cpu, cuda, or auto (cuda when present)."""
    threads: int = 0
    """Torch CPU threads (0: the server's choice, one fewer than the cores, at least 1)."""


@functools.cache
def _cards(path: str) -> dict[str, Any]:
    """The NPC cards of ``path``, read once."""
    from gameai.dialogue.npc_card import load_npc_cards

    return load_npc_cards(path)


def _request(config: DialogueBenchConfig, stream: int, turn: int) -> tuple[Any, Any]:
    """The ``turn``-th request of client ``stream``: cards and lines cycle, every reply its own seed."""
    from gameai.dialogue.types import DialogueContext, GenerationParams

    cards = _cards(config.npcs)
    index = stream * 1000 + turn
    context = DialogueContext(
        npc_id=f"npc-{stream}",
        npc=list(cards.values())[(stream + turn) % len(cards)],
        player_line=_LINES[(3 * stream + turn) % len(_LINES)],
        events=("hurt",) if (stream + turn) % 3 == 0 else (),
        game_state=_GAME_STATE,
    )
    params = GenerationParams(
        max_new_tokens=config.max_new_tokens, temperature=config.temperature, seed=config.seed + index
    )
    return context, params


async def _closed_loop(
    worker: Any, config: DialogueBenchConfig, streams: int, seconds: float
) -> tuple[dict[str, Any], dict[tuple[int, int], str]]:
    """``streams`` clients, each asking again as soon as its reply ends, for ``seconds`` (at least once).

    Returns:
        The figures, and every reply's text by (client, turn).
    """
    started = time.perf_counter()
    finished: list[Any] = []
    texts: dict[tuple[int, int], str] = {}

    async def client(stream: int) -> None:
        turn = 0
        while turn == 0 or time.perf_counter() - started < seconds:
            reply = worker.submit(*_request(config, stream, turn))
            texts[stream, turn] = "".join([piece.text async for piece in reply])
            finished.append(reply)
            turn += 1

    await asyncio.gather(*(client(stream) for stream in range(streams)))
    elapsed = max(r.finished_at for r in finished) - started
    tokens = sum(r.tokens for r in finished)
    ttft = [1000.0 * (r.first_delta_at - r.submitted) for r in finished if r.first_delta_at is not None]
    rates = [r.tokens / (r.finished_at - r.submitted) for r in finished]
    figures = {
        "replies": len(finished),
        "tokens": tokens,
        "aggregate_tokens_per_s": tokens / elapsed,
        "per_stream_tokens_per_s_mean": statistics.fmean(rates),
        "per_stream_tokens_per_s_min": min(rates),
        "ttft_ms_p50": statistics.median(ttft) if ttft else None,
        "ttft_ms_p90": statistics.quantiles(ttft, n=10)[-1] if len(ttft) > 1 else None,
    }
    return figures, texts


def _median_figures(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"rounds": len(rounds)}
    for key in rounds[0]:
        values = [r[key] for r in rounds if r[key] is not None]
        if not values:
            out[key] = None
        elif key in ("replies", "tokens"):
            out[f"{key}_per_round"] = int(statistics.median(values))
        else:
            out[key] = round(statistics.median(values), 2)
    return out


async def _measure(backend: Any, config: DialogueBenchConfig) -> tuple[dict[str, Any], bool]:
    from gameai.runtime.dialogue import DialogueWorker

    workers = {
        "sequential": DialogueWorker("bench-sequential", backend, max_batch=1),
        "batched": DialogueWorker("bench-batched", backend, max_batch=config.max_batch),
    }
    if backend.forward_pass_name == "lean":  # the same batches through the model's own forward
        own_forward = copy.copy(backend)
        own_forward.lean_forward = False
        workers["batched_transformers"] = DialogueWorker(
            "bench-batched-transformers", own_forward, max_batch=config.max_batch
        )
    loads = {"one_stream": 1, "concurrent": config.streams}
    rounds: dict[str, dict[str, list[dict[str, Any]]]] = {
        path: {load: [] for load in loads} for path in workers
    }
    texts: dict[str, dict[tuple[int, int], str]] = {path: {} for path in workers}
    for worker in workers.values():
        worker.start()
    try:
        for worker in workers.values():  # warm-up: first calls allocate and pick kernels
            await _closed_loop(worker, config, 2, 0.0)  # one reply per client
        for _ in range(config.rounds):
            for load, streams in loads.items():
                for path, worker in workers.items():
                    figures, replies = await _closed_loop(worker, config, streams, config.seconds)
                    rounds[path][load].append(figures)
                    texts[path].update(replies)
    finally:
        for worker in workers.values():
            await worker.stop()
    results = {
        path: {
            load: _median_figures(measured) | {"streams": loads[load]} for load, measured in by_load.items()
        }
        for path, by_load in rounds.items()
    }
    shared = set.intersection(*(set(replies) for replies in texts.values()))
    same = all(len({replies[key] for replies in texts.values()}) == 1 for key in shared)
    return results, bool(shared) and same


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 2)


def _path_ratios(
    over: dict[str, Any], under: dict[str, Any], figures: dict[str, tuple[str, str]]
) -> dict[str, float | None]:
    """One path's figures over another's: each output name's (load, figure) of ``over`` / ``under``."""
    return {name: _ratio(over[load][key], under[load][key]) for name, (load, key) in figures.items()}


def _lean_over_transformers(results: dict[str, Any]) -> dict[str, float | None] | None:
    """The batched path's figures with the lean forward pass over those with transformers' own."""
    if "batched_transformers" not in results:
        return None
    return _path_ratios(
        results["batched"],
        results["batched_transformers"],
        {
            "aggregate_tokens_per_s_concurrent": ("concurrent", "aggregate_tokens_per_s"),
            "tokens_per_s_one_stream": ("one_stream", "aggregate_tokens_per_s"),
            "ttft_ms_p50_one_stream": ("one_stream", "ttft_ms_p50"),
        },
    )


def run_dialogue_benchmark(config: DialogueBenchConfig) -> dict[str, Any]:
    """Time every path (see the module docstring) and return the JSON report."""
    import torch

    from gameai.bench.machine import machine_info
    from gameai.dialogue.hf_backend import HuggingFaceBackend
    from gameai.dialogue.hf_batch import can_batch
    from gameai.paths import resolve_path
    from gameai.runtime.device import cpu_inference_threads, select_device

    if config.streams < 1 or config.max_batch < 1 or config.rounds < 1:
        raise ValueError("streams, max_batch and rounds must be >= 1")
    device = select_device(config.device)
    threads = config.threads or cpu_inference_threads()
    torch.set_num_threads(threads)
    backend = HuggingFaceBackend.load(resolve_path(config.model_dir), device)
    results, same = asyncio.run(_measure(backend, config))
    batched, sequential = results["batched"], results["sequential"]
    measured = {
        "ttft_ms_one_stream": batched["one_stream"]["ttft_ms_p50"],
        "tokens_per_s_one_stream": batched["one_stream"]["aggregate_tokens_per_s"],
        "aggregate_tokens_per_s_8_streams": (
            batched["concurrent"]["aggregate_tokens_per_s"] if config.streams == 8 else None
        ),
    }
    goals = {}
    for name, (direction, goal) in GOALS.items():
        value = measured[name]
        met = value is not None and (value <= goal if direction == "<=" else value >= goal)
        goals[name] = {"goal": f"{direction} {goal:g}", "measured": value, "met": met}
    return {
        "benchmark": "dialogue",
        "config": dataclasses.asdict(config),
        "model": {
            "directory": config.model_dir,
            "name": backend.name,
            "version": backend.version,
            "parameters": sum(p.numel() for p in backend.model.parameters()),
            "dtype": str(next(backend.model.parameters()).dtype).removeprefix("torch."),
            "prompt_style": backend.prompt_style,
            "can_batch": can_batch(backend.model),
            "forward_pass": backend.forward_pass_name,
        },
        "device": str(device),
        "torch_threads": threads,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "results": results,
        "batched_over_sequential": _path_ratios(
            batched,
            sequential,
            {
                "aggregate_tokens_per_s_concurrent": ("concurrent", "aggregate_tokens_per_s"),
                "per_stream_tokens_per_s_concurrent": ("concurrent", "per_stream_tokens_per_s_mean"),
                "ttft_ms_p50_concurrent": ("concurrent", "ttft_ms_p50"),
                "tokens_per_s_one_stream": ("one_stream", "aggregate_tokens_per_s"),
            },
        ),
        "lean_over_transformers": _lean_over_transformers(results),
        "same_replies": same,
        "goals": goals,
        "machine": machine_info(),
    }
