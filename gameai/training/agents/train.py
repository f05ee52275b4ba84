"""Make an agent, top to bottom: PPO, export, the environment's steps after export.

``gameai train agent all`` runs the steps below in order; each can run alone
(``gameai train agent STEP``) and picks up what earlier steps wrote. What is trained on is
the run's :class:`~gameai.training.agents.environment.AgentEnvironment` (``--env``: the
arena by default, or any Gymnasium id); this module names no environment.

1. ``ppo``    SB3 PPO on the environment's vector env, with its policy and its callbacks
              (the arena: self-play pool, handicapped arenas, evaluation against the reference,
              :mod:`gameai.training.agents.arena`). TensorBoard under
              ``runs/{env}__{exp}__{seed}__{time}``; checkpoints under
              ``checkpoints/agents/{env}__{exp}__{seed}``; run the same command after a kill and
              it resumes from the last checkpoint with its step count.
2. ``export`` the final policy as ``assets/agents/<name>/actor.safetensors`` + ``actor.json``.
3. ``rate``   the environment's steps after export: for the arena, an Elo table of the agent's
              difficulty levels and the scripted enemy against the scripted styles,
              ``ratings.json`` + ``ratings.md`` beside the actor.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import torch
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.utils import LinearSchedule
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

from gameai.model_files import write_json
from gameai.training.agents.callbacks import CheckpointCallback, read_state
from gameai.training.agents.config import AgentTrainConfig, Step
from gameai.training.agents.environment import AgentEnvironment, PolicySpec, RunInfo
from gameai.training.agents.environments import environment_for
from gameai.training.agents.export import export_checkpoint
from gameai.training.agents.run_log import make_run_logger


def run_prefix(config: AgentTrainConfig, environment: AgentEnvironment | None = None) -> str:
    """``{env}__{exp}__{seed}``: the checkpoint folder's name and the start of the run's name."""
    environment = environment or environment_for(config)
    return f"{environment.env_id.split('/')[-1]}__{config.exp_name}__{config.seed}"


def pick_device(config: AgentTrainConfig, policy: PolicySpec) -> torch.device:
    """``auto``: a CNN policy on cuda when present; MLP policies on the CPU (SB3: faster there)."""
    if config.device != "auto":
        return torch.device(config.device)
    if policy.policy == "CnnPolicy" and torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def new_model(config: AgentTrainConfig, venv: VecEnv, policy: PolicySpec, device: torch.device) -> PPO:
    """A fresh PPO with the config's hyperparameters and the environment's policy."""
    learning_rate: Any = (
        LinearSchedule(config.learning_rate, 0.0, 1.0) if config.anneal_lr else config.learning_rate
    )
    return PPO(
        policy.policy,
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
        policy_kwargs=dict(policy.kwargs),
        seed=config.seed,
        device=device,
        verbose=0,
    )


def checkpoint_dir(config: AgentTrainConfig, environment: AgentEnvironment | None = None) -> Path:
    """This experiment's checkpoint folder."""
    return Path(config.checkpoints_dir) / run_prefix(config, environment)


def final_checkpoint(config: AgentTrainConfig, environment: AgentEnvironment | None = None) -> Path:
    """The checkpoint ``ppo`` ends with (what ``export`` reads)."""
    directory = checkpoint_dir(config, environment)
    state = read_state(directory)
    if state is None or not state.get("finished"):
        raise FileNotFoundError(
            f"no finished run in {directory}; run `gameai train agent ppo` (same options) first"
        )
    return directory / state["checkpoint"]


