"""Structured logs carry the session id; every metric is named gameai_<thing>_<unit>."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re

from gameai.observability.logs import JsonFormatter, SessionIdFilter, session_id_var
from gameai.observability.metrics import ServiceMetrics


def _logger(stream: io.StringIO) -> logging.Logger:
    handler = logging.StreamHandler(stream)
    handler.addFilter(SessionIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("gameai.test.observability")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger


def test_json_lines_carry_the_session_of_the_task_and_extra_fields() -> None:
    stream = io.StringIO()
    logger = _logger(stream)

    async def session(session_id: str) -> None:
        session_id_var.set(session_id)
        await asyncio.sleep(0)
        logger.info("hello from %s", session_id, extra={"game_id": "arena"})

    async def main() -> None:
        await asyncio.gather(session("s-1"), session("s-2"))

    asyncio.run(main())
    logger.warning("outside any session")
    try:
        raise ValueError("boom")
    except ValueError:
        logger.error("failed", exc_info=True, extra={"session_id": "s-9"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["session_id"], line["message"]) for line in lines[:2]] == [
        ("s-1", "hello from s-1"),
        ("s-2", "hello from s-2"),
    ]
    assert lines[0]["game_id"] == "arena" and lines[0]["level"] == "INFO"
    assert lines[2]["session_id"] == "-"
    assert lines[3]["session_id"] == "s-9" and "ValueError: boom" in lines[3]["exception"]


def test_metric_names_follow_the_convention() -> None:
    metrics = ServiceMetrics()
    metrics.sessions_active.inc()
    metrics.model_latency_seconds.labels("behaviour").observe(0.003)
    text = metrics.render().decode()
    names = set(re.findall(r"^# TYPE (\S+)", text, flags=re.MULTILINE))
    assert names and all(name.startswith("gameai_") for name in names)
    assert "gameai_model_latency_seconds" in names and "gameai_sessions_active" in names
    assert 'gameai_model_latency_seconds_count{model="behaviour"} 1.0' in text


def test_two_servers_keep_separate_registries() -> None:
    first, second = ServiceMetrics(), ServiceMetrics()
    first.sessions_active.inc()
    assert second.registry.get_sample_value("gameai_sessions_active") == 0
