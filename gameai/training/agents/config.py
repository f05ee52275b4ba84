"""Config of ``gameai train agent`` (no heavy imports here: the CLI builds its options from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Step = Literal["all", "ppo", "export", "rate"]
"""A step of :mod:`gameai.training.agents.train` (``rate``: the steps after export, the arena's Elo table)."""

ALL_STYLES: tuple[str, ...] = ("aggressive", "explorer", "collector", "evasive", "idle", "bot_like")
"""The scripted player styles (``demo_game.sim.styles.STYLES``), repeated here to keep torch-free imports."""


@dataclass(frozen=True)
class AgentTrainConfig:
    """Everything ``gameai train agent`` needs; the defaults build the shipped ``arena`` agent.

    The PPO, checkpoint and output fields apply to every environment; the arena's own fields
    (observation type, opponents, self-play, handicap, matches, evaluation and rating) only to
    ``env="arena"``; a Gymnasium environment evaluates ``eval_matches`` episodes every ``eval_every`` steps.
    """

    env: str = "arena"
    """Which environment: a registered name (arena) or any registered Gymnasium id (e.g. CartPole-v1)."""
    exp_name: str = "ppo_arena"
    """Experiment name: part of the run name ``{env}__{exp}__{seed}__{time}`` and of the checkpoint folder."""
    obs_type: Literal["vector", "pixels"] = "vector"
    """``vector``: gameai/Arena-v0 with an MLP; ``pixels``: gameai/ArenaPixels-v0 with the arena CNN."""
    seed: int = 1
    """Seed of the arenas, the network and the self-play pool."""
    total_timesteps: int = 12_000_000
    """Env steps (agent decisions, all arenas together) to train for."""
    num_envs: int = 128
    """Arenas stepped together by the native vector env (self-play arenas included)."""
    n_steps: int = 64
    """Steps per arena per rollout (a rollout holds num_envs x n_steps decisions)."""
    batch_size: int = 2048
    """Minibatch size of the PPO updates."""
    n_epochs: int = 10
    """Passes over each rollout."""
    learning_rate: float = 3e-4
    """Adam learning rate at the start."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to 0 over total_timesteps."""
    gamma: float = 0.995
    """Discount per decision (15 decisions per game second)."""
    gae_lambda: float = 0.95
    """GAE lambda."""
    clip_range: float = 0.2
    """PPO clipping of the policy ratio."""
    ent_coef: float = 0.01
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight."""
    max_grad_norm: float = 0.5
    """Gradient clipping norm."""
    hidden_sizes: tuple[int, ...] = (128, 128)
    """Hidden layers of the policy and of the value MLP (vector obs), or after the CNN (pixels)."""
    cnn_features: int = 256
    """Width of the arena CNN's output features (pixels)."""
    frame_stack: int = 2
    """Frames stacked in pixel observations."""
    opponent_styles: tuple[str, ...] = ALL_STYLES
    """Scripted player styles the scripted arenas draw from, one per episode."""
    opponent_skill: tuple[float, float] = (0.0, 1.0)
    """Range the scripted player's skill is drawn from, per episode."""
    self_play_fraction: float = 0.25
    """Share of the arenas whose player is a frozen earlier checkpoint of the agent (0: none)."""
    self_play_every: int = 1_000_000
    """Env steps between two snapshots of the agent into the self-play pool."""
    self_play_pool_size: int = 6
    """Most frozen checkpoints kept in the pool (the oldest is dropped first)."""
    handicapped_fraction: float = 0.35
    """Share of the arenas whose episodes draw d from difficulty_range; the others play at d = 1."""
    difficulty_range: tuple[float, float] = (0.0, 1.0)
    """Range a handicapped arena's difficulty d is drawn from, uniformly, per episode (the agent sees d)."""
    hold_fire: float = 0.8
    """Handicap: chance at d = 0 that a shot is held back (scaled by 1 - d)."""
    scramble_aim: float = 1.0
    """Handicap: chance at d = 0 that a shot's lead choice is replaced by a random one (scaled by 1 - d)."""
    slip_move: float = 0.3
    """Handicap: chance at d = 0 that the move is replaced by a random one (scaled by 1 - d)."""
    match_ticks: int = 900
    """Length of a match, ticks (900 = 30 s of game time)."""
    reference_style: str = "aggressive"
    """Style of the fixed reference opponent of the evaluations."""
    reference_skill: float = 0.2
    """Skill of the reference opponent (the shipped run logged its evaluations against 0.5)."""
    eval_every: int = 1_000_000
    """Env steps between two evaluations against the reference opponent (0: never)."""
    eval_matches: int = 64
    """Matches per difficulty level in each evaluation."""
    eval_difficulties: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    """Difficulty levels each evaluation plays at."""
    checkpoint_every: int = 500_000
    """Env steps between two checkpoints (what a killed run resumes from)."""
    resume: bool = True
    """Resume from the experiment's last checkpoint when there is one (--no-resume starts afresh)."""
    device: str = "auto"
    """Torch device: auto = cpu for MLP policies (as SB3 advises), cuda when present for the CNN."""
    threads: int = 1
    """Torch CPU threads (1 keeps a shared machine usable)."""
    progress_bar: bool = True
    """Show SB3's progress bar."""
    runs_dir: str = "runs"
    """Where TensorBoard runs go."""
    checkpoints_dir: str = "checkpoints/agents"
    """Where checkpoints go (one folder per experiment and seed)."""
    assets_dir: str = "assets/agents"
    """Where ``export`` writes the served agent (one folder per agent name)."""
    agent_name: str = "arena"
    """Name of the exported agent (its folder, and its name in the protocol)."""
    rating_matches: int = 40
    """Matches per pairing in the round robin of ``rate``."""
    rating_skills: tuple[float, ...] = (0.0, 0.5, 1.0)
    """Skills every scripted style plays at in the round robin."""


@dataclass(frozen=True)
class EvalAdaptConfig:
    """Options of ``gameai eval adapt``."""

    agents_dir: str = "assets/agents"
    """Directory of served agents (as ``gameai serve --agents-dir``)."""
    agent: str = "arena"
    """The agent the players meet."""
    players: tuple[str, ...] = (
        "aggressive@0",
        "aggressive@0.1",
        "aggressive@0.2",
        "aggressive@0.3",
        "aggressive@0.4",
    )
    """Simulated players, ``style@skill``, weakest first."""
    matches: int = 30
    """Matches each player plays."""
    last: int = 15
    """The win rate reported is over each player's last this many matches."""
    target: float = 0.5
    """Player win rate the adaptive controller holds."""
    tolerance: float = 0.15
    """Goal: every player's last win rate within target +/- tolerance under adaptation."""
    fixed_difficulty: float = 0.5
    """Difficulty of the comparison without adaptation (and where the adaptive one starts)."""
    seed: int = 0
    """Player i's arena is seeded ``seed + i``."""
    match_ticks: int = 900
    """Match length, ticks."""
    modes: tuple[str, ...] = ("adaptive", "fixed")
    """Difficulty controls to run, in order."""


@dataclass(frozen=True)
class EvalAgentConfig:
    """Options of ``gameai eval agent``."""

    agent_dir: str = "assets/agents/arena"
    """The exported agent (actor.safetensors + actor.json)."""
    reference: str = "aggressive@0.2"
    """The fixed reference opponent, ``style@skill`` (a novice fighter: every level can score)."""
    difficulties: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    """Difficulty levels to play at."""
    matches: int = 200
    """Matches per level (the same seeds at every level)."""
    seed: int = 0
    """Seed of the first match."""
    match_ticks: int = 900
    """Match length, ticks (900 = 30 s)."""
    threads: int = 1
    """Torch CPU threads."""
    blind: bool = False
    """Ablation: the network always sees d = 1; only the handicap follows the level."""
    hold_fire: float | None = None
    """Ablation: replace the actor's hold_fire chance (None keeps it)."""
    scramble_aim: float | None = None
    """Ablation: replace the actor's scramble_aim chance (None keeps it)."""
    slip_move: float | None = None
    """Ablation: replace the actor's slip_move chance (None keeps it)."""
