"""Options of ``gameai bench capacity`` (shared by the benchmark and its client processes)."""

from __future__ import annotations

import dataclasses

from gameai.event_loops import EventLoopName


@dataclasses.dataclass
class CapacityBenchConfig:
    """Options of ``gameai bench capacity``."""

    sessions: tuple[int, ...] = (10, 25, 50, 75, 100, 125, 150)
    """Ramp steps: live sessions at once; the ramp stops at the first step that does not hold."""
    warmup_s: float = 5.0
    """Seconds each step runs before its measuring window."""
    seconds: float = 20.0
    """Length of each step's measuring window, seconds."""
    client_processes: int = 2
    """OS processes the sessions are spread over (each an asyncio loop)."""
    npcs: int = 2
    """NPC agents per session, each asking for an action ``act_hz`` times a second."""
    act_hz: float = 15.0
    """Actions asked per second of each NPC."""
    act_batch: bool = True
    """A session's NPCs ask together in one ``act.batch`` per tick, as the demo games do (False:
    one ``act`` each, their ticks spread over the period)."""
    behaviour_every: int = 1
    """A behaviour result every this many frames (frames go at the model's sample_fps)."""
    dialogue_every_s: float = 10.0
    """Seconds between a session's dialogue requests (staggered across sessions)."""
    dialogue_tokens: int = 24
    """max_new_tokens of each dialogue request."""
    events_every_s: float = 1.0
    """Seconds between a session's ``events`` messages."""
    match_every_s: float = 60.0
    """Seconds between a session's match results."""
    slo_action_p99_ms: float = 50.0
    """A step holds only if the p99 of act -> action is at most this, ms."""
    slo_behaviour_p99_ms: float = 500.0
    """A step holds only if the p99 of frame -> its behaviour result is at most this, ms."""
    slo_dialogue_first_token_p99_ms: float = 2000.0
    """A step holds only if the p99 of dialogue request -> first delta is at most this, ms."""
    assets_dir: str = "assets"
    """The served models: behaviour/, dialogue/model/, agents/ (the shipped ones by default)."""
    model_batches: tuple[int, ...] = (1, 8)
    """Batch sizes of the in-process agent and behaviour timings; the largest makes the total."""
    model_seconds: float = 1.0
    """Time of each in-process agent and behaviour timing, seconds."""
    model_replies: int = 12
    """Dialogue replies timed in-process (after one warm-up reply), each a different session's
    context (3 gave 2 tokens a reply where the ramp's replies averaged 4.9)."""
    event_loop: EventLoopName = "auto"
    """The event loop of the server and of the clients: auto, uvloop or asyncio."""
