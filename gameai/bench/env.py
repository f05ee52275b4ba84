"""``gameai bench env``: how fast the arena envs step.

Measures, on one pinned core: one env (vector observations) through ``gymnasium.make``,
the natively vectorised env at several N (agent-steps/s = N x env steps/s), the same N
through gymnasium's ``SyncVectorEnv`` over single envs for comparison, and pixel
observations (frames/s). Every figure is taken in the same process, one after the
other, with actions drawn in advance.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from gameai.bench.machine import machine_info, pin_to_one_core

#: Goals of issue 2 on the 2-core reference machine.
GOALS = {
    "vector_env_1024_agent_steps_per_s": 1_000_000,
    "single_env_steps_per_s": 20_000,
    "pixels_84_frames_per_s": 3_000,
}


@dataclasses.dataclass
class EnvBenchConfig:
    """Options of ``gameai bench env``."""

    seconds: float = 2.0
    """Time spent measuring each figure (after a warm-up), seconds."""
    vector_sizes: tuple[int, ...] = (1, 64, 1024)
    """Arena counts N of the vectorised env."""
    sync_size: int = 64
    """N of the gymnasium SyncVectorEnv comparison (0 skips it)."""
    pixel_vector_size: int = 64
    """N of the vectorised pixel env (0 skips it)."""
    seed: int = 0
    """Seed of the envs and of the random actions."""
    pin: bool = True
    """Pin the process to one CPU core."""


def _rate(step: Callable[[int], None], seconds: float, warmup: int = 20) -> float:
    """Return calls per second of ``step(k)`` over about ``seconds``."""
    for k in range(warmup):
        step(k)
    calls = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(32):
            step(calls)
            calls += 1
        now = time.perf_counter()
        if now >= deadline:
            return calls / (now - start)


def _single_env_rate(env_id: str, seconds: float, seed: int) -> float:
    import gymnasium as gym

    from demo_game.sim.actions import ACTION_NVEC

    env = gym.make(env_id)
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, ACTION_NVEC, size=(4096, 3))

    def step(k: int) -> None:
        _, _, terminated, truncated, _ = env.step(actions[k % 4096])
        if terminated or truncated:
            env.reset()

    rate = _rate(step, seconds)
    env.close()
    return rate


def _vector_env_rate(env_id: str, num_envs: int, seconds: float, seed: int, mode: str) -> float:
    """Return env steps per second (multiply by num_envs for agent-steps)."""
    import gymnasium as gym
    from gymnasium.vector import AutoresetMode

    from demo_game.sim.actions import ACTION_NVEC

    kwargs: dict[str, Any] = {}
    if mode == "sync":
        kwargs["vector_kwargs"] = {"autoreset_mode": AutoresetMode.SAME_STEP}
    env = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=mode, **kwargs)
    env.reset(seed=seed)
    actions = np.random.default_rng(seed).integers(0, ACTION_NVEC, size=(16, num_envs, 3))

    def step(k: int) -> None:
        env.step(actions[k % 16])

    rate = _rate(step, seconds)
    env.close()
    return rate


def run_env_benchmark(config: EnvBenchConfig) -> dict[str, Any]:
    """Measure the arena envs and return the figures as a JSON-ready dict."""
    import envs  # noqa: F401  (registers the ids)
    from envs.matches import ArenaEnvConfig

    pinned = pin_to_one_core() if config.pin else None
    action_repeat = ArenaEnvConfig().action_repeat
    results: dict[str, Any] = {}

    single = _single_env_rate("gameai/Arena-v0", config.seconds, config.seed)
    results["single_env"] = {"steps_per_s": single, "sim_ticks_per_s": single * action_repeat}

    vector: dict[str, Any] = {}
    for n in config.vector_sizes:
        steps = _vector_env_rate("gameai/Arena-v0", n, config.seconds, config.seed, "vector_entry_point")
        vector[str(n)] = {
            "env_steps_per_s": steps,
            "agent_steps_per_s": steps * n,
            "sim_ticks_per_s": steps * n * action_repeat,
            "ratio_to_single_env": steps * n / single,
        }
    results["vector_env"] = vector

    if config.sync_size > 0:
        n = config.sync_size
        steps = _vector_env_rate("gameai/Arena-v0", n, config.seconds, config.seed, "sync")
        native = vector.get(str(n), {}).get("agent_steps_per_s")
        results["gymnasium_sync_vector_env"] = {
            "num_envs": n,
            "agent_steps_per_s": steps * n,
            "native_over_sync": (native / (steps * n)) if native else None,
        }

    pixels: dict[str, Any] = {"frame_size": 84}
    pixels["single_env_frames_per_s"] = _single_env_rate("gameai/ArenaPixels-v0", config.seconds, config.seed)
    if config.pixel_vector_size > 0:
        n = config.pixel_vector_size
        steps = _vector_env_rate(
            "gameai/ArenaPixels-v0", n, config.seconds, config.seed, "vector_entry_point"
        )
        pixels[f"vector_env_{n}_frames_per_s"] = steps * n
    results["pixels"] = pixels

    largest = str(max(config.vector_sizes))
    measured = {
        "vector_env_1024_agent_steps_per_s": vector.get("1024", {}).get("agent_steps_per_s"),
        "single_env_steps_per_s": single,
        "pixels_84_frames_per_s": max(v for k, v in pixels.items() if k.endswith("frames_per_s")),
    }
    goals = {
        name: {
            "goal": goal,
            "measured": measured[name],
            "met": measured[name] is not None and measured[name] >= goal,
        }
        for name, goal in GOALS.items()
    }
    return {
        "benchmark": "env",
        "config": dataclasses.asdict(config),
        "action_repeat": action_repeat,
        "pinned_cpu": pinned,
        "machine": machine_info(),
        "results": results,
        "ratio_vectorised_over_single": vector[largest]["ratio_to_single_env"],
        "goals": goals,
    }
