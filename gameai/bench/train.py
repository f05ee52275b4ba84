"""``gameai bench train``: how fast PPO trains the arena agent.

Measured in one process, one after the other, with the same PPO settings and torch threads:

1. PPO steps/s (``learn`` as a whole, and the rollout collection alone) on the natively
   vectorised arena (``ArenaVectorEnv`` through ``ArenaSB3VecEnv``) and on gymnasium's
   ``SyncVectorEnv`` of the same number of single ``gameai/Arena-v0`` envs (SAME_STEP
   autoreset, through the same adapter); also SB3's own ``DummyVecEnv`` of single envs. Each
   kind is timed ``repeats`` times, the kinds interleaved, and the best time is kept (the
   machine may be shared; the best run is the one least disturbed).
2. Time to reach a fixed win rate against the reference opponent: PPO from scratch on the
   native vector env at full strength, evaluated every ``eval_every`` steps (the served
   actor, ``eval_matches`` matches at d = 1) until the win rate reaches ``target_win_rate``.
3. The pixel agent (``ArenaPixels-v0``, :class:`~gameai.training.agents.features.ArenaCNN`): PPO
   steps/s on the CPU and, when one is present, on CUDA.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any


@dataclasses.dataclass
class TrainBenchConfig:
    """Options of ``gameai bench train``."""

    num_envs: tuple[int, ...] = (64, 256)
    """Arenas per vector env, N (the same N for every env kind)."""
    repeats: int = 2
    """Timings per env kind and N (interleaved); the best is reported."""
    n_steps: int = 64
    """PPO steps per arena per rollout."""
    batch_size: int = 1024
    """PPO minibatch."""
    n_epochs: int = 10
    """PPO epochs per rollout."""
    measure_steps: int = 131_072
    """Env steps timed per env kind (after one warm-up rollout)."""
    goal_reference: str = "aggressive@0.2"
    """The reference opponent of the time-to-goal measurement, ``style@skill`` (as ``gameai eval agent``)."""
    target_win_rate: float = 0.5
    """Win rate against the reference to reach (0 skips the measurement)."""
    eval_every: int = 131_072
    """Env steps between two evaluations while racing to the goal."""
    eval_matches: int = 100
    """Matches per evaluation."""
    max_goal_steps: int = 4_000_000
    """Give up the race after this many env steps."""
    pixel_steps: int = 4096
    """Env steps timed for the pixel agent per device (0 skips it)."""
    pixel_num_envs: int = 16
    """Arenas of the pixel agent's vector env."""
    threads: int = 1
    """Torch CPU threads."""
    seed: int = 0
    """Seed of the envs and the networks."""


def _ppo(venv: Any, config: TrainBenchConfig, policy: str = "MlpPolicy", **kwargs: Any) -> Any:
    from stable_baselines3 import PPO

    return PPO(
        policy,
        venv,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        ent_coef=0.01,
        seed=config.seed,
        verbose=0,
        **kwargs,
    )


def _measure(
    make_venv: Any, config: TrainBenchConfig, policy: str = "MlpPolicy", **kwargs: Any
) -> dict[str, Any]:
    """PPO steps/s on one env kind: a warm-up rollout, then ``measure_steps`` timed."""
    from stable_baselines3.common.vec_env import VecMonitor

    from gameai.training.agents.callbacks import RolloutTimerCallback

    venv = VecMonitor(make_venv())
    model = _ppo(venv, config, policy, **kwargs)
    rollout = model.n_steps * venv.num_envs
    model.learn(rollout)  # warm-up: compilation, allocations
    timer = RolloutTimerCallback()
    start = time.perf_counter()
    model.learn(config.measure_steps, callback=timer, reset_num_timesteps=False)
    seconds = time.perf_counter() - start
    steps = model.num_timesteps - rollout
    venv.close()
    return {
        "steps": int(steps),
        "seconds": round(seconds, 2),
        "ppo_steps_per_s": round(steps / seconds, 1),
        "rollout_steps_per_s": round(steps / timer.seconds, 1),
        "update_seconds": round(seconds - timer.seconds, 2),
    }


