"""Record labelled play: scripted players in the arena, captured exactly as the client sends it.

``gameai train behaviour record`` runs :func:`record`, top to bottom:

1. :func:`plan_players`: for each split and style, players with their own seed. A seed fixes
   everything about a player: skill, style parameters, its enemies and its matches. Seeds of
   different splits never overlap, and a player (so every match it plays) lies in one split.
   ``train``/``val``/``test`` players draw style parameters from ``train_variation`` of every
   range; ``heldout`` players from outside it (each parameter at the low or the high end).
   ``calibration`` players are drawn like ``test`` players, in a recording of their own (the
   calibrate step's; a training recording has none).
2. :func:`record_players`: one arena per player, all stepped together by
   :class:`~demo_game.sim.scripted.ScriptedMatches`. Every ``round(tick_rate / sample_fps)`` ticks (at a
   per-player phase, as the client's frame counter is unrelated to the match; after a random
   warm-up, so that frames cover every phase of a match) the arena is drawn
   by the game's :class:`~demo_game.render.ArenaRenderer` at the demo's arena size (960x720) and
   downscaled by :func:`gameai.client.frames.downscale_frame`, the function the client plugin
   sends frames with. A finished match is replaced by a new one of the same player; frames of
   the "match over" screen are never captured (nothing moves on it).
3. :func:`write_split` / the manifest: ``<data_dir>/<split>.npz`` holds ``frames`` (F, H, W, 3)
   uint8 (compressed) and per frame ``player``, ``match``, ``tick``, ``label`` and
   ``player_xy`` (where the player is drawn in the frame: the target of the training's
   position loss; see :func:`frame_position`) and ``nearest_enemy_xy`` (where the living enemy
   nearest the player is drawn: the target of the near-enemy loss);
   ``manifest.json`` holds the config, class names, every player (seed, skill, style parameters,
   matches, outcomes), counts per split and class, and each file's SHA-256. While a split is
   recorded each frame is held compressed and streamed into the file
   (:mod:`gameai.training.behaviour.split_file`), so recording needs a fraction of the split's
   size in memory.

A window is K consecutive frames of one match of one player (see
:mod:`gameai.training.behaviour.dataset`), so windows never straddle two matches or splits.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from gameai.model_files import sha256_of
from gameai.training.behaviour.config import (
    CALIBRATION_SPLIT,
    SPLITS,
    BehaviourTrainConfig,
    RecordConfig,
    Split,
)
from gameai.training.behaviour.dataset import window_starts
from gameai.training.behaviour.split_file import CompressedFrames, FrameArray, write_npz
from gameai.vocabulary import BEHAVIOURS

MANIFEST_FILE: Final = "manifest.json"
FORMAT: Final = "gameai-behaviour-data"
FORMAT_VERSION: Final = 3
"""2: the splits hold ``player_xy``; 3: also ``nearest_enemy_xy`` (older recordings are
recorded again; their frames and ``player_xy`` are the same)."""
#: Seeds of split ``s`` start at ``seed * SEED_STRIDE + SPLIT_OFFSET[s]``.
SEED_STRIDE: Final = 10_000_000
SPLIT_OFFSET: Final[dict[str, int]] = {
    "train": 0,
    "val": 1_000_000,
    "test": 2_000_000,
    "heldout": 3_000_000,
    "calibration": 4_000_000,
}


@dataclass(frozen=True)
class PlayerPlan:
    """One recorded player: who plays, in which split, with what."""

    split: Split
    """The split every frame of this player goes to."""
    index: int
    """Index of the player within its split."""
    style: str
    """The style's name: the label."""
    seed: int
    """Seeds the player's skill, parameters, enemies, matches and capture phase."""
    skill: float
    """0 (weak) .. 1 (strong)."""
    n_enemies: int
    """Enemies per match."""
    params: npt.NDArray[np.float64]
    """(len(StyleParam),) the player's style parameters."""
    agent_enemies: bool = False
    """Whether the served agent drives this player's enemies (else the scripted enemy style)."""
    enemy_difficulty: float = 1.0
    """The agent's difficulty against this player (when ``agent_enemies``)."""

    @property
    def label(self) -> int:
        """Index of the style in :data:`gameai.vocabulary.BEHAVIOURS`."""
        return BEHAVIOURS.index(self.style)


