"""Build the shipped arena agent, top to bottom: PPO, export, rating.

``gameai train agent all`` runs the steps below in order; each can run alone
(``gameai train agent STEP``) and picks up what earlier steps wrote:

1. ``ppo``    SB3 PPO on ``gameai/Arena-v0`` (``--obs-type pixels``: ``gameai/ArenaPixels-v0``
              with :class:`~gameai.agents.features.ArenaCNN`) over the natively vectorised
              arenas. Each episode draws a difficulty d in [0, 1]; the agent sees it (the
              observation's ``DIFFICULTY``) and its actions are spoiled by the handicap at d.
              The players: scripted styles at random skills, and in ``self_play_fraction`` of
              the arenas a frozen earlier checkpoint (the self-play pool). TensorBoard under
              ``runs/{env}__{exp}__{seed}__{time}``; checkpoints under
              ``checkpoints/agents/{env}__{exp}__{seed}``; run the same command after a kill and
              it resumes from the last checkpoint with its step count.
2. ``export`` the final policy as ``assets/agents/<name>/actor.safetensors`` + ``actor.json``.
3. ``rate``   an Elo table of the agent's difficulty levels and the scripted enemy against
              the scripted styles, ``ratings.json`` + ``ratings.md`` beside the actor.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from envs.actions import ActionHandicap
from envs.matches import ArenaEnvConfig
from envs.sb3 import ArenaSB3VecEnv
from envs.vector_env import ArenaVectorEnv
from gameai.agents.actor import load_actor
from gameai.agents.callbacks import (
    ArenaEvalCallback,
    CheckpointCallback,
    MatchOutcomeCallback,
    SelfPlayCallback,
    read_state,
)
from gameai.agents.config import AgentTrainConfig, Step
from gameai.agents.export import actor_from_policy, export_checkpoint
from gameai.agents.features import ArenaCNN
from gameai.agents.matches import Opponent
from gameai.agents.opponents import FrozenPolicyPool
from gameai.agents.rating import rate_agent
from gameai.agents.run_log import make_run_logger
from gameai.agents.vec_env import ConcatVecEnv
from gameai.model_files import ModelLoadError, write_json

logger = logging.getLogger(__name__)


def handicap_of(config: AgentTrainConfig) -> ActionHandicap:
    """The handicap the agent trains (and is served) with."""
    return ActionHandicap(
        hold_fire=config.hold_fire, scramble_aim=config.scramble_aim, slip_move=config.slip_move
    )


def env_config_of(config: AgentTrainConfig, handicapped: bool = True) -> ArenaEnvConfig:
    """The arenas the agent trains in: d drawn per episode (``handicapped``), or d = 1."""
    return ArenaEnvConfig(
        obs_type=config.obs_type,
        opponent_styles=config.opponent_styles,
        opponent_skill=config.opponent_skill,
        difficulty=1.0,
        difficulty_range=config.difficulty_range if handicapped else None,
        handicap=handicap_of(config),
        match_ticks=config.match_ticks,
        frame_stack=config.frame_stack,
    )


def pick_device(config: AgentTrainConfig) -> torch.device:
    """``auto``: the CNN on cuda when present; MLP policies on the CPU (SB3: faster there)."""
    if config.device != "auto":
        return torch.device(config.device)
    if config.obs_type == "pixels" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def arena_split(config: AgentTrainConfig) -> tuple[int, int, int]:
    """Arenas of each part: (scripted at d = 1, scripted at a drawn d, self-play at d = 1).

    Pixel runs have no self-play arenas (the pool's members read vector observations).
    """
    n_self = 0
    if config.obs_type == "vector" and config.self_play_fraction > 0:
        n_self = max(1, round(config.num_envs * config.self_play_fraction))
    n_weak = round(config.num_envs * config.handicapped_fraction)
    n_full = config.num_envs - n_self - n_weak
    if n_full < 0 or (n_full == 0 and n_weak == 0):
        raise ValueError("self_play_fraction + handicapped_fraction must leave room for scripted arenas")
    return n_full, n_weak, n_self


def restore_pool(pool: FrozenPolicyPool, pool_dir: Path, size: int) -> None:
    """Put a killed run's last ``size`` self-play snapshots back into ``pool``.

    A snapshot that does not load (a run of an older version killed while writing it) is
    skipped with a warning.
    """
    members = sorted(p for p in pool_dir.iterdir() if p.is_dir() and p.name.isdigit())
    newest: list[tuple[str, Any]] = []
    for member in reversed(members):
        if len(newest) == size:
            break
        try:
            newest.append((member.name, load_actor(member).net))
        except ModelLoadError as exc:
            logger.warning("self-play snapshot %s skipped: %s", member.name, exc)
    for label, net in reversed(newest):  # oldest first, as the run added them
        pool.add(net, label)


def make_training_env(config: AgentTrainConfig, pool: FrozenPolicyPool) -> VecEnv:
    """The arenas of :func:`arena_split`, in that order, as one monitored SB3 VecEnv."""
    n_full, n_weak, n_self = arena_split(config)
    parts: list[VecEnv] = []
    if n_full:
        parts.append(ArenaSB3VecEnv(ArenaVectorEnv(n_full, config=env_config_of(config, handicapped=False))))
    if n_weak:
        parts.append(ArenaSB3VecEnv(ArenaVectorEnv(n_weak, config=env_config_of(config, handicapped=True))))
    if n_self:
        full = env_config_of(config, handicapped=False)
        parts.append(ArenaSB3VecEnv(ArenaVectorEnv(n_self, config=full, opponent_policy=pool)))
    return VecMonitor(ConcatVecEnv(parts) if len(parts) > 1 else parts[0])


def new_model(config: AgentTrainConfig, venv: VecEnv, device: torch.device) -> PPO:
    """A fresh PPO with the config's hyperparameters."""
    policy_kwargs: dict[str, Any] = {
        "net_arch": {"pi": list(config.hidden_sizes), "vf": list(config.hidden_sizes)},
    }
    if config.obs_type == "pixels":
        policy_kwargs |= {
            "features_extractor_class": ArenaCNN,
            "features_extractor_kwargs": {"features_dim": config.cnn_features},
        }
    learning_rate: Any = (
        LinearSchedule(config.learning_rate, 0.0, 1.0) if config.anneal_lr else config.learning_rate
    )
    return PPO(
        "MlpPolicy" if config.obs_type == "vector" else "CnnPolicy",
        venv,
        learning_rate=learning_rate,
        n_steps=config.n_steps,
        batch_size=config.batch_size,
        n_epochs=config.n_epochs,
        gamma=config.gamma,
        gae_lambda=config.gae_lambda,
        clip_range=config.clip_range,
        ent_coef=config.ent_coef,
        vf_coef=config.vf_coef,
        max_grad_norm=config.max_grad_norm,
        policy_kwargs=policy_kwargs,
        seed=config.seed,
        device=device,
        verbose=0,
    )


def checkpoint_dir(config: AgentTrainConfig) -> Path:
    """This experiment's checkpoint folder."""
    return Path(config.checkpoints_dir) / config.checkpoint_name


def final_checkpoint(config: AgentTrainConfig) -> Path:
    """The checkpoint ``ppo`` ends with (what ``export`` reads)."""
    state = read_state(checkpoint_dir(config))
    if state is None or not state.get("finished"):
        raise FileNotFoundError(
            f"no finished run in {checkpoint_dir(config)}; run `gameai train agent ppo` (same options) first"
        )
    return checkpoint_dir(config) / state["checkpoint"]


def train_ppo(config: AgentTrainConfig, extra_callbacks: list[BaseCallback] | None = None) -> dict[str, Any]:
    """Step 1: train (or resume training) the agent; return a summary of the run.

    Args:
        config: The run.
        extra_callbacks: More callbacks (the benchmark's, the tests').

    Returns:
        ``run_name``, ``timesteps``, ``seconds``, ``checkpoint`` and the evaluation ``history``.
    """
    torch.set_num_threads(config.threads)
    directory = checkpoint_dir(config)
    state = read_state(directory) if config.resume else None
    if state is not None and state.get("finished"):
        print(f"{directory}: already trained to {state['timesteps']} steps (--no-resume to start afresh)")
        return {**state, "checkpoint": str(directory / state["checkpoint"]), "history": []}
    run_name = (
        state["run_name"]
        if state
        else f"{config.env_id.split('/')[-1]}__{config.exp_name}__{config.seed}__{int(time.time())}"
    )
    done = int(state["timesteps"]) if state else 0

    # The arenas: scripted players, and the self-play pool's frozen checkpoints (restored on resume).
    pool = FrozenPolicyPool(config.self_play_pool_size, np.random.default_rng([config.seed, done]))
    pool_dir = directory / "pool"
    n_self = arena_split(config)[2]
    venv = make_training_env(config, pool)
    venv.seed(config.seed + done)

    # The model: fresh, or the last checkpoint with its step count.
    device = pick_device(config)
    if state is not None:
        model = PPO.load(directory / state["checkpoint"], env=venv, device=device)
        if n_self and pool_dir.is_dir():
            restore_pool(pool, pool_dir, config.self_play_pool_size)
        print(f"resuming {run_name} from {state['checkpoint']} at {model.num_timesteps} steps")
    else:
        model = new_model(config, venv, device)
    model.set_logger(make_run_logger(str(Path(config.runs_dir) / run_name), purge_step=done or None))

    # Callbacks: outcomes, self-play snapshots, evaluation against the reference, checkpoints.
    handicap = handicap_of(config)

    def current_actor() -> Any:
        return actor_from_policy(model.policy, handicap)

    checkpoints = CheckpointCallback(
        directory, config.checkpoint_every, {"run_name": run_name, "config": _jsonable(config)}
    )
    callbacks: list[BaseCallback] = [
        MatchOutcomeCallback(self_play_from=config.num_envs - n_self if n_self else None),
        checkpoints,
    ]
    if n_self:
        callbacks.append(SelfPlayCallback(pool, current_actor, config.self_play_every, pool_dir))
    evaluation = None
    if config.obs_type == "vector" and config.eval_every > 0:
        reference = Opponent(config.reference_style, config.reference_skill)
        evaluation = ArenaEvalCallback(
            current_actor, reference, config.eval_difficulties, config.eval_matches, config.eval_every,
            match_ticks=config.match_ticks,
        )  # fmt: skip
        callbacks.append(evaluation)
    callbacks += extra_callbacks or []

    started = time.perf_counter()
    model.learn(
        config.total_timesteps - done,
        callback=callbacks,
        reset_num_timesteps=False,
        progress_bar=config.progress_bar,
    )
    seconds = time.perf_counter() - started
    path = checkpoints.save(finished=model.num_timesteps >= config.total_timesteps)
    venv.close()
    return {
        "run_name": run_name,
        "timesteps": int(model.num_timesteps),
        "seconds": seconds,
        "checkpoint": str(path),
        "history": evaluation.history if evaluation is not None else [],
    }


def export(config: AgentTrainConfig) -> Path:
    """Step 2: write the final policy to ``assets_dir/agent_name`` (safetensors + JSON)."""
    if config.obs_type != "vector":
        raise ValueError("only the vector agent is served (the pixel CNN stays a training checkpoint)")
    checkpoint = final_checkpoint(config)
    state = read_state(checkpoint_dir(config)) or {}
    directory = Path(config.assets_dir) / config.agent_name
    metadata = {
        "run_name": state.get("run_name"),
        "env_id": config.env_id,
        "trained_with": _jsonable(config),
        "observation": "envs.observation.ObservationField (44 floats in [-1, 1]); "
        "DIFFICULTY (40) is overwritten",
        "actions": "envs.actions: move (9), fire (4: hold, lead -0.2/0/+0.2 rad), dash (2)",
    }
    export_checkpoint(checkpoint, directory, handicap_of(config), metadata)
    print(f"exported {checkpoint} -> {directory}")
    return directory


def run(config: AgentTrainConfig, step: Step) -> dict[str, Any]:
    """Run one step, or every step in order (``all``); return what each step reported."""
    report: dict[str, Any] = {}
    started = time.perf_counter()
    if step in ("ppo", "all"):
        summary = train_ppo(config)
        report["ppo"] = {k: v for k, v in summary.items() if k != "history"}
    if step in ("export", "all"):
        report["export"] = str(export(config))
    if step in ("rate", "all"):
        directory = Path(config.assets_dir) / config.agent_name
        report["rate"] = rate_agent(directory, config)
    report["seconds"] = round(time.perf_counter() - started, 1)
    if step == "all":
        write_json(Path(config.assets_dir) / config.agent_name / "build.json", report)
    print(json.dumps(report, indent=2, default=str))
    return report


def _jsonable(config: AgentTrainConfig) -> dict[str, Any]:
    from dataclasses import asdict

    data: dict[str, Any] = json.loads(json.dumps(asdict(config)))
    return data