def train_ppo(config: AgentTrainConfig, extra_callbacks: list[BaseCallback] | None = None) -> dict[str, Any]:
    """Step 1: train (or resume training) the agent; return a summary of the run.

    Args:
        config: The run.
        extra_callbacks: More callbacks (the benchmark's, the tests').

    Returns:
        ``run_name``, ``timesteps``, ``seconds``, ``checkpoint`` and the evaluation ``history``.
    """
    torch.set_num_threads(config.threads)
    environment = environment_for(config)
    directory = checkpoint_dir(config, environment)
    state = read_state(directory) if config.resume else None
    if state is not None and state.get("finished"):
        print(f"{directory}: already trained to {state['timesteps']} steps (--no-resume to start afresh)")
        return {**state, "checkpoint": str(directory / state["checkpoint"]), "history": []}
    run_name = state["run_name"] if state else f"{run_prefix(config, environment)}__{int(time.time())}"
    done = int(state["timesteps"]) if state else 0
    run = RunInfo(directory=directory, start_step=done, resumed=state is not None)

    # The envs (the environment's; the arena restores its self-play pool on resume).
    venv = VecMonitor(environment.make_vec_env(run))
    venv.seed(config.seed + done)

    # The model: fresh, or the last checkpoint with its step count.
    policy = environment.policy(venv.observation_space)
    device = pick_device(config, policy)
    if state is not None:
        model = PPO.load(directory / state["checkpoint"], env=venv, device=device)
        print(f"resuming {run_name} from {state['checkpoint']} at {model.num_timesteps} steps")
    else:
        model = new_model(config, venv, policy, device)
    model.set_logger(make_run_logger(str(Path(config.runs_dir) / run_name), purge_step=done or None))

    # Callbacks: checkpoints, then the environment's (the arena: outcomes, self-play, evaluation).
    checkpoints = CheckpointCallback(
        directory, config.checkpoint_every, {"run_name": run_name, "config": _jsonable(config)}
    )
    hooks = environment.callbacks(model, run)
    callbacks: list[BaseCallback] = [checkpoints, *hooks.callbacks, *(extra_callbacks or [])]

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
        "history": hooks.history,
    }


def export(config: AgentTrainConfig) -> Path:
    """Step 2: write the final policy to ``assets_dir/agent_name`` (safetensors + JSON)."""
    environment = environment_for(config)
    spec = environment.actor_spec()
    checkpoint = final_checkpoint(config, environment)
    state = read_state(checkpoint_dir(config, environment)) or {}
    directory = Path(config.assets_dir) / config.agent_name
    metadata = {
        "run_name": state.get("run_name"),
        "env_id": environment.env_id,
        "trained_with": _jsonable(config),
        **environment.export_metadata(),
    }
    export_checkpoint(checkpoint, directory, spec, metadata)
    print(f"exported {checkpoint} -> {directory}")
    return directory


def after_export(
    config: AgentTrainConfig, environment: AgentEnvironment | None = None
) -> dict[str, Any] | None:
    """Step 3: the environment's steps after export (the arena's Elo table); None when it has none."""
    environment = environment or environment_for(config)
    return environment.after_export(Path(config.assets_dir) / config.agent_name)


def run(config: AgentTrainConfig, step: Step) -> dict[str, Any]:
    """Run one step, or every step in order (``all``); return what each step reported."""
    environment = environment_for(config)  # an unknown --env fails here, before any work
    if step in ("export", "all"):
        environment.actor_spec()  # an agent that cannot be served fails before training
    report: dict[str, Any] = {}
    started = time.perf_counter()
    if step in ("ppo", "all"):
        summary = train_ppo(config)
        report["ppo"] = {k: v for k, v in summary.items() if k != "history"}
    if step in ("export", "all"):
        report["export"] = str(export(config))
    if step in ("rate", "all"):
        rated = after_export(config, environment)
        if rated is not None:
            report["rate"] = rated
        elif step == "rate":
            raise ValueError(
                f"{environment.env_id} has no step after export (`rate` is the arena's Elo table)"
            )
    report["seconds"] = round(time.perf_counter() - started, 1)
    if step == "all":
        write_json(Path(config.assets_dir) / config.agent_name / "build.json", report)
    print(json.dumps(report, indent=2, default=str))
    return report


def _jsonable(config: AgentTrainConfig) -> dict[str, Any]:
    from dataclasses import asdict

    data: dict[str, Any] = json.loads(json.dumps(asdict(config)))
    return data