def player_seed(config: RecordConfig, split: Split, index: int) -> int:
    """The seed of player ``index`` (counted over all styles) of ``split``."""
    if index >= SPLIT_OFFSET["val"]:
        raise ValueError("too many players in one split")
    return config.seed * SEED_STRIDE + SPLIT_OFFSET[split] + index


def _heldout_params(style: str, rng: np.random.Generator, skill: float, inner: tuple[float, float]) -> Any:
    """Style parameters with every parameter outside ``inner`` (its low or its high end, at random)."""
    from demo_game.sim.styles import N_PARAMS, style_params

    low = style_params(style, rng, skill=skill, variation=(0.0, inner[0]))
    high = style_params(style, rng, skill=skill, variation=(inner[1], 1.0))
    return np.where(rng.random(N_PARAMS) < 0.5, low, high)


def plan_players(config: RecordConfig, split: Split) -> list[PlayerPlan]:
    """The players of one split, styles interleaved (style ``i % 6`` for player ``i``).

    Args:
        config: How many players, which parameter ranges.
        split: Which split.

    Returns:
        ``config.players(split) * len(BEHAVIOURS)`` plans.
    """
    from demo_game.sim.styles import style_params

    plans = []
    for index in range(config.players(split) * len(BEHAVIOURS)):
        style = BEHAVIOURS[index % len(BEHAVIOURS)]
        seed = player_seed(config, split, index)
        rng = np.random.default_rng(seed)
        skill = float(rng.uniform(*config.skill_range))
        n_enemies = int(config.n_enemies[rng.integers(len(config.n_enemies))])
        if split == "heldout":
            params = _heldout_params(style, rng, skill, config.train_variation)
        else:
            params = style_params(style, rng, skill=skill, variation=config.train_variation)
        enemies_rng = np.random.default_rng([seed, 2])  # apart, so the draws above stay as they were
        agent_enemies = bool(config.enemy_agent) and bool(enemies_rng.random() < config.agent_enemy_share)
        difficulty = float(enemies_rng.uniform(0.0, 1.0))
        plans.append(
            PlayerPlan(split, index, style, seed, skill, n_enemies, params, agent_enemies, difficulty)
        )
    return plans


@dataclass
class RecordedPlayers:
    """Frames of a group of players, player-major."""

    frames: FrameArray
    """(P * F, H, W, 3) frames as the client would send them (an array, or each frame held
    compressed: :class:`~gameai.training.behaviour.split_file.CompressedFrames`)."""
    player: npt.NDArray[np.int32]
    """(P * F,) index of the player (within its split) of each frame."""
    match: npt.NDArray[np.int32]
    """(P * F,) the player's match number of each frame (0, 1, ...)."""
    tick: npt.NDArray[np.int32]
    """(P * F,) simulation tick of the match at each frame."""
    player_xy: npt.NDArray[np.float32]
    """(P * F, 2) where the player is in each frame (:func:`frame_position`); NaN while it is dead."""
    nearest_enemy_xy: npt.NDArray[np.float32]
    """(P * F, 2) where the living enemy nearest the player (in the world) is in each frame; NaN
    while the player is dead or no enemy lives."""
    outcomes: list[Counter[str]]
    """Per player: finished matches by outcome."""


def frame_position(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], config: RecordConfig
) -> npt.NDArray[np.float32]:
    """Where world points are drawn in a captured frame, in the keypoints' coordinates.

    The renderer draws a point at the arena pixel ``int(x * arena_width / ARENA_WIDTH)``;
    ``smoothscale`` maps arena pixels onto the frame's linearly. The result is the spatial
    softmax's scale (:class:`gameai.behaviour.model.SpatialSoftmax`): -1 at the centre of
    the first column (row), +1 at the centre of the last.

    Args:
        x, y: World coordinates, any shape.
        config: The frame and arena sizes.

    Returns:
        ``(..., 2)`` float32 (x, y).
    """
    from demo_game.sim.layouts import ARENA_HEIGHT, ARENA_WIDTH

    height, width = config.frame_size
    arena_width, arena_height = config.arena_size
    points = []
    axes = ((x, ARENA_WIDTH, arena_width, width), (y, ARENA_HEIGHT, arena_height, height))
    for value, world, arena, frame in axes:
        pixel = np.floor(np.asarray(value) * (arena / world)) + 0.5  # centre of the arena pixel drawn at
        column = pixel * (frame / arena) - 0.5  # in frame pixels, 0 at the first pixel's centre
        points.append(2.0 * column / (frame - 1) - 1.0)
    return np.stack(points, axis=-1).astype(np.float32)


