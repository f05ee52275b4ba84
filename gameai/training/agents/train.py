"""Make an agent, top to bottom: train (any SB3 algorithm), export, the environment's steps after export.

``gameai train agent all`` runs the steps below in order; each can run alone
(``gameai train agent STEP``) and picks up what earlier steps wrote. What is trained on is
the run's :class:`~gameai.training.agents.environment.AgentEnvironment` (``--env``: the
arena by default, or any Gymnasium id); this module names no environment.

1. ``learn``  train with ``--algo`` (ppo by default; a2c, dqn, sac, td3 where the action space
              fits, :mod:`gameai.training.agents.algorithms`) on the environment's vector env,
              with its policy and its callbacks (the arena: self-play pool, handicapped arenas,
              evaluation against the reference, :mod:`gameai.training.agents.arena`). The
              hyperparameters come from the files of :mod:`gameai.training.agents.hyperparams`
              and the options given; with ``normalize`` the envs are in a VecNormalize whose
              statistics are saved beside each checkpoint as JSON
              (:mod:`gameai.training.agents.normalization`). TensorBoard under
              ``runs/{env}__{exp}__{seed}__{time}``; checkpoints under
              ``checkpoints/agents/{env}__{exp}__{seed}`` (``exp`` starts with the algorithm:
              ``ppo_arena``, ``dqn``...); run the same command after a kill and it resumes from
              the last checkpoint with its step count (an off-policy run with its replay buffer);
              run it with a larger ``--total-timesteps`` after it finished and it trains on to
              the new total. ``ppo`` is the older name of this step (PPO only).
2. ``export`` the final policy as ``assets/agents/<name>/actor.safetensors`` + ``actor.json``
              (with the VecNormalize observation statistics, when the run had them).
3. ``rate``   the environment's steps after export: for the arena, an Elo table of the agent's
              difficulty levels and the scripted enemy against the scripted styles,
              ``ratings.json`` + ``ratings.md`` beside the actor.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecMonitor, VecNormalize

from gameai.model_files import write_json
from gameai.training.agents import normalization
from gameai.training.agents.algorithms import algorithm_class, check_action_space, is_off_policy
from gameai.training.agents.callbacks import CheckpointCallback, Companion, HParamsCallback, read_state
from gameai.training.agents.config import AgentTrainConfig, Step
from gameai.training.agents.environment import AgentEnvironment, PolicySpec, RunInfo
from gameai.training.agents.environments import ENVIRONMENTS, environment_for
from gameai.training.agents.hyperparams import Hyperparams, algorithm_default, resolve
from gameai.training.agents.run_log import make_run_logger
from gameai.training.agents.sb3_zip import export_checkpoint

REPLAY_SUFFIX = ".replay.pkl"
"""What follows a checkpoint's stem in its replay buffer's file name (off-policy runs)."""
HPARAM_METRICS = ("charts/episodic_return", "eval/mean_return")
"""Scalars TensorBoard's HParams tab shows beside a run's hyperparameters."""
DEFAULT_HIDDEN_SIZES = (64, 64)
"""SB3's MLP, when the hyperparameters name no ``net_arch`` (what ``config.hidden_sizes`` reads then)."""


def experiment_name(config: AgentTrainConfig) -> str:
    """The run's ``exp``: always starting with the algorithm, so two algorithms never share a folder.

    None: ``{algo}_{env}`` for a registered environment (``ppo_arena``), ``{algo}`` for a
    Gymnasium id (its id is already in the run's name); a name given without ``{algo}_`` in
    front gets it.
    """
    algo = config.algo
    if config.exp_name is None:
        return f"{algo}_{config.env}" if config.env in ENVIRONMENTS else algo
    if config.exp_name == algo or config.exp_name.startswith(f"{algo}_"):
        return config.exp_name
    return f"{algo}_{config.exp_name}"


