"""Configuration of the model runtime (no heavy imports: the CLI builds options from it).

Relative model paths are resolved by :func:`gameai.paths.resolve_path`: from the current
directory when they exist there, else from the project root where ``assets/`` ships.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class RuntimeConfig:
    """Which models to serve, where, and how to batch them."""

    models_dir: str = "assets"
    """Models directory: one entry per game (its behaviour model, agents and NPC cards; layout and
    games.toml: gameai/services/game_models.py, docs/protocol.md). A session gets the models of its
    hello.game_id, or the default set; empty: none but the options' below."""
    behaviour_model: str | None = None
    """Behaviour model directory (model.safetensors + config.json) of the default set; empty to
    disable; unset: the default game's of models_dir."""
    dialogue_model: str = "assets/dialogue/model"
    """Hugging Face causal LM directory for dialogue; empty to disable."""
    npcs: str | None = None
    """NPC card file (TOML or JSON: see gameai/dialogue/npc_card.py) of the default set, whose card
    ids a dialogue.request may name as its npc_id or persona (welcome.npcs); empty: none; unset:
    the default game's of models_dir. A card file that is missing or invalid stops the start."""
    agents_dir: str | None = None
    """Directory of agents of the default set, one sub-directory each (actor.safetensors +
    actor.json); empty to disable; unset: the default game's of models_dir."""
    default_agent: str = ""
    """The agent an ``act`` without ``agent`` gets in the default set (empty: the first by name)."""
    device: str = "auto"
    """Where models run: auto (cuda when present, else cpu), cpu, cuda or cuda:N."""
    torch_threads: int = 0
    """Torch inference threads; 0: on CPU, one fewer than the cores (the event loop keeps one), at least 1."""
    behaviour_process: bool = True
    """Run the behaviour model in a child process, so inference never waits for the server's GIL
    (POSIX only; False, or elsewhere: on a thread of the server's process)."""
    behaviour_max_batch: int = 32
    """Most frame windows per behaviour inference batch."""
    behaviour_max_wait_ms: float = 20.0
    """How long a frame window may wait for others to join its batch, in milliseconds. 20 (was
    4): larger batches cost much less per window (the arena model alone: 1.29 ms per window at
    batch 1, 0.66 at 8; and one hand-off to the child process per batch); at 50 demo-like
    sessions on two cores the behaviour process's CPU fell from 10 to 5.6 ms per session-second
    and act p99 from 31-69 to 9 ms (docs/operations.md), for at most 16 ms more before a result
    at light load (a session's frames come every 200 ms)."""
    behaviour_head_precision: str = "auto"
    """Number type of the behaviour model's heads on the CPU: float32, bfloat16 (half the
    memory each batch reads; the arena model's windows cost 15-20% less CPU at batch 8 on an
    AVX-512 BF16 machine, the served probabilities within 0.01 of float32's:
    docs/behaviour.md, *Speed*), or auto: bfloat16 where the CPU has bfloat16 instructions
    (AVX-512 BF16 or AMX), else float32. Always float32 on cuda."""
    behaviour_smoothing_s: float = 6.0
    """Half-life of the smoothing of each session's behaviour results, seconds of play (0: none)."""
    behaviour_switch_margin: float = 0.1
    """A session's behaviour label changes only when another class's smoothed probability leads by this."""
    behaviour_bot_like_min_probability: float = 0.0
    """The label ``bot_like`` is sent only while its smoothed probability is at least this; below
    it, the next most likely label is (0: like any other label). A game may act against a player
    it calls a bot: the precision and recall of the shipped model's ``bot_like`` at each minimum
    are in ``docs/behaviour.md``."""
    behaviour_bot_like_min_precision: float | None = None
    """Hold ``bot_like``, in each period of a session (its first 5 s, to 10, 20, 30 s, after), to
    the smallest minimum probability at which the model's calibration players (``gameai train
    behaviour calibrate``, in its ``config.json``) had at least this ``bot_like`` precision with
    95% confidence; with ``behaviour_bot_like_min_probability`` too, the higher of the two (the
    shipped model's schedule and figures: ``docs/behaviour.md``). Unset (the default):
    0.97 where the model's calibration reaches it, else the label is sent like any other and
    the log says why. 0: off. Set, a model without a calibration that reaches it is an error at
    startup."""
    agent_max_batch: int = 64
    """Most observations per agent inference batch."""
    agent_max_wait_ms: float = 2.0
    """How long an observation may wait for others to join its batch, in milliseconds (worker agents)."""
    agent_inline_max_params: int = 200_000
    """Agents with at most this many weights run in numpy on the event loop, batched per turn of the
    loop (no thread hand-off); larger ones, and every agent on cuda, run with torch on a worker thread.
    0: every agent on a worker."""
    model_deadline_s: float = 5.0
    """A batch of the behaviour model or an agent still running after this long fails its requests
    (internal_error), the model is reported unavailable meanwhile, and a behaviour model process
    is killed so that the next batch starts a fresh one (0: no deadline)."""
    model_max_queue: int = 2048
    """Requests waiting per batched model before new ones are refused with 'overloaded'."""
    dialogue_concurrency: int = 1
    """Threads generating dialogue replies (each runs a batch, or one reply at a time)."""
    dialogue_max_batch: int = 16
    """Most dialogue replies one thread generates together, one forward pass per token (1: no batching)."""
    dialogue_forward: Literal["auto", "transformers"] = "auto"
    """How a batch runs the dialogue model: auto (plain Llama models, the shipped one included,
    through gameai's lean forward pass: the same logits for about 40% less CPU per reply; any
    other model through its own forward) or transformers (always the model's own forward).
    docs/dialogue.md, *Speed*."""
    dialogue_max_queue: int = 32
    """Replies waiting before new ones are refused with 'overloaded'."""
    record_dir: str = ""
    """Record the behaviour frames and labels of the sessions whose hello.record asks for it, with
    the player's consent, into one dataset per game under this directory (DIR/<game_id>/: see
    docs/behaviour.md, Privacy; gameai recordings delete --player ID removes a player's); empty
    (the default): no session is ever recorded."""
