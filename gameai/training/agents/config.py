"""Config of ``gameai train agent`` (no heavy imports here: the CLI builds its options from it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Step = Literal["all", "learn", "ppo", "export", "rate"]
"""A step of :mod:`gameai.training.agents.train` (``learn`` trains with ``--algo``; ``ppo`` is its
older name, for PPO only; ``rate``: the steps after export, the arena's Elo table)."""

Algorithm = Literal["ppo", "a2c", "dqn", "sac", "td3"]
"""The Stable-Baselines3 algorithms ``gameai train agent --algo`` trains with."""

ALL_STYLES: tuple[str, ...] = ("aggressive", "explorer", "collector", "evasive", "idle", "bot_like")
"""The scripted player styles (``demo_game.sim.styles.STYLES``), repeated here to keep torch-free imports."""


@dataclass(frozen=True)
class AgentTrainConfig:
    """Everything ``gameai train agent`` needs; the defaults build the shipped ``arena`` agent.

    The algorithm's hyperparameters (``num_envs``, ``total_timesteps``, ``n_steps`` ... ``hidden_sizes``,
    ``normalize``) default to None: their values then come from the hyperparameter files
    (:mod:`gameai.training.agents.hyperparams`: algorithm defaults < the shipped file's entry for
    the env < ``--hyperparams FILE`` < these options when given). The checkpoint and output fields
    apply to every environment; the arena's own fields (observation type, opponents, self-play,
    handicap, matches, evaluation and rating) only to ``env="arena"``; a Gymnasium environment
    evaluates ``eval_matches`` episodes every ``eval_every`` steps.
    """

    env: str = "arena"
    """Which environment: a registered name (arena) or any registered Gymnasium id (e.g. CartPole-v1)."""
    algo: Algorithm = "ppo"
    """SB3 algorithm: ppo, a2c (any action space), dqn (Discrete), sac, td3 (Box); the arena: ppo."""
    hyperparams: str | None = None
    """TOML file of hyperparameters keyed by env id (RL Zoo style); overrides the shipped file's entry."""
    exp_name: str | None = None
    """Experiment name, in the run name ``{env}__{exp}__{seed}__{time}`` and the checkpoint folder; None:
    ``{algo}_{name}`` for a registered env (``ppo_arena``), ``{algo}`` for a Gymnasium id; a name given
    without the algorithm in front gets ``{algo}_`` put before it."""
    obs_type: Literal["vector", "pixels"] = "vector"
    """``vector``: gameai/Arena-v0 with an MLP; ``pixels``: gameai/ArenaPixels-v0 with the arena CNN."""
    seed: int = 1
    """Seed of the envs, the network and the self-play pool."""
    total_timesteps: int | None = None
    """Env steps (all envs together) to train for (``n_timesteps``); more than a finished run's extends it."""
    num_envs: int | None = None
    """Envs stepped together (``n_envs``; the arena: 128, self-play arenas included)."""
    n_steps: int | None = None
    """PPO/A2C: steps per env per rollout (a rollout holds num_envs x n_steps decisions)."""
    batch_size: int | None = None
    """Minibatch size of the updates (PPO, DQN, SAC, TD3)."""
    n_epochs: int | None = None
    """PPO: passes over each rollout."""
    learning_rate: float | None = None
    """Adam learning rate (at the start, when annealed)."""
    anneal_lr: bool | None = None
    """Decay the learning rate linearly to 0 over total_timesteps (a file's ``lin_<rate>``)."""
    gamma: float | None = None
    """Discount per decision (the arena: 0.995, 15 decisions per game second)."""
    gae_lambda: float | None = None
    """PPO/A2C: GAE lambda."""
    clip_range: float | None = None
    """PPO: clipping of the policy ratio."""
    ent_coef: float | None = None
    """PPO/A2C: entropy bonus weight."""
    vf_coef: float | None = None
    """PPO/A2C: value loss weight."""
    max_grad_norm: float | None = None
    """Gradient clipping norm (PPO, A2C, DQN)."""
    hidden_sizes: tuple[int, ...] | None = None
    """Hidden layers of each network (``policy_kwargs.net_arch``; pixels: after the CNN)."""
    normalize: bool | None = None
    """VecNormalize the observations (and the rewards, unless the file says norm_reward = false)."""
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
    served_handicap: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 0.8)
    """The arena actor's handicap when served (hold_fire, scramble_aim, slip_move, freeze at d = 0):
    the beginner handicap, which reaches further down than the training chances (at d = 0 the agent
    never shoots, wanders and stands still 80% of its decisions; d = 1 is unchanged). The
    behaviour model is recorded against the served agent, so a change here means recording and
    fitting it again (docs/difficulty.md, Serving and adaptation)."""
    random_action: float = 0.5
    """Handicap (a Gymnasium env's served actor): chance at difficulty 0 that each element of the served
    action is replaced by a random valid one; scaled by 1 - difficulty."""
    freeze: float = 0.0
    """Handicap (a Gymnasium env's served actor; the arena's is served_handicap's last value): chance at
    difficulty 0 that the served action is idle_action; scaled by 1 - difficulty."""
    idle_action: tuple[float, ...] | None = None
    """The action a frozen Gymnasium env agent plays, one valid value per element (e.g. 1 0); None: 0
    in every element."""
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
    """Torch device: auto = cuda when present (every policy), else cpu; or cpu, cuda, cuda:1..."""
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
        "rusher@0",
        "kiter@0",
        "rusher@0.33",
        "kiter@0.33",
        "rusher@0.67",
        "kiter@0.67",
        "rusher@1",
        "kiter@1",
    )
    """Simulated players, ``behaviour@skill``, weakest first: independent players
    (``gameai.training.agents.skilled_players``: rusher, kiter) or scripted styles (``aggressive@0.2``)."""
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
    range_difficulties: tuple[float, ...] = (0.0, 1.0)
    """Fixed difficulties each player also meets in-process (the agent's range: does it cover the player?)."""
    range_matches: int = 40
    """Matches per player and range difficulty (0: no range columns)."""


