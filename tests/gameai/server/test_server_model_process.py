"""A session goes on, with a typed error for the frames in flight, when the model process dies or freezes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path

from gameai.client.async_client import ClientConfig, GameAIClient
from gameai.protocol.messages import BehaviourResult
from gameai.server.config import ServerConfig
from gameai.services.behaviour import BehaviourService
from gameai.testing.servers import running_server, runtime_config_for
from gameai.testing.tiny_models import random_frames


async def test_the_session_goes_on_when_the_model_process_dies(
    assets: Path, tiny_keypoints_model: Path
) -> None:
    runtime = runtime_config_for(
        assets, behaviour_model=str(tiny_keypoints_model), dialogue_model="", agents_dir=""
    )
    results: list[BehaviourResult] = []
    frames = random_frames(40, 11)
    async with running_server(ServerConfig(port=0, max_fps=1000.0), runtime) as server:
        service = server.services.get(BehaviourService).model
        assert service is not None and service.process is not None
        client = await GameAIClient.connect(
            ClientConfig(url=server.url, game_id="test", services=("behaviour",), behaviour_every=1)
        )
        client.on_message = lambda m: results.append(m) if isinstance(m, BehaviourResult) else None
        for seq in range(20):
            await client.send_frame(frames[seq], seq=seq)
            await asyncio.sleep(0.02)
        pid = service.process.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        before = len(results)
        for seq in range(20, 40):
            await client.send_frame(frames[seq], seq=seq)
            await asyncio.sleep(0.05)
        async with asyncio.timeout(20):
            while not results or results[-1].seq != 39:
                await asyncio.sleep(0.02)
        assert not client.closed.done()
        exits = server.metrics.registry.get_sample_value(
            "gameai_model_process_exits_total", {"model": "behaviour"}
        )
        assert exits == 1.0
        errors = list(client.errors)
        await client.close()
    assert before >= 10
    assert service.process is None or service.process.pid != pid
    assert all(error.code == "internal_error" for error in errors)  # at most the frames in flight
    # Every frame sent after the kill is answered, refused with that error, or reported dropped
    # (the session's queue drops the oldest while a new child starts). The windows in the model
    # when it died (at most frames_in_flight, 2) fail together, and errors about frames repeat at
    # most once per second per code (docs/protocol.md): a window failing with the one just
    # refused may go unsaid. A frame sent just before the kill may be the one in flight.
    in_flight = ServerConfig().frames_in_flight
    accounted = {r.seq for r in results}
    for result in results:  # the oldest are dropped: the frames just before the result
        accounted.update(range(result.seq - result.dropped_frames, result.seq))
    refused = sorted(e.seq for e in errors if e.seq is not None)
    accounted.update(refused)
    missing = sorted(set(range(20, 40)) - accounted)
    assert all(any(seq - in_flight <= r < seq for r in refused) for seq in missing), (missing, refused)
    assert len(missing) < in_flight
    after = [r for r in results if r.seq >= 20]
    errors_after = [e for e in errors if e.seq is None or e.seq >= 20]
    assert len(after) + len(errors_after) + sum(r.dropped_frames for r in after) + len(missing) == 20


async def test_a_frozen_model_process_is_noticed_restarted_and_the_session_goes_on(
    assets: Path, tiny_keypoints_model: Path
) -> None:
    runtime = runtime_config_for(
        assets,
        behaviour_model=str(tiny_keypoints_model),
        dialogue_model="",
        agents_dir="",
        model_deadline_s=1.0,
    )
    results: list[BehaviourResult] = []
    frames = random_frames(120, 12)
    async with running_server(ServerConfig(port=0, max_fps=1000.0), runtime) as server:
        service = server.services.get(BehaviourService)
        assert service.model is not None and service.model.process is not None
        client = await GameAIClient.connect(
            ClientConfig(url=server.url, game_id="test", services=("behaviour",), behaviour_every=1)
        )
        client.on_message = lambda m: results.append(m) if isinstance(m, BehaviourResult) else None
        for seq in range(15):
            await client.send_frame(frames[seq], seq=seq)
            await asyncio.sleep(0.03)
        frozen = service.model.process.pid
        assert frozen is not None
        os.kill(frozen, signal.SIGSTOP)
        stopped_at = asyncio.get_running_loop().time()
        statuses: set[str] = set()
        try:
            for seq in range(15, 120):
                await client.send_frame(frames[seq], seq=seq)
                statuses.add(service.models()["behaviour"].status)
                await asyncio.sleep(0.04)
                if results and results[-1].seq >= 100:
                    break
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(frozen, signal.SIGKILL)
        errors = [error for error in client.errors if error.code == "internal_error"]
        assert errors and "no answer within 1 s" in errors[0].message  # answered, not left hanging
        assert "unavailable" in statuses  # /healthz said degraded meanwhile
        assert service.model.process.pid not in (None, frozen)  # a fresh child took over
        assert results[-1].seq >= 60 and not client.closed.done()  # and the session went on
        assert asyncio.get_running_loop().time() - stopped_at < 20
        assert service.models()["behaviour"].status == "ready"
        await client.close()
