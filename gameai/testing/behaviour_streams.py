"""Streaming frames to a session's behaviour model in lockstep, for tests of served labels."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import numpy as np

from gameai.client.async_client import GameAIClient
from gameai.client.frames import downscale_frame
from gameai.protocol.messages import BehaviourResult, Message


async def stream_in_lockstep(
    client: GameAIClient, frames: Iterable[np.ndarray], timeout_s: float = 20.0
) -> list[BehaviourResult]:
    """Send ``frames`` in the client's session and return its behaviour results, one per frame
    from the K-th on.

    Each frame is downscaled to the size the session's model asks for, as a client does. Once a
    window is full, the next frame waits for the result of the last, so the server sees every
    frame however busy the machine is; the first K frames go out at once, so the server's
    ``frame_queue`` must hold K of them (``ServerConfig(frame_queue=64)``). Takes over the
    client's ``on_message``.

    Raises:
        TimeoutError: If a result does not come within ``timeout_s``.
    """
    spec = client.welcome.behaviour
    if spec is None:
        raise ValueError("the session has no behaviour model")
    results: list[BehaviourResult] = []

    def keep(message: Message) -> None:
        if isinstance(message, BehaviourResult):
            results.append(message)

    client.on_message = keep
    for seq, frame in enumerate(frames):
        await client.send_frame(downscale_frame(frame, (spec.width, spec.height)), seq=seq)
        if seq + 1 >= spec.frames_per_window:
            async with asyncio.timeout(timeout_s):
                while not results or results[-1].seq != seq:
                    await asyncio.sleep(0.005)
    return results