def capture_every(config: RecordConfig, tick_rate: float) -> int:
    """Ticks between two captured frames: the client's ``round(game_fps / sample_fps)``."""
    return max(1, round(tick_rate / config.sample_fps))


Observer = Callable[[int, Any, np.ndarray], None]
"""Called with (position in ``plans``, the simulation state, the captured frame) at every capture."""


def empty_recording(config: RecordConfig, n_players: int, compressed: bool = False) -> RecordedPlayers:
    """Room for ``n_players`` players' frames (positions NaN until a frame is captured).

    ``compressed``: hold each frame compressed (:class:`CompressedFrames`, about 12x smaller)
    instead of in one array.
    """
    total = n_players * config.frames_per_player
    height, width = config.frame_size
    frames: FrameArray = (
        CompressedFrames(total, (height, width, 3))
        if compressed
        else np.zeros((total, height, width, 3), dtype=np.uint8)
    )
    return RecordedPlayers(
        frames=frames,
        player=np.zeros(total, dtype=np.int32),
        match=np.zeros(total, dtype=np.int32),
        tick=np.zeros(total, dtype=np.int32),
        player_xy=np.full((total, 2), np.nan, dtype=np.float32),
        nearest_enemy_xy=np.full((total, 2), np.nan, dtype=np.float32),
        outcomes=[Counter() for _ in range(n_players)],
    )