@dataclass(frozen=True)
class EvalAgentConfig:
    """Options of ``gameai eval agent``.

    Without ``env`` (and for an agent trained on the arena) the agent plays ``matches`` arena
    matches per level against ``reference``; with ``env`` (or an agent whose ``actor.json``
    metadata names a non-arena ``env_id``) it plays ``episodes`` episodes of that Gymnasium
    environment per level and the report is the return's mean and spread. ``reference``,
    ``matches`` and ``match_ticks`` are the arena's; ``episodes`` the environment's; the others
    apply to both.
    """

    agent_dir: str = "assets/agents/arena"
    """The exported agent (actor.safetensors + actor.json)."""
    env: str | None = None
    """A registered Gymnasium id (``module:Id-v0`` imports ``module`` first) to play episodes of
    instead of arena matches (None: the agent's own ``env_id`` when it is not the arena's, else the arena)."""
    episodes: int = 20
    """With an environment: episodes per level (episode i is seeded ``seed + i`` at every level)."""
    reference: str = "aggressive@0.2"
    """The fixed reference opponent, ``style@skill`` (a novice fighter: every level can score)."""
    difficulties: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    """Difficulty levels to play at."""
    matches: int = 200
    """Matches per level (the same seeds at every level)."""
    seed: int = 0
    """Seed of the first match or episode (and of the handicap's draws)."""
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
    freeze: float | None = None
    """Ablation: replace the actor's freeze chance (None keeps it)."""
    random_action: float | None = None
    """Ablation: replace the actor's random_action chance (None keeps it)."""
    idle_action: tuple[float, ...] | None = None
    """Ablation: replace the action a frozen actor plays (None keeps it)."""

    def __post_init__(self) -> None:
        if self.episodes < 1:
            raise ValueError(f"--episodes must be >= 1, got {self.episodes}")