def _speed(config: TrainBenchConfig, n: int) -> dict[str, Any]:
    from gymnasium.vector import AutoresetMode, SyncVectorEnv
    from stable_baselines3.common.vec_env import DummyVecEnv

    from envs.arena_env import ArenaEnv
    from envs.sb3 import ArenaSB3VecEnv
    from envs.vector_env import ArenaVectorEnv

    kinds: dict[str, Any] = {
        "native_vector_env": lambda: ArenaSB3VecEnv(ArenaVectorEnv(n)),
        "gymnasium_sync_vector_env": lambda: ArenaSB3VecEnv(
            SyncVectorEnv([ArenaEnv for _ in range(n)], autoreset_mode=AutoresetMode.SAME_STEP)  # type: ignore[arg-type]
        ),
        "sb3_dummy_vec_env": lambda: DummyVecEnv([ArenaEnv for _ in range(n)]),
    }
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    for _ in range(config.repeats):
        for kind, make in kinds.items():
            runs[kind].append(_measure(make, config, device="cpu"))
    best = {kind: max(results, key=lambda r: r["ppo_steps_per_s"]) for kind, results in runs.items()}
    fastest_rollout = {kind: max(r["rollout_steps_per_s"] for r in results) for kind, results in runs.items()}
    native, sync = "native_vector_env", "gymnasium_sync_vector_env"
    return {
        **best,
        "native_over_sync_ppo": round(best[native]["ppo_steps_per_s"] / best[sync]["ppo_steps_per_s"], 2),
        "native_over_sync_rollout": round(fastest_rollout[native] / fastest_rollout[sync], 2),
    }


def _time_to_goal(config: TrainBenchConfig) -> dict[str, Any]:
    from stable_baselines3.common.vec_env import VecMonitor

    from envs.sb3 import ArenaSB3VecEnv
    from envs.vector_env import ArenaVectorEnv
    from gameai.training.agents.arena import ArenaEvalCallback, arena_actor_spec
    from gameai.training.agents.export import actor_from_policy
    from gameai.training.agents.matches import Opponent

    venv = VecMonitor(ArenaSB3VecEnv(ArenaVectorEnv(config.num_envs[0])))
    venv.seed(config.seed)
    model = _ppo(venv, config, device="cpu")
    reference = Opponent.parse(config.goal_reference)
    evaluation = ArenaEvalCallback(
        lambda: actor_from_policy(model.policy, arena_actor_spec()),
        reference,
        (1.0,),
        config.eval_matches,
        config.eval_every,
        on_result=lambda record: record["win_rate"][1.0] < config.target_win_rate,
    )
    start = time.perf_counter()
    model.learn(config.max_goal_steps, callback=evaluation)
    seconds = time.perf_counter() - start
    reached = [r for r in evaluation.history if r["win_rate"][1.0] >= config.target_win_rate]
    venv.close()
    return {
        "reference": reference.name,
        "target_win_rate": config.target_win_rate,
        "reached": bool(reached),
        "steps_to_goal": reached[0]["timesteps"] if reached else None,
        "seconds_to_goal": round(reached[0]["train_seconds"], 1) if reached else None,
        "seconds_total": round(seconds, 1),
        "curve": [(r["timesteps"], round(r["win_rate"][1.0], 3)) for r in evaluation.history],
    }


def _pixels(config: TrainBenchConfig) -> dict[str, Any]:
    import torch

    from envs.sb3 import ArenaSB3VecEnv
    from envs.vector_env import ArenaVectorEnv
    from gameai.training.agents.features import ArenaCNN

    small = dataclasses.replace(
        config, measure_steps=config.pixel_steps, n_steps=64, batch_size=256, n_epochs=4
    )
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    results: dict[str, Any] = {"num_envs": config.pixel_num_envs, "frame_stack": 2}
    for device in devices:
        results[device] = _measure(
            lambda: ArenaSB3VecEnv(ArenaVectorEnv(config.pixel_num_envs, obs_type="pixels", frame_stack=2)),
            small,
            "CnnPolicy",
            device=device,
            policy_kwargs={"features_extractor_class": ArenaCNN},
        )
    if "cuda" in results:
        results["cuda_over_cpu"] = round(
            results["cuda"]["ppo_steps_per_s"] / results["cpu"]["ppo_steps_per_s"], 2
        )
    else:
        results["cuda"] = "not available on this machine"
    return results


def run_train_benchmark(config: TrainBenchConfig) -> dict[str, Any]:
    """Run every measurement and return the JSON-ready report."""
    import torch

    from gameai.bench.machine import machine_info

    torch.set_num_threads(config.threads)
    results: dict[str, Any] = {"ppo_speed": {str(n): _speed(config, n) for n in config.num_envs}}
    if config.target_win_rate > 0:
        results["time_to_goal"] = _time_to_goal(config)
    if config.pixel_steps > 0:
        results["pixels"] = _pixels(config)
    return {
        "benchmark": "train",
        "config": dataclasses.asdict(config),
        "machine": {**machine_info(), "cuda": torch.cuda.is_available()},
        "results": results,
    }