def record_players(
    config: RecordConfig,
    plans: list[PlayerPlan],
    observer: Observer | None = None,
    out: RecordedPlayers | None = None,
    slots: Sequence[int] | None = None,
) -> RecordedPlayers:
    """Play and capture ``config.frames_per_player`` frames of every player (all with one enemy count).

    Args:
        config: Frame size, rate and arena size.
        plans: The players; all must have the same ``n_enemies``.
        observer: Sees every capture as it happens (tests re-render the state with it).
        out: Where to put them (:func:`empty_recording`; default: a new one for ``plans``), so
            that a split's groups are captured straight into the split's arrays.
        slots: The position in ``out`` of each player of ``plans`` (default: 0, 1, ...).

    Returns:
        ``out``: the players' frames, player-major, player ``plans[i]`` at position ``slots[i]``.

    Raises:
        ValueError: If the plans mix enemy counts or there are none.
    """
    import pygame

    from demo_game.render import ArenaRenderer
    from demo_game.sim import ActorField, ArenaConfig, ArenaField, Outcome, key_from_generator
    from demo_game.sim.scripted import ScriptedMatches
    from demo_game.sim.styles import ENEMY_STYLE, style_params
    from gameai.client.frames import downscale_frame

    if not plans or len({p.n_enemies for p in plans}) != 1:
        raise ValueError("record_players needs players with one enemy count")
    n_players, per_player = len(plans), config.frames_per_player
    height, width = config.frame_size
    rngs = [np.random.default_rng([p.seed, 1]) for p in plans]  # matches and phase, apart from the params
    matches = ScriptedMatches(np.stack([p.params for p in plans]), ArenaConfig(n_enemies=plans[0].n_enemies))
    for actor in range(1, plans[0].n_enemies + 1):
        matches.set_style(actor, np.stack([style_params(ENEMY_STYLE, rng) for rng in rngs]))
    every = capture_every(config, matches.sim.config.rules.tick_rate)
    phase = np.array([rng.integers(every) for rng in rngs])
    tick_rate = matches.sim.config.rules.tick_rate
    warmup = np.array([int(rng.uniform(0.0, config.warmup_seconds) * tick_rate) for rng in rngs])
    matches.reset(np.array([key_from_generator(rng) for rng in rngs], dtype=np.uint64))

    drive_enemies = _agent_enemies(config, plans, frame_counter=lambda: frame_counter)

    renderer = ArenaRenderer(config.arena_size, rules=matches.sim.config.rules)
    surface = pygame.Surface(config.arena_size)
    if out is None:
        out = empty_recording(config, n_players)
    first_row = np.asarray(range(n_players) if slots is None else slots, dtype=np.int64) * per_player
    frames, match, tick = out.frames, out.match, out.tick
    player_xy, nearest_enemy_xy = out.player_xy, out.nearest_enemy_xy
    for start, plan in zip(first_row, plans, strict=True):
        out.player[start : start + per_player] = plan.index
    count = np.zeros(n_players, dtype=np.int64)
    match_number = np.zeros(n_players, dtype=np.int32)
    outcomes: list[Counter[str]] = [Counter() for _ in plans]
    arena = matches.sim.state.arena
    frame_counter = 0  # the client's frame counter: one game frame per tick
    while count.min() < per_player:
        running = arena[:, ArenaField.OUTCOME] == Outcome.RUNNING
        matches.step(drive_enemies)
        frame_counter += 1
        due = running & (frame_counter > warmup) & ((frame_counter + phase) % every == 0)
        due &= count < per_player
        for i in np.flatnonzero(due):
            row = first_row[i] + count[i]
            renderer.draw(surface, matches.sim.state, int(i))
            frames[row] = downscale_frame(surface, (width, height))
            if observer is not None:
                observer(int(i), matches.sim.state, frames[row])
            match[row] = match_number[i]
            tick[row] = int(arena[i, ArenaField.TICK])
            me, enemies = matches.sim.state.actors[i, 0], matches.sim.state.actors[i, 1:]
            if me[ActorField.ALIVE] > 0.5:
                player_xy[row] = frame_position(me[ActorField.X], me[ActorField.Y], config)
                living = enemies[enemies[:, ActorField.ALIVE] > 0.5]
                if len(living):
                    dx = living[:, ActorField.X] - me[ActorField.X]
                    dy = living[:, ActorField.Y] - me[ActorField.Y]
                    nearest = living[int(np.argmin(dx**2 + dy**2))]
                    nearest_enemy_xy[row] = frame_position(
                        nearest[ActorField.X], nearest[ActorField.Y], config
                    )
            count[i] += 1
        ended = arena[:, ArenaField.OUTCOME] != Outcome.RUNNING
        if ended.any():
            for i in np.flatnonzero(ended):
                outcomes[i][Outcome(int(arena[i, ArenaField.OUTCOME])).name.lower()] += 1
                match_number[i] += 1
            keys = np.array([key_from_generator(rng) for rng in rngs], dtype=np.uint64)
            matches.reset(keys, mask=ended)
    for start, outcome in zip(first_row, outcomes, strict=True):
        out.outcomes[int(start) // per_player] = outcome
    return out


def _agent_enemies(
    config: RecordConfig, plans: list[PlayerPlan], frame_counter: Callable[[], int]
) -> Callable[[Any], None] | None:
    """What drives the enemies of the players with ``agent_enemies``, as the demo does with the
    served agent: every ``NPC_DECISION_TICKS`` ticks each living enemy's observation goes
    through the actor at the player's difficulty, and that action is played until the next.

    Returns:
        A ``before_tick`` hook for :meth:`demo_game.sim.scripted.ScriptedMatches.step`, or None when no
        player faces the agent.
    """
    agent_arenas = np.array([p.agent_enemies for p in plans], dtype=np.bool_)
    if not agent_arenas.any():
        return None
    import torch

    from demo_game.sim import ActorField
    from demo_game.sim.actions import apply_actions
    from demo_game.sim.observation import OBSERVATION_SIZE, observe
    from demo_game.sim.rules import NPC_DECISION_TICKS
    from gameai.agents.actor import load_actor
    from gameai.paths import resolve_path

    actor_model = load_actor(resolve_path(config.enemy_agent))
    n_arenas, n_enemies = len(plans), plans[0].n_enemies
    difficulty = np.array([p.enemy_difficulty for p in plans])
    obs = np.zeros((n_arenas, OBSERVATION_SIZE), dtype=np.float32)
    actions = np.zeros((n_enemies + 1, n_arenas, 3), dtype=np.int64)
    decided = np.zeros((n_enemies + 1, n_arenas), dtype=np.bool_)
    no_noise = np.zeros(n_arenas)
    generator = torch.Generator().manual_seed(int(plans[0].seed))

    def drive(sim: Any) -> None:
        s = sim.state
        for actor in range(1, n_enemies + 1):
            alive = agent_arenas & (s.actors[:, actor, ActorField.ALIVE] > 0.5)
            if frame_counter() % NPC_DECISION_TICKS == 0 and alive.any():
                observe(actor, difficulty, obs, s.arena, s.actors, s.bullets, s.pickups, sim.rules, alive)
                with torch.inference_mode():
                    chosen = actor_model.net.act(
                        torch.from_numpy(obs[alive]),
                        torch.from_numpy(difficulty[alive]).float(),
                        generator,
                    )
                actions[actor, alive] = chosen.numpy()
                decided[actor, alive] = True
            driven = alive & decided[actor]  # before its first action an enemy plays its style
            if driven.any():
                scripted = sim.controls[:, actor].copy()
                apply_actions(actor, actions[actor], no_noise, sim.controls, s.arena, s.keys, s.actors)
                sim.controls[~driven, actor] = scripted[~driven]

    return drive


def record_split(config: RecordConfig, plans: list[PlayerPlan], compressed: bool = False) -> RecordedPlayers:
    """Record every player of a split (grouped by enemy count), in the order of their ``index``.

    Each group is captured straight into the split's arrays, so its frames are held once;
    ``compressed``: each frame held compressed (what :func:`record` writes from).
    """
    rank = {index: position for position, index in enumerate(sorted(p.index for p in plans))}
    out = empty_recording(config, len(plans), compressed)
    for n_enemies in sorted({p.n_enemies for p in plans}):
        group = [p for p in plans if p.n_enemies == n_enemies]
        record_players(config, group, out=out, slots=[rank[p.index] for p in group])
    return out


def write_split(path: Path, recorded: RecordedPlayers, plans: list[PlayerPlan]) -> None:
    """Write a split's frames and per-frame labels as a compressed npz (atomically; frames held
    compressed are streamed into it, never expanded all at once)."""
    labels = np.array([p.label for p in plans], dtype=np.int8)[recorded.player]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".tmp.npz")
    arrays = {
        "frames": recorded.frames,
        "player": recorded.player,
        "match": recorded.match,
        "tick": recorded.tick,
        "label": labels,
        "player_xy": recorded.player_xy,
        "nearest_enemy_xy": recorded.nearest_enemy_xy,
    }
    write_npz(tmp, arrays)
    os.replace(tmp, path)