def run_prefix(config: AgentTrainConfig, environment: AgentEnvironment | None = None) -> str:
    """``{env}__{exp}__{seed}``: the checkpoint folder's name and the start of the run's name."""
    environment = environment or environment_for(config)
    return f"{environment.env_id.split('/')[-1]}__{experiment_name(config)}__{config.seed}"


def pick_device(config: AgentTrainConfig) -> torch.device:
    """``auto``: cuda when present (whatever the policy), else the CPU; any other value as given."""
    if config.device != "auto":
        return torch.device(config.device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class RunSetup:
    """A run's parts settled before any work (:func:`prepare`)."""

    config: AgentTrainConfig
    """The config with ``num_envs``, ``total_timesteps`` and ``hidden_sizes`` resolved."""
    environment: AgentEnvironment
    """The environment, made from :attr:`config`."""
    hyperparams: Hyperparams
    """The resolved hyperparameters."""


def prepare(config: AgentTrainConfig) -> RunSetup:
    """Check the algorithm against the environment and resolve the hyperparameters, before any work.

    Raises:
        ValueError: An environment that does not train with ``config.algo``, an action space the
            algorithm cannot act in, a hyperparameter file or option it does not take (one line).
    """
    algorithm_class(config.algo)
    environment = environment_for(config)
    if environment.algorithms is not None and config.algo not in environment.algorithms:
        raise ValueError(
            f"--algo {config.algo}: {config.env} trains with {' or '.join(environment.algorithms)} only"
        )
    action_space = environment.action_space()
    if action_space is not None:
        check_action_space(config.algo, environment.env_id, action_space)
    hyperparams = resolve(config, (config.env, environment.env_id))
    if hyperparams.normalize is not None and not environment.normalizable:
        raise ValueError(f"{config.env} does not train with normalize (its callbacks read raw observations)")
    net_arch = hyperparams.values.get("policy_kwargs", {}).get("net_arch")
    resolved = dataclasses.replace(
        config,
        num_envs=hyperparams.n_envs,
        total_timesteps=hyperparams.n_timesteps,
        hidden_sizes=tuple(net_arch) if isinstance(net_arch, list) else DEFAULT_HIDDEN_SIZES,
    )
    return RunSetup(resolved, environment_for(resolved), hyperparams)


def new_model(
    algo: str, hyperparams: Hyperparams, venv: VecEnv, policy: PolicySpec, seed: int, device: torch.device
) -> BaseAlgorithm:
    """A fresh ``algo`` model with the hyperparameters and the environment's policy.

    The hyperparameters' ``policy`` (if any) replaces the environment's policy name; their
    ``policy_kwargs`` go over the environment's.
    """
    return algorithm_class(algo)(
        hyperparams.values.get("policy", policy.policy),
        venv,
        policy_kwargs={**policy.kwargs, **hyperparams.policy_kwargs()},
        seed=seed,
        device=device,
        verbose=0,
        **hyperparams.algorithm_kwargs(venv.action_space),
    )


def checkpoint_dir(config: AgentTrainConfig, environment: AgentEnvironment | None = None) -> Path:
    """This experiment's checkpoint folder."""
    return Path(config.checkpoints_dir) / run_prefix(config, environment)


def final_checkpoint(config: AgentTrainConfig, environment: AgentEnvironment | None = None) -> Path:
    """The checkpoint ``learn`` ends with (what ``export`` reads)."""
    directory = checkpoint_dir(config, environment)
    state = read_state(directory)
    if state is None or not state.get("finished"):
        raise FileNotFoundError(
            f"no finished run in {directory}; run `gameai train agent learn` (same options) first"
        )
    return directory / state["checkpoint"]


def replay_buffer_path(checkpoint: Path) -> Path:
    """The replay buffer beside ``checkpoint`` (``ckpt_X.zip`` -> ``ckpt_X.replay.pkl``)."""
    return checkpoint.with_name(checkpoint.stem + REPLAY_SUFFIX)


def learn(config: AgentTrainConfig, extra_callbacks: list[BaseCallback] | None = None) -> dict[str, Any]:
    """Step 1: train (resume, or extend) the agent with ``config.algo``; return a summary of the run.

    A finished run with fewer steps than the resolved ``total_timesteps`` is extended: it
    continues from its final checkpoint up to the new total (a linear schedule then stretches
    over the new total).

    Args:
        config: The run.
        extra_callbacks: More callbacks (the benchmark's, the tests').

    Returns:
        ``run_name``, ``algo``, ``timesteps``, ``seconds``, ``checkpoint``, ``hyperparams`` and
        the evaluation ``history``.

    Raises:
        ValueError: As :func:`prepare`; or the experiment's folder holds another algorithm's run.
    """
    torch.set_num_threads(config.threads)
    setup = prepare(config)
    config, environment, hyperparams = setup.config, setup.environment, setup.hyperparams
    total = hyperparams.n_timesteps
    directory = checkpoint_dir(config, environment)
    state = read_state(directory) if config.resume else None
    if state is not None and state.get("algo", "ppo") != config.algo:
        raise ValueError(f"{directory} holds a {state.get('algo', 'ppo')} run, not {config.algo}")
    if state is not None and state.get("finished") and int(state["timesteps"]) >= total:
        print(
            f"{directory}: already trained to {state['timesteps']} steps "
            "(--no-resume to start afresh, a larger --total-timesteps to train on)"
        )
        return {**state, "checkpoint": str(directory / state["checkpoint"]), "history": []}
    run_name = state["run_name"] if state else f"{run_prefix(config, environment)}__{int(time.time())}"
    done = int(state["timesteps"]) if state else 0
    checkpoint = directory / state["checkpoint"] if state else None
    run = RunInfo(directory=directory, start_step=done, resumed=state is not None)

    # The envs (the environment's; the arena restores its self-play pool on resume), monitored
    # (raw episode returns), then normalised when the hyperparameters say so.
    venv: VecEnv = VecMonitor(environment.make_vec_env(run))
    if environment.action_space() is None:
        check_action_space(config.algo, environment.env_id, venv.action_space)
    normalizer: VecNormalize | None = None
    if hyperparams.normalize is not None:
        gamma = hyperparams.values.get("gamma", algorithm_default(config.algo, "gamma"))
        venv = normalizer = normalization.wrap(venv, hyperparams.normalize, float(gamma))
        if checkpoint is not None and not normalization.restore_stats(normalizer, checkpoint):
            print(f"warning: no VecNormalize statistics beside {checkpoint.name}; they start afresh")
    venv.seed(config.seed + done)

    # The model: fresh, or the last checkpoint with its step count (and replay buffer).
    device = pick_device(config)
    if checkpoint is not None:
        model = algorithm_class(config.algo).load(checkpoint, env=venv, device=device)
        replay = replay_buffer_path(checkpoint)
        if isinstance(model, OffPolicyAlgorithm) and replay.is_file():
            model.load_replay_buffer(replay)
        verb = "extending" if state and state.get("finished") else "resuming"
        print(f"{verb} {run_name} from {checkpoint.name} at {model.num_timesteps} steps to {total}")
    else:
        policy = environment.policy(venv.observation_space)
        model = new_model(config.algo, hyperparams, venv, policy, config.seed, device)
    model.set_logger(make_run_logger(str(Path(config.runs_dir) / run_name), purge_step=done or None))

    # Callbacks: hyperparameters, checkpoints, then the environment's (the arena: outcomes,
    # self-play, evaluation).
    companions: list[Companion] = []
    if normalizer is not None:
        companions.append(lambda path: normalization.save_stats(normalizer, path))
    if is_off_policy(config.algo):
        companions.append(lambda path: _save_replay_buffer(model, path))
    run_state = {
        "run_name": run_name,
        "algo": config.algo,
        "config": _jsonable(config),
        "hyperparams": hyperparams.values,
        "hyperparams_from": list(hyperparams.sources),
    }
    checkpoints = CheckpointCallback(
        directory, config.checkpoint_every, run_state, companions=companions, latest_only=(REPLAY_SUFFIX,)
    )
    hooks = environment.callbacks(model, run)
    callbacks: list[BaseCallback] = [
        HParamsCallback(hyperparams.hparams(), HPARAM_METRICS),
        checkpoints,
        *hooks.callbacks,
        *(extra_callbacks or []),
    ]

    started = time.perf_counter()
    model.learn(
        total - done,
        callback=callbacks,
        reset_num_timesteps=False,
        progress_bar=config.progress_bar,
    )
    seconds = time.perf_counter() - started
    path = checkpoints.save(finished=model.num_timesteps >= total)
    venv.close()
    return {
        "run_name": run_name,
        "algo": config.algo,
        "timesteps": int(model.num_timesteps),
        "seconds": seconds,
        "checkpoint": str(path),
        "hyperparams": hyperparams.values,
        "history": hooks.history,
    }


train_ppo = learn
"""The older name of :func:`learn` (it trains with ``config.algo``)."""


def _save_replay_buffer(model: BaseAlgorithm, checkpoint: Path) -> Path:
    assert isinstance(model, OffPolicyAlgorithm)
    path = replay_buffer_path(checkpoint)
    tmp = path.with_name(path.stem + ".tmp.pkl")
    model.save_replay_buffer(tmp)
    os.replace(tmp, path)
    return path


def export(config: AgentTrainConfig) -> Path:
    """Step 2: write the final policy to ``assets_dir/agent_name`` (safetensors + JSON).

    The run's VecNormalize observation statistics (if any) go into the actor.
    """
    environment = environment_for(config)
    spec = environment.actor_spec()
    checkpoint = final_checkpoint(config, environment)
    state = read_state(checkpoint_dir(config, environment)) or {}
    directory = Path(config.assets_dir) / config.agent_name
    metadata = {
        "run_name": state.get("run_name"),
        "env_id": environment.env_id,
        "algo": state.get("algo", config.algo),
        "hyperparams": state.get("hyperparams"),
        "trained_with": state.get("config", _jsonable(config)),
        **environment.export_metadata(),
    }
    normalization_stats = normalization.obs_normalization(checkpoint)
    export_checkpoint(checkpoint, directory, spec, metadata, normalization=normalization_stats)
    print(f"exported {checkpoint} -> {directory}")
    return directory


def after_export(
    config: AgentTrainConfig, environment: AgentEnvironment | None = None
) -> dict[str, Any] | None:
    """Step 3: the environment's steps after export (the arena's Elo table); None when it has none."""
    environment = environment or environment_for(config)
    return environment.after_export(Path(config.assets_dir) / config.agent_name)


def run(config: AgentTrainConfig, step: Step) -> dict[str, Any]:
    """Run one step, or every step in order (``all``); return what each step reported.

    Raises:
        ValueError: Before any work, when the run cannot go through (one line, for the command line).
    """
    if step == "ppo" and config.algo != "ppo":
        raise ValueError(
            f"step ppo trains PPO; `gameai train agent learn --algo {config.algo}` trains {config.algo}"
        )
    environment = environment_for(config)  # an unknown --env fails here, before any work
    if step in ("learn", "ppo", "all"):
        prepare(config)  # an algorithm that does not fit, a bad hyperparameter: before any work
    if step in ("export", "all"):
        environment.actor_spec()  # an agent that cannot be served fails before training
    report: dict[str, Any] = {}
    started = time.perf_counter()
    if step in ("learn", "ppo", "all"):
        summary = learn(config)
        report["learn"] = {k: v for k, v in summary.items() if k != "history"}
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
