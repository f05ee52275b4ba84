"""Prometheus metrics of the service, all named ``gameai_<thing>_<unit>``.

One :class:`ServiceMetrics` per server, on its own ``CollectorRegistry`` (so several
servers can live in one process, as in the tests). ``/metrics`` renders it with
:meth:`ServiceMetrics.render`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

#: Latency buckets in seconds: 0.5 ms .. 10 s.
LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0)
#: Batch-size buckets.
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class ServiceMetrics:
    """Every metric the server and the runtime record.

    Args:
        registry: Where to register them (a fresh registry by default).
    """

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.sessions_active = Gauge("gameai_sessions_active", "Sessions currently open.", registry=r)
        self.connections_total = Counter(
            "gameai_connections_total",
            "Connections by outcome (accepted or refused).",
            ["outcome"],
            registry=r,
        )
        self.closes_total = Counter(
            "gameai_closes_total", "Closed sessions by websocket close code.", ["code"], registry=r
        )
        self.messages_received_total = Counter(
            "gameai_messages_received_total",
            "Messages received by kind (text, binary).",
            ["kind"],
            registry=r,
        )
        self.received_bytes_total = Counter(
            "gameai_received_bytes_total", "Bytes of messages received.", registry=r
        )
        self.frames_dropped_total = Counter(
            "gameai_frames_dropped_total",
            "Frames dropped by reason (queue: session queue full; rate: over max_fps; "
            "recording: not recorded, the recording's writer was behind).",
            ["reason"],
            registry=r,
        )
        self.errors_total = Counter(
            "gameai_errors_total", "Error messages sent, by code.", ["code"], registry=r
        )
        self.request_latency_seconds = Histogram(
            "gameai_request_latency_seconds",
            "Server-side latency from receiving a request or frame to sending its answer, by service.",
            ["service"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.model_latency_seconds = Histogram(
            "gameai_model_latency_seconds",
            "Per-request model latency (queue wait + batched inference), by model.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.model_batch_size = Histogram(
            "gameai_model_batch_size",
            "Requests per inference batch, by model.",
            ["model"],
            buckets=BATCH_BUCKETS,
            registry=r,
        )
        self.model_queue_depth = Gauge(
            "gameai_model_queue_depth", "Requests waiting for a model, by model.", ["model"], registry=r
        )
        self.model_errors_total = Counter(
            "gameai_model_errors_total",
            "Requests a model failed on (an exception, or an output such as non-finite numbers).",
            ["model"],
            registry=r,
        )
        self.model_process_exits_total = Counter(
            "gameai_model_process_exits_total",
            "Times a model's child process exited unasked (the next batch starts another), by model.",
            ["model"],
            registry=r,
        )
        self.cpu_seconds_total = Counter(
            "gameai_cpu_seconds_total",
            "CPU time of the server's event-loop thread spent in one part of the work, by part "
            "(frames: frame handling on the loop; model:agent/<name>: an agent run on the loop).",
            ["part"],
            registry=r,
        )
        self.model_up = Gauge(
            "gameai_model_up", "1 when the model is loaded and serving, else 0.", ["model"], registry=r
        )
        self.gc_pause_seconds = Histogram(
            "gameai_gc_pause_seconds",
            "Pauses of the server process for Python's garbage collector, by generation "
            "(the objects loaded at start-up are left out of collections: gameai.runtime.heap).",
            ["generation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.dialogue_tokens_total = Counter(
            "gameai_dialogue_tokens_total", "Tokens generated for dialogue replies.", registry=r
        )
        self.dialogue_tokens_per_second = Histogram(
            "gameai_dialogue_tokens_per_second",
            "Generation speed of each finished reply.",
            buckets=(1, 5, 10, 20, 50, 100, 200, 500, 1000),
            registry=r,
        )

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.registry)