def _player_entry(plan: PlayerPlan, outcomes: Counter[str]) -> dict[str, Any]:
    from demo_game.sim.styles import StyleParam

    return {
        "split": plan.split,
        "index": plan.index,
        "style": plan.style,
        "seed": plan.seed,
        "skill": round(plan.skill, 6),
        "n_enemies": plan.n_enemies,
        "enemies": "agent" if plan.agent_enemies else "scripted",
        "enemy_difficulty": round(plan.enemy_difficulty, 6) if plan.agent_enemies else None,
        "params": {p.name.lower(): round(float(plan.params[p]), 6) for p in StyleParam},
        "matches_finished": dict(sorted(outcomes.items())),
    }


def manifest_sha256(data_dir: Path | str) -> str:
    """SHA-256 of a recording's ``manifest.json`` (it holds every split file's SHA-256)."""
    return sha256_of(Path(data_dir) / MANIFEST_FILE)


def read_manifest(data_dir: Path | str) -> dict[str, Any]:
    """The manifest of a recording.

    Raises:
        FileNotFoundError: If there is no recording in ``data_dir``.
    """
    path = Path(data_dir) / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: run `gameai train behaviour record` first")
    manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return manifest


def record_config_of(config: RecordConfig) -> RecordConfig:
    """The recording options of a config (a subclass carries training options too)."""
    names = {f.name for f in dataclasses.fields(RecordConfig)}
    return RecordConfig(**{k: v for k, v in dataclasses.asdict(config).items() if k in names})


def training_recording(config: BehaviourTrainConfig) -> RecordConfig:
    """What the record step records: train, val, test and held-out players, no calibration ones."""
    return dataclasses.replace(record_config_of(config), calibration_players=0)


def calibration_recording(config: BehaviourTrainConfig) -> RecordConfig:
    """What the calibrate step records: only the calibration players, in ``calibration_dir``.

    Their seeds (split offset 4,000,000) are apart from every training recording's players;
    each plays ``calibration_frames_per_player`` frames.
    """
    return dataclasses.replace(
        record_config_of(config),
        data_dir=config.calibration_dir,
        frames_per_player=config.calibration_frames_per_player,
        train_players=0,
        val_players=0,
        test_players=0,
        heldout_players=0,
    )


def recorded_splits(config: RecordConfig) -> tuple[Split, ...]:
    """The splits that ``config`` has players in."""
    return tuple(s for s in (*SPLITS, CALIBRATION_SPLIT) if config.players(s) > 0)


