"""Options of ``gameai train behaviour`` and ``gameai eval behaviour`` (no heavy imports here)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import PurePath
from typing import Final, Literal

Step = Literal["all", "record", "fit", "export", "look", "eval", "calibrate", "import"]
"""A step of ``gameai train behaviour``; ``all`` runs record, fit, export, calibrate and eval in order
(with ``--dataset``: fit, export, calibrate and eval); ``import`` fills a dataset from files."""

Split = Literal["train", "val", "test", "heldout", "calibration"]
"""A split of the recorded data: ``test`` has new seeds, ``heldout`` new style-parameter ranges,
``calibration`` new seeds again (drawn like ``test``; recorded apart by the calibrate step)."""

SPLITS: Final[tuple[Split, ...]] = ("train", "val", "test", "heldout")
"""The splits of a training recording."""
CALIBRATION_SPLIT: Final = "calibration"

DatasetSplit = Literal["train", "val", "test", "calibration"]
"""A split of a behaviour dataset's players (:mod:`gameai.training.behaviour.dataset_splits`):
``test`` players are what ``eval`` reports, ``calibration`` players what ``calibrate`` measures."""

DATASET_SPLITS: Final[tuple[DatasetSplit, ...]] = ("train", "val", "test", "calibration")
"""The splits of a behaviour dataset, in the order of :attr:`BehaviourTrainConfig.split_shares`."""

ALL_PLAYERS_SPLIT: Final = "all"
"""What ``gameai eval behaviour --dataset DIR --splits all`` evaluates: every player of the
dataset, whatever its split (a dataset of fresh players recorded apart from the training one)."""

DEFAULT_SPLIT_SHARES: Final = (0.7, 0.1, 0.1, 0.1)
"""A dataset's players' shares of the train, val, test and calibration splits, by default."""

#: The demo's arena surface in pixels (``demo_game.app.ARENA_SIZE``; a test keeps them equal).
DEMO_ARENA_SIZE: Final = (960, 720)


@dataclass(frozen=True)
class RecordConfig:
    """What ``gameai train behaviour record`` plays and how it captures frames."""

    data_dir: str = "data/behaviour"
    """Where the splits (``<split>.npz``) and ``manifest.json`` are written."""
    seed: int = 0
    """Base seed: player ``i`` of split ``s`` has seed ``seed * 10**7 + offset(s) + i``."""
    train_players: int = 600
    """Players per style in the train split (one arena each, fresh seed each)."""
    val_players: int = 32
    """Players per style in the validation split (early stopping)."""
    test_players: int = 24
    """Players per style in the test split (new seeds, same style-parameter ranges)."""
    heldout_players: int = 24
    """Players per style in the held-out split (new seeds, style parameters outside the trained ranges)."""
    calibration_players: int = 0
    """Players per style in the calibration split (new seeds, drawn like the test split's): what
    the server's ``bot_like`` minimum is chosen on. A training recording has none; the
    calibrate step records them apart (``BehaviourTrainConfig.calibration_dir``)."""
    frames_per_player: int = 60
    """Frames captured per player (at ``sample_fps``: 60 frames = 12 s of play)."""
    warmup_seconds: float = 30.0
    """Each player first plays a random 0..warmup_seconds of game time uncaptured, so that
    frames cover every phase of a match rather than mostly its start."""
    frame_size: tuple[int, int] = (84, 84)
    """(height, width) of the stored frames: what the client sends."""
    sample_fps: float = 5.0
    """Frames captured per second of game time: the rate the client sends at."""
    arena_size: tuple[int, int] = DEMO_ARENA_SIZE
    """(width, height) the arena is rendered at before downscaling: the demo's arena surface."""
    n_enemies: tuple[int, ...] = (2,)
    """Enemies per match; players are spread over these counts."""
    skill_range: tuple[float, float] = (0.0, 1.0)
    """Each player's skill is drawn uniformly from this range."""
    enemy_agent: str = "assets/agents/arena"
    """The served agent (an ``assets/agents/<name>`` directory) that drives the enemies of
    ``agent_enemy_share`` of the players, as ``gameai serve`` drives them in the demo; empty:
    scripted enemies only. Its actions are chosen every 2 ticks (the demo's rate)."""
    agent_enemy_share: float = 0.5
    """Share of players whose enemies the agent drives (at a difficulty drawn uniformly in
    [0, 1] per player); the others face the scripted enemy style."""
    train_variation: tuple[float, float] = (0.1, 0.9)
    """Sub-range (fractions) of every style-parameter range that train, val and test players are
    drawn from; held-out players draw every parameter from outside it (either end, at random)."""

    def __post_init__(self) -> None:
        for name in (
            "train_players",
            "val_players",
            "test_players",
            "heldout_players",
            "calibration_players",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.frames_per_player < 1 or self.sample_fps <= 0 or self.warmup_seconds < 0:
            raise ValueError("frames_per_player must be >= 1, sample_fps > 0 and warmup_seconds >= 0")
        if not 0.0 <= self.agent_enemy_share <= 1.0:
            raise ValueError(f"agent_enemy_share must be in [0, 1], got {self.agent_enemy_share}")
        low, high = self.train_variation
        if not 0.0 < low <= high < 1.0:
            raise ValueError(
                f"train_variation must leave both ends of [0, 1] out, got {self.train_variation}"
            )

    def players(self, split: Split) -> int:
        """Players per style in ``split``."""
        count: int = getattr(self, f"{split}_players")
        return count


@dataclass(frozen=True)
class BehaviourTrainConfig(RecordConfig):
    """Everything ``gameai train behaviour`` needs; the defaults build the shipped model."""

    work_dir: str = "checkpoints/behaviour"
    """Training checkpoints (``last/`` every epoch, ``best/`` at the lowest validation loss)."""
    runs_dir: str = "runs"
    """TensorBoard logs (``runs/behaviour__<seed>__<time>``)."""
    assets_dir: str = "assets/behaviour"
    """Where the exported model goes (``model.safetensors``, ``config.json``, ``confusion.png``).
    With ``dataset``, this default means ``assets/<game_id>/behaviour`` (the models directory's
    entry of the dataset's game)."""
    dataset: str = ""
    """A behaviour dataset directory (:mod:`gameai.behaviour.dataset`) to train on, with its
    game's classes, instead of the arena recording in ``data_dir`` (empty: the arena). Its players
    are split by ``split_shares``; there are no player positions, so ``position_weight`` and
    ``near_enemy_weight`` are 0, and the default ``work_dir`` means
    ``checkpoints/behaviour-<game_id>``. ``record`` does not apply; ``import`` writes into it."""
    split_shares: tuple[float, ...] = DEFAULT_SPLIT_SHARES
    """With ``dataset``: the shares of its players in the train, val, test and calibration splits.
    A player's split follows from a hash of its id alone (``docs/behaviour-your-game.md``, *Your game,
    your labels*), so it never changes as the dataset grows."""
    look_exemplars: int = 128
    """How many of the game's frames the exported model's frame look keeps as exemplars (the
    ``look`` step: ``docs/behaviour-guards.md``, *Unknown*); a game whose look varies more needs more."""
    calibration_dir: str = "data/behaviour-calibration"
    """Where the calibrate step records its players (a recording of its own, so the training
    recording in ``data_dir`` stays as it is)."""
    calibration_players: int = 200
    """Players per style the calibrate step plays (new seeds, drawn like the test split's) to
    measure the ``bot_like`` precision at each minimum probability the server can hold that
    label to (``gameai serve --behaviour-bot-like-min-precision``). Too few players make the
    chosen minimums miss the precision on other players (``docs/log/behaviour.md``). The
    training recording (``record``) has none."""
    calibration_frames_per_player: int = 300
    """Frames each calibration player plays (at ``sample_fps``: 300 is a minute), so the
    calibration measures every age of a session the server holds ``bot_like`` to its own
    minimum for (the first 5 s to more than 30 s)."""
    device: str = "auto"
    """Torch device; ``auto`` picks cuda when present, else cpu."""
    threads: int = 0
    """CPU threads for torch (0 keeps torch's default; 1 on a machine shared with other training)."""
    frames_per_window: int = 16
    """K: consecutive frames per classified window (16 at 5 fps: 3 s of play)."""
    architecture: Literal["nature", "keypoints"] = "keypoints"
    """The CNN (see :class:`gameai.behaviour.model.BehaviourNetConfig`)."""
    conv_channels: tuple[int, int, int] = (16, 32, 32)
    """Output channels of the three conv layers (Nature DQN: 32, 64, 64)."""
    batch_norm: bool = True
    """Keypoints architecture: batch normalisation in the per-frame conv stack."""
    first_conv_stride: int = 4
    """Keypoints architecture: stride of the first conv (4: 21x21 keypoint maps; 2: 42x42, finer
    but 2-3x the serving cost and about 6x the fit time; see ``docs/log/behaviour.md``)."""
    fine_keypoints: int = 4
    """Keypoints architecture: extra keypoint maps at the frames' full resolution (0: none; see
    :attr:`gameai.behaviour.model.BehaviourNetConfig.fine_keypoints`)."""
    motion_features: bool = True
    """Keypoints architecture: per-step speed and 8-way heading features in the head (see
    :attr:`gameai.behaviour.model.BehaviourNetConfig.motion_features`)."""
    relative_motion: bool = True
    """Keypoints architecture: each keypoint's motion relative to the player's keypoint in the
    head (see :attr:`gameai.behaviour.model.BehaviourNetConfig.relative_motion`; needs
    ``fine_keypoints >= 1``)."""
    near_player_keypoints: int = 2
    """Keypoints architecture: extra full-resolution keypoints pulled towards the player's, to
    find the enemy nearest the player (see
    :attr:`gameai.behaviour.model.BehaviourNetConfig.near_player_keypoints`; needs
    ``fine_keypoints >= 1``; 0: none). Two per network: they make a single fit better on every
    evaluation set for a small part of its serving cost (``docs/log/behaviour.md``)."""
    position_weight: float = 10.0
    """Keypoints architecture: weight of the position loss, the squared distance between the
    first fine keypoint and where the recording drew the player (its ``player_xy``), added to
    the cross-entropy. Labels alone do not teach the net where the player is, and the player's
    own motion is what tells a bot from a person (``docs/log/behaviour.md``); 0: off. Needs
    ``fine_keypoints >= 1``.

    The nature architecture has no keypoints: with it, this and the other keypoint options
    are set to 0 / off (``ensemble_members`` to 1)."""
    near_enemy_weight: float = 0.0
    """Keypoints architecture: weight of the near-enemy loss, the squared distance between the
    first near-player keypoint and where the recording drew the living enemy nearest the player
    (its ``nearest_enemy_xy``, format 3), added like the position loss, so that keypoint is
    taught which enemy to find. Off by default: it helps a single network, but an ensemble of
    two fitted with it was no better than the shipped one (``docs/log/behaviour.md``); 0: off.
    Needs ``near_player_keypoints >= 1``."""
    hidden: int = 256
    """Width of the fully connected layer (Nature DQN: 512)."""
    dropout: float = 0.2
    """Dropout before the output layer while training."""
    batch_size: int = 160
    """Windows per optimisation step (keypoints: whole clips, about this many windows)."""
    clip_frames: int = 24
    """Keypoints architecture: frames encoded together in training; every window of K frames
    inside such a clip is a training example, so each frame is encoded once, not K times."""
    lr: float = 1e-3
    """Peak AdamW learning rate (cosine decay over max_epochs)."""
    weight_decay: float = 1e-4
    """AdamW weight decay on weight matrices and kernels."""
    max_epochs: int = 30
    """Most epochs (the cosine learning-rate decay spans them)."""
    windows_per_epoch: int = 32768
    """Training windows drawn per epoch (without replacement within an epoch)."""
    patience: int = 10
    """Stop after this many epochs without a lower validation loss. The validation loss can
    stall for several epochs while the learning rate is high and reach its best late in the
    schedule, so a short patience stops too early (``docs/log/behaviour.md``)."""
    val_windows: int = 4096
    """Validation windows scored after every epoch (a fixed evenly spaced subset)."""
    flip: bool = True
    """Mirror half of the training windows left-right (the game's rules do not care)."""
    mirror_average: bool = False
    """Serve every window as it is and mirrored, averaging the two logits (see
    :attr:`gameai.behaviour.model.BehaviourNetConfig.mirror_average`): about 1.8x the
    per-frame cost, which on 2 cores takes the served ensemble past issue 3's latency goal for
    no clear gain, so it is off (``docs/log/behaviour.md``). A serving choice:
    ``export`` writes it into the model's config (the fit validates single windows), so a
    trained model can be exported either way."""
    ensemble_members: int = 2
    """Keypoints architecture: networks fitted apart and served as one, the mean of their logits
    (:attr:`gameai.behaviour.model.BehaviourNetConfig.ensemble_members`). Member ``m`` is
    fitted with seed ``seed + m`` in ``work_dir`` (``m = 0``) or ``work_dir/member<m>``;
    ``fit`` fits them in turn (each resumes on its own), ``export`` joins their best
    checkpoints. Each member adds one network's fit time and per-frame serving cost. Members
    fitted apart disagree on the harder windows, so their mean beats either alone (the
    comparisons behind two: ``docs/log/behaviour.md``); 1: a single network."""
    warmup_steps: int = 100
    """Linear learning-rate warm-up, optimisation steps."""
    init_from: str = ""
    """An exported behaviour model (a directory such as ``assets/behaviour``) to start the fit from
    instead of new weights: a fine-tune. Member ``m`` starts from the model's member ``m`` (from its
    only network if it has one), with the model's shape and pixel statistics (the width options are
    then the model's); the recording's classes, frame size, rate and ``frames_per_window`` must be
    the model's. Meant for play that changed a little (the shipped model after the served agent's
    handicap changed), with a lower ``lr`` and fewer ``max_epochs``; empty: new weights."""
    export_dtype: Literal["float16", "bfloat16", "float32"] = "float16"
    """Storage dtype of the shipped weights (served in float32)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.dataset:  # no player positions in a dataset (see dataset)
            object.__setattr__(self, "position_weight", 0.0)
            object.__setattr__(self, "near_enemy_weight", 0.0)
        shares = self.split_shares
        if len(shares) != len(DATASET_SPLITS) or min(shares) < 0 or abs(sum(shares) - 1.0) > 1e-6:
            raise ValueError(
                f"split_shares needs {len(DATASET_SPLITS)} shares >= 0 summing to 1, got {shares}"
            )
        if shares[0] <= 0 or shares[1] <= 0:
            raise ValueError(f"split_shares must give the train and val splits a share, got {shares}")
        if self.architecture == "nature":  # keypoint options mean nothing there (see position_weight)
            object.__setattr__(self, "fine_keypoints", 0)
            object.__setattr__(self, "motion_features", False)
            object.__setattr__(self, "relative_motion", False)
            object.__setattr__(self, "near_player_keypoints", 0)
            object.__setattr__(self, "position_weight", 0.0)
            object.__setattr__(self, "near_enemy_weight", 0.0)
            object.__setattr__(self, "ensemble_members", 1)
        if self.frames_per_window < 1 or self.batch_size < 1 or self.max_epochs < 1:
            raise ValueError("frames_per_window, batch_size and max_epochs must be >= 1")
        if not self.frames_per_window <= self.clip_frames <= self.frames_per_player:
            raise ValueError("need frames_per_window <= clip_frames <= frames_per_player")
        if self.calibration_frames_per_player < self.frames_per_window:
            raise ValueError("need calibration_frames_per_player >= frames_per_window")
        if self.position_weight < 0 or (self.position_weight > 0 and self.fine_keypoints < 1):
            raise ValueError("position_weight must be >= 0, and > 0 needs fine_keypoints >= 1")
        if self.near_enemy_weight < 0 or (self.near_enemy_weight > 0 and self.near_player_keypoints < 1):
            raise ValueError("near_enemy_weight must be >= 0, and > 0 needs near_player_keypoints >= 1")
        if not 1 <= self.ensemble_members <= 16:
            raise ValueError(f"ensemble_members must be in [1, 16], got {self.ensemble_members}")

    def member(self, index: int) -> BehaviourTrainConfig:
        """The options that fit ensemble member ``index``: seed ``seed + index``, its own work directory."""
        if not 0 <= index < self.ensemble_members:
            raise ValueError(f"member {index} of an ensemble of {self.ensemble_members}")
        work_dir = self.work_dir if index == 0 else str(PurePath(self.work_dir) / f"member{index}")
        return replace(self, seed=self.seed + index, work_dir=work_dir, ensemble_members=1)


@dataclass(frozen=True)
class BehaviourEvalConfig:
    """Options of ``gameai eval behaviour``."""

    model_dir: str = "assets/behaviour"
    """The model to evaluate (serving format)."""
    data_dir: str = "data/behaviour"
    """Recorded data (``gameai train behaviour record``)."""
    dataset: str = ""
    """A behaviour dataset directory to evaluate on instead of ``data_dir`` (its players split
    as the model's training split them: the shares in its metadata). With it, the default
    ``model_dir`` means ``assets/<game_id>/behaviour``."""
    splits: tuple[str, ...] = ("test", "heldout")
    """Splits to evaluate. A dataset has ``train``, ``val``, ``test`` and ``calibration``: there,
    the default means ``test`` (players no training step has seen), and ``all`` means every
    player (for a dataset of fresh players recorded apart from the one the model was made from)."""
    output_dir: str = ""
    """Where ``eval.json`` and ``confusion_<split>.png`` go (empty: the model directory)."""
    device: str = "auto"
    """Torch device; ``auto`` picks cuda when present, else cpu."""
    threads: int = 0
    """CPU threads for torch (0 keeps torch's default)."""
    batch_size: int = 256
    """Windows per inference batch."""
    write_metadata: bool = False
    """Also store the figures in the model's ``config.json`` metadata (the export does this)."""
    bot_like_min_probability: float = 0.0
    """Score the served view as ``gameai serve --behaviour-bot-like-min-probability`` this would
    send it (0: as the server does by default)."""
    bot_like_min_precision: float | None = None
    """Score the served view as ``gameai serve --behaviour-bot-like-min-precision`` this would
    send it: with the ``bot_like`` minimum the model's calibration gives for this precision at
    each age of a session. Unset: as the server does by default (0.97 where the model's
    calibration reaches it, else no minimum); 0: no minimum."""


@dataclass(frozen=True)
class ImportConfig:
    """What ``gameai train behaviour import`` reads, and the dataset it fills (``--dataset``)."""

    source_dir: str = ""
    """(``--from``) A folder with one entry per session: a folder of images (PNG or JPEG, in
    name order) or a video file (needs a decoder: ``pip install 'gameai[video]'``). The entry's
    name, less any extension, is the session id the labels file names."""
    labels: str = ""
    """The labels file, CSV or JSON: rows of session, player, label and a range, in seconds
    (``from_s``, ``to_s``) or in the source's frames (``from_frame``, ``to_frame``); see
    ``docs/behaviour-your-game.md``, *Your game, your labels*."""
    dataset: str = ""
    """The dataset directory written (created, or added to when it exists with the same metadata)."""
    game_id: str = ""
    """The game's id (a new dataset needs it; an existing one's must match)."""
    classes: tuple[str, ...] = ()
    """The dataset's classes, in order (default: an existing dataset's, else the labels file's
    in the order they first appear)."""
    accusation_classes: tuple[str, ...] = ()
    """Classes a game may act against a player on (default: an existing dataset's, else none)."""
    fps: float = 0.0
    """Frames per second of the dataset: sessions are resampled to it (0: an existing
    dataset's, else 5)."""
    size: str = ""
    """``HxW`` frame size of the dataset, frames downscaled to it by
    ``gameai.client.frames.downscale_frame`` (empty: an existing dataset's, else 84x84)."""
    source_fps: float = 0.0
    """Frames per second of the image folders (0: the dataset's rate); videos carry their own."""