def recording_matches(config: RecordConfig) -> bool:
    """Whether ``config.data_dir`` already holds a complete recording made with these options."""
    try:
        manifest = read_manifest(config.data_dir)
    except FileNotFoundError:
        return False
    config = record_config_of(config)
    wanted = json.loads(json.dumps(dataclasses.asdict(config)))
    wanted.pop("data_dir")
    recorded = dict(manifest.get("config", {}))
    recorded.pop("data_dir", None)
    recorded.setdefault("calibration_players", 0)  # recordings from before calibration splits had none
    if recorded != wanted or manifest.get("format_version") != FORMAT_VERSION:
        return False
    if set(manifest["splits"]) != set(recorded_splits(config)):
        return False
    return all(
        (Path(config.data_dir) / entry["file"]).is_file()
        and sha256_of(Path(config.data_dir) / entry["file"]) == entry["sha256"]
        for entry in manifest["splits"].values()
    )


def record(
    config: RecordConfig, splits: tuple[Split, ...] | None = None, force: bool = False
) -> dict[str, Any]:
    """Record the splits and write the manifest (see the module docstring).

    Args:
        config: What to record and where.
        splits: Which splits (default: every split ``config`` has players in; then a recording
            already in ``data_dir`` with the same options is kept).
        force: Record even if ``data_dir`` already holds a recording with these options.

    Returns:
        The manifest.
    """
    from tqdm import tqdm

    config = record_config_of(config)
    data_dir = Path(config.data_dir)
    if splits is None:
        if not force and recording_matches(config):
            return read_manifest(data_dir)
        splits = recorded_splits(config)
    started = time.perf_counter()
    players: list[dict[str, Any]] = []
    split_entries: dict[str, Any] = {}
    for split in tqdm(splits, desc="record", unit="split"):
        plans = plan_players(config, split)
        if not plans:
            continue
        recorded = record_split(config, plans, compressed=True)  # the split's frames held compressed
        path = data_dir / f"{split}.npz"
        write_split(path, recorded, plans)
        players += [_player_entry(p, o) for p, o in zip(plans, recorded.outcomes, strict=True)]
        per_style = Counter(plans[i].style for i in recorded.player)
        split_entries[split] = {
            "file": path.name,
            "sha256": sha256_of(path),
            "players": len(plans),
            "frames": len(recorded.frames),
            "matches": int(sum(len(np.unique(recorded.match[recorded.player == p.index])) for p in plans)),
            "frames_per_style": {style: per_style[style] for style in BEHAVIOURS},
            "seeds": [min(p.seed for p in plans), max(p.seed for p in plans)],
        }
    from demo_game.sim import ArenaRules

    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "config": json.loads(json.dumps(dataclasses.asdict(config))),
        "class_names": list(BEHAVIOURS),
        "capture": {
            "renderer": "demo_game.render.ArenaRenderer",
            "arena_size": list(config.arena_size),
            "downscale": "gameai.client.frames.downscale_frame",
            "frame_size": list(config.frame_size),
            "sample_fps": config.sample_fps,
            "capture_every_ticks": capture_every(config, ArenaRules().tick_rate),
        },
        "splits": split_entries,
        "players": players,
        "seconds": round(time.perf_counter() - started, 1),
    }
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, data_dir / MANIFEST_FILE)
    return manifest


def record_windows(
    seed: int, split: Split, players: int, frames_per_player: int, k: int, every: int
) -> tuple[np.ndarray, np.ndarray]:
    """Record ``players`` scripted players of ``split``'s style ranges at ``seed`` and cut their
    play into windows (fresh play for tests of a shipped model: a seed none of its recordings used).

    Args:
        seed: The recording's seed.
        split: ``test`` (the training styles' ranges) or ``heldout`` (ranges kept out of training).
        players: Players of the split.
        frames_per_player: Frames each plays.
        k: Frames per window.
        every: Keep every ``every``-th window (windows overlap by ``k - 1`` frames).

    Returns:
        ``(N, k, H, W, 3)`` uint8 windows and ``(N,)`` the index of each window's first frame.
    """
    config = RecordConfig(
        seed=seed,
        train_players=0,
        val_players=0,
        test_players=players if split == "test" else 0,
        heldout_players=players if split == "heldout" else 0,
        frames_per_player=frames_per_player,
    )
    recorded = record_split(config, plan_players(config, split))
    starts = window_starts(recorded.player, recorded.match, k)[::every]
    return np.asarray(recorded.frames[starts[:, None] + np.arange(k)]), starts
