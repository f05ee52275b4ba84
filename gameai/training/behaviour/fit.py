"""``gameai train behaviour fit``: train the behaviour CNN on a recording, top to bottom.

1. Load the ``train`` and ``val`` splits (:mod:`.dataset`; each frame held compressed, so a
   split takes a twelfth of its size in memory); windows of K frames of one match.
2. Start (pixel statistics from the training frames, a new :class:`BehaviourNet`, AdamW; with
   ``init_from``, an exported model's member instead: a fine-tune) or resume from
   ``<work_dir>/last`` (weights, AdamW moments, epoch, early-stopping counters).
3. Each epoch: ``windows_per_epoch`` training windows in an order fixed by ``(seed, epoch)``,
   half of them mirrored left-right; linear warm-up then cosine learning rate; cross-entropy.
   The keypoints architecture trains on clips of ``clip_frames`` frames: each frame is encoded
   once and every window of K frames inside the clip is an example (the same function as K
   frames through ``forward``; a test checks it), which makes an epoch several times cheaper.
4. After each epoch: loss, accuracy and macro-F1 on a fixed subset of ``val``; the network goes
   to ``<work_dir>/best`` when the validation loss is the lowest so far, and everything to
   ``<work_dir>/last``. Training stops after ``patience`` epochs without a lower validation loss.

TensorBoard scalars go to ``runs/behaviour__<seed>__<time>`` (``losses/``, ``eval/``, ``charts/``).
Kill it at any point and run the same command again: it resumes at the last finished epoch.
An ensemble (``ensemble_members``) is that, once per member, in turn (:func:`fit_ensemble`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

from gameai.behaviour.model import (
    BehaviourNet,
    BehaviourNetConfig,
    fine_keypoint_xy,
    load_behaviour_model,
    member_of,
)
from gameai.errors import StepOrderError
from gameai.runtime.device import select_device
from gameai.training.behaviour.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from gameai.training.behaviour.config import BehaviourTrainConfig
from gameai.training.behaviour.dataset import WindowDataset, evenly_spaced
from gameai.training.behaviour.metrics import classification_report, confusion_matrix
from gameai.training.behaviour.split_file import FrameArray
from gameai.training.behaviour.training_data import open_training_data


def pixel_statistics(frames: FrameArray, samples: int = 2048) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and standard deviation of pixels scaled to [0, 1], over evenly spaced frames."""
    chosen = frames[evenly_spaced(len(frames), samples)].reshape(-1, 3).astype(np.float64) / 255.0
    mean = tuple(round(float(v), 5) for v in chosen.mean(axis=0))
    std = tuple(round(float(max(v, 1e-3)), 5) for v in chosen.std(axis=0))
    return mean, std


def net_config(
    config: BehaviourTrainConfig, manifest: dict[str, Any], frames: FrameArray
) -> BehaviourNetConfig:
    """The network's config: shapes, rate and classes from the recording (or dataset), widths from options."""
    mean, std = pixel_statistics(frames)
    capture = manifest["capture"]
    return BehaviourNetConfig(
        frame_size=(int(capture["frame_size"][0]), int(capture["frame_size"][1])),
        frames_per_window=config.frames_per_window,
        class_names=tuple(manifest["class_names"]),
        sample_fps=float(capture["sample_fps"]),
        pixel_mean=(mean[0], mean[1], mean[2]),
        pixel_std=(std[0], std[1], std[2]),
        conv_channels=config.conv_channels,
        hidden=config.hidden,
        dropout=config.dropout,
        architecture=config.architecture,
        batch_norm=config.batch_norm,
        first_conv_stride=config.first_conv_stride,
        fine_keypoints=config.fine_keypoints,
        motion_features=config.motion_features,
        relative_motion=config.relative_motion,
        near_player_keypoints=config.near_player_keypoints,
    )  # mirror_average is a serving choice: export sets it (the fit validates single windows)


def fine_tune_start(
    config: BehaviourTrainConfig, recorded: BehaviourNetConfig, member_index: int
) -> tuple[BehaviourNet, dict[str, Any]]:
    """Member ``member_index`` of the exported model ``config.init_from``, to fit further.

    Args:
        config: The fit's options (``init_from`` and the keypoint losses asked).
        recorded: The config a new network would get from the recording (its classes and shapes).
        member_index: The ensemble member being fitted (the model's only network if it has one).

    Returns:
        The network (the model's shape and pixel statistics, that member's weights in float32)
        and where it came from: ``path``, ``version`` (the weights' content hash), ``member``.

    Raises:
        ModelLoadError: If the model is missing or corrupt.
        ValueError: If it is not a keypoints model, was made for other classes, frame size, rate or
            window length than the recording, or lacks the keypoints a loss asked for needs.
    """
    source = load_behaviour_model(config.init_from)
    model = source.config
    if model.architecture != "keypoints":
        raise ValueError(
            f"--init-from {config.init_from}: a {model.architecture} model; "
            "only keypoints models are fine-tuned"
        )
    for name in ("class_names", "frame_size", "sample_fps", "frames_per_window"):
        if getattr(model, name) != getattr(recorded, name):
            raise ValueError(
                f"--init-from {config.init_from} has {name} {getattr(model, name)}, the recording and "
                f"options {getattr(recorded, name)}: fine-tune it on play recorded as it was"
            )
    if (config.position_weight > 0 and model.fine_keypoints < 1) or (
        config.near_enemy_weight > 0 and model.near_player_keypoints < 1
    ):
        raise ValueError(
            f"--init-from {config.init_from} has {model.fine_keypoints} fine and "
            f"{model.near_player_keypoints} near-player keypoints: too few for the position or "
            "near-enemy loss asked (set its weight to 0)"
        )
    member = member_index % model.ensemble_members
    start = {"path": config.init_from, "version": source.version, "member": member}
    return member_of(source.net, member), start


def make_optimizer(net: torch.nn.Module, config: BehaviourTrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on kernels and weight matrices only."""
    params = [p for p in net.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr)


def learning_rate(step: int, total: int, config: BehaviourTrainConfig) -> float:
    """Linear warm-up to ``config.lr``, then cosine decay to 5% of it at ``total`` steps."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, total - config.warmup_steps))
    return config.lr * (0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress)))


def epoch_order(n_windows: int, count: int, seed: int, epoch: int) -> np.ndarray:
    """``count`` window indices for one epoch: a permutation fixed by (seed, epoch), repeated if short."""
    rng = np.random.default_rng([seed, epoch])
    repeats = -(-count // n_windows)
    return np.concatenate([rng.permutation(n_windows) for _ in range(repeats)])[:count]


def encode_split(
    net: BehaviourNet, data: WindowDataset, batch_size: int, device: torch.device
) -> torch.Tensor:
    """Keypoints ``(F, 4C)`` of every frame of a split, each frame encoded once.

    Frames go channels-first a batch at a time: a copy of the whole split at once would double
    the memory of a large one (the training split's frames are 4.6 GB).
    """
    parts = []
    for i in range(0, len(data.frames), batch_size):
        batch = np.ascontiguousarray(np.moveaxis(data.frames[i : i + batch_size], -1, 1))  # (B, 3, H, W)
        parts.append(net.encode_frames(torch.from_numpy(batch).to(device)))
    return torch.cat(parts)


@torch.no_grad()
def predict(
    net: BehaviourNet, data: WindowDataset, index: np.ndarray, batch_size: int, device: torch.device
) -> tuple[np.ndarray, float]:
    """Probabilities ``(N, n_classes)`` of windows ``index`` and their mean cross-entropy.

    The keypoints architecture encodes every frame of the split once and classifies the windows
    from those encodings; the Nature architecture runs each window through ``forward``.
    """
    was_training = net.training
    net.eval()
    encoded = encode_split(net, data, batch_size, device) if net.keypoint_net is not None else None
    offsets = torch.arange(data.k, device=device)
    probabilities, losses = [], []
    for start in range(0, len(index), batch_size):
        chosen = index[start : start + batch_size]
        labels = torch.from_numpy(data.window_labels[chosen]).to(device)
        if encoded is not None:
            starts = torch.from_numpy(data.starts[chosen]).to(device)
            logits = net.classify_encoded(encoded[starts[:, None] + offsets])  # (B, n_classes)
        else:
            x, _ = data.batch(chosen)
            logits = net(torch.from_numpy(x).to(device))  # (B, n_classes)
        losses.append(float(functional.cross_entropy(logits, labels, reduction="sum")))
        probabilities.append(torch.softmax(logits.float(), dim=1).cpu().numpy())
    net.train(was_training)
    return np.concatenate(probabilities), sum(losses) / max(len(index), 1)


def mirror_half(x: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Flip a random half of the examples (windows or clips; width is the last axis) left-right.

    Returns:
        The examples and ``(B,)`` which of them were flipped.
    """
    flip = rng.random(len(x)) < 0.5
    x = x.copy()
    x[flip] = x[flip][..., ::-1]
    return x, flip


def mirror_positions(positions: np.ndarray, flip: np.ndarray) -> np.ndarray:
    """``(B, L, 2)`` keypoint-scale positions of clips, with x negated in the flipped ones."""
    positions = positions.copy()
    positions[flip, :, 0] *= -1.0
    return positions


def position_pixels(mean_squared: float, net: BehaviourNet) -> float:
    """A mean :func:`position_loss` as a root mean squared distance in frame pixels."""
    return float(mean_squared) ** 0.5 * (net.config.frame_size[1] - 1) / 2


def position_loss(
    net: BehaviourNet, encoded: torch.Tensor, positions: torch.Tensor, index: int = 0
) -> torch.Tensor:
    """Mean squared distance between a keypoint and a target, over frames where the target is
    drawn (``positions`` is NaN elsewhere).

    Args:
        net: A keypoints network with fine keypoints.
        encoded: ``(N, 4C)`` frame encodings (x of every keypoint, then y, ...).
        positions: ``(N, 2)`` where the target is in each frame.
        index: The keypoint, counted from the first fine one (:func:`fine_keypoint_xy`): 0, the
            player's; ``fine_keypoints``, the first near-player keypoint.
    """
    predicted = fine_keypoint_xy(encoded, net.config, index)  # (N, 2)
    drawn = ~torch.isnan(positions[:, 0])
    if not bool(drawn.any()):
        return encoded.sum() * 0.0
    return ((predicted[drawn] - positions[drawn]) ** 2).sum(dim=1).mean()


@dataclasses.dataclass(frozen=True)
class KeypointTarget:
    """Where one keypoint should be in every frame of a batch of clips: a :func:`position_loss`."""

    index: int
    """The keypoint, counted from the first fine one (see :func:`position_loss`)."""
    positions: np.ndarray
    """``(B, L, 2)`` the target in every frame of the clips (NaN where it is not drawn)."""
    weight: float
    """Weight of this loss in the total."""


def clip_loss(
    net: BehaviourNet,
    clips: np.ndarray,
    labels: np.ndarray,
    k: int,
    device: torch.device,
    targets: Sequence[KeypointTarget] = (),
) -> tuple[torch.Tensor, list[float]]:
    """Mean cross-entropy over every window of K frames of every clip, plus the keypoints' losses.

    Args:
        net: A keypoints network.
        clips: ``(B, L, 3, H, W)`` uint8.
        labels: ``(B,)`` the class of each clip.
        k: Frames per window.
        device: Where the net is.
        targets: Keypoints taught where something is (the player, the nearest enemy).

    Returns:
        The loss to minimise and each target's :func:`position_loss`, unweighted.
    """
    b, length = clips.shape[:2]
    encoded = net.encode_frames(torch.from_numpy(clips).to(device).flatten(0, 1))  # (B*L, 4C)
    distances = [
        position_loss(net, encoded, torch.from_numpy(t.positions).to(device).flatten(0, 1), t.index)
        for t in targets
    ]
    encoded = encoded.view(b, length, -1)
    windows = encoded.unfold(1, k, 1).transpose(2, 3)  # (B, L-K+1, K, 4C)
    logits = net.classify_encoded(windows.flatten(0, 1))  # (B*(L-K+1), n_classes)
    classes = torch.from_numpy(labels).to(device).repeat_interleave(length - k + 1)
    loss = functional.cross_entropy(logits, classes)
    for target, distance in zip(targets, distances, strict=True):
        loss = loss + target.weight * distance
    return loss, [float(d.detach()) for d in distances]


def fit_ensemble(config: BehaviourTrainConfig) -> list[dict[str, Any]]:
    """Fit (or resume) every member of the ensemble in turn: :func:`fit` of ``config.member(m)``.

    Returns:
        Each member's final training state, member 0 first.
    """
    return [fit(config.member(index), index) for index in range(config.ensemble_members)]


def fit(config: BehaviourTrainConfig, member_index: int = 0) -> dict[str, Any]:
    """Train (or resume training) one behaviour CNN; see the module docstring.

    Args:
        config: Data location, network widths, optimisation and stopping options
            (``ensemble_members`` aside: this fits one network, into ``work_dir``;
            :func:`fit_ensemble` fits them all).
        member_index: Which ensemble member this is (with ``init_from``: the model's member it
            starts from).

    Returns:
        The final training state (epochs, losses, best epoch, timing).

    Raises:
        FileNotFoundError: If the data was not recorded (or ``dataset`` holds no dataset).
        StepOrderError: If the checkpoint to resume belongs to another recording.
        ValueError: If the dataset's train or val split has no player or no window.
    """
    if config.threads:
        torch.set_num_threads(config.threads)
    device = select_device(config.device)
    data = open_training_data(config.data_dir, config.dataset, config.split_shares)
    manifest = data.manifest()
    data_hash = data.manifest_sha256()
    # Each frame held compressed (read like an array): 4.6 GB of training frames take ~0.4 GB.
    train = data.split("train", config.frames_per_window)
    val = data.split("val", config.frames_per_window)
    needs = (("position_weight", config.position_weight, "player"),
             ("near_enemy_weight", config.near_enemy_weight, "nearest_enemy"))  # fmt: skip
    for option, weight, of in needs:
        if weight > 0 and train.positions(of) is None:
            raise ValueError(
                f"{option} needs {of.replace('_', ' ')} positions, which {config.data_dir} was recorded "
                "without: record it again (gameai train behaviour record)"
            )
    out = Path(config.work_dir)

    # --- start or resume ------------------------------------------------------------------
    resume = latest_checkpoint(out / "last")
    if resume is not None:
        net, optimizer, state = load_checkpoint(resume, lambda n: make_optimizer(n, config), device)
        if state.get("manifest_sha256") != data_hash:
            raise StepOrderError(f"{resume} was trained on another recording; delete {out} to start over")
    else:
        torch.manual_seed(config.seed)
        recorded = net_config(config, manifest, train.frames)
        init_from = None
        if config.init_from:
            net, init_from = fine_tune_start(config, recorded, member_index)
        else:
            net = BehaviourNet(recorded)
        net = net.to(device)
        optimizer = make_optimizer(net, config)
        state = {
            "init_from": init_from,
            "epoch": 0,
            "step": 0,
            "best_val_loss": None,
            "best_epoch": 0,
            "bad_epochs": 0,
            "done": False,
            "seconds": 0.0,
            "history": [],
            "manifest_sha256": data_hash,
            "run_name": f"behaviour__{config.seed}__{int(time.time())}",
            "config": json.loads(json.dumps(dataclasses.asdict(config))),
        }
    if state["bad_epochs"] >= config.patience or state["epoch"] >= config.max_epochs:
        return {**state, "done": True}

    writer = SummaryWriter(str(Path(config.runs_dir) / state["run_name"]))
    writer.add_text("config", json.dumps(dataclasses.asdict(config), indent=1))
    clips = net.keypoint_net is not None
    k, length = config.frames_per_window, config.clip_frames
    per_step = max(1, round(config.batch_size / (length - k + 1))) if clips else config.batch_size
    examples = train.clip_starts(length) if clips else train.starts  # clip starts or window starts
    if len(examples) == 0:
        raise ValueError(
            f"the train split of {data.location} has no run of clip_frames = {length} frames of one "
            "label to train on: label longer stretches of play, or lower --clip-frames"
        )
    windows_per_step = per_step * (length - k + 1) if clips else per_step
    steps_per_epoch = max(1, config.windows_per_epoch // windows_per_step)
    total_steps = steps_per_epoch * config.max_epochs
    val_index = evenly_spaced(len(val), config.val_windows)
    class_names = net.config.class_names
    # Keypoints taught where something is, by the name their error is logged under:
    # (what they find, for WindowDataset.clip_positions; the keypoint; the loss's weight).
    taught: dict[str, tuple[str, int, float]] = {}
    if config.position_weight > 0:
        taught["position"] = ("player", 0, config.position_weight)
    if config.near_enemy_weight > 0:
        taught["near_enemy"] = ("nearest_enemy", net.config.fine_keypoints, config.near_enemy_weight)
    net.train()

    # --- epochs -----------------------------------------------------------------------------
    for epoch in range(state["epoch"], config.max_epochs):
        started = time.perf_counter()
        torch.manual_seed(config.seed * 1000 + epoch)  # dropout: the same after a resume
        rng = np.random.default_rng([config.seed, epoch, 1])
        order = epoch_order(len(examples), steps_per_epoch * per_step, config.seed, epoch)
        progress = tqdm(range(steps_per_epoch), desc=f"epoch {epoch + 1}/{config.max_epochs}", leave=False)
        running_loss, epoch_loss = 0.0, 0.0
        running_distance = dict.fromkeys(taught, 0.0)  # each taught keypoint's mean squared distance
        epoch_distance = dict.fromkeys(taught, 0.0)
        for step in progress:
            global_step = epoch * steps_per_epoch + step
            lr = learning_rate(global_step, total_steps, config)
            for group in optimizer.param_groups:
                group["lr"] = lr
            chosen = order[step * per_step : (step + 1) * per_step]
            if clips:
                starts = examples[chosen]
                x, y = train.clips(starts, length)  # (B, L, 3, H, W)
                flipped = np.zeros(len(x), dtype=np.bool_)
                if config.flip:
                    x, flipped = mirror_half(x, rng)
                targets = [
                    KeypointTarget(i, mirror_positions(train.clip_positions(starts, length, of), flipped), w)
                    for of, i, w in taught.values()
                ]
                loss, distances = clip_loss(net, x, y, k, device, targets)
                for name, distance in zip(taught, distances, strict=True):
                    running_distance[name] += distance
                    epoch_distance[name] += distance
            else:
                x, y = train.batch(chosen)  # (B, K*3, H, W)
                x = mirror_half(x, rng)[0] if config.flip else x
                loss = functional.cross_entropy(
                    net(torch.from_numpy(x).to(device)), torch.from_numpy(y).to(device)
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            running_loss += float(loss.detach())
            epoch_loss += float(loss.detach())
            if (step + 1) % 20 == 0:
                writer.add_scalar("losses/train", running_loss / 20, global_step)
                writer.add_scalar("charts/learning_rate", lr, global_step)
                postfix = {"loss": f"{running_loss / 20:.3f}", "lr": f"{lr:.1e}"}
                for name in taught:
                    pixels = position_pixels(running_distance[name] / 20, net)
                    writer.add_scalar(f"losses/{name}_pixels", pixels, global_step)
                    postfix[f"{name}_px"] = f"{pixels:.2f}"
                    running_distance[name] = 0.0
                progress.set_postfix(postfix)
                running_loss = 0.0
        train_seconds = time.perf_counter() - started

        # --- validation, checkpoints, early stopping --------------------------------------------
        probabilities, val_loss = predict(net, val, val_index, 256, device)
        report = classification_report(
            confusion_matrix(val.window_labels[val_index], probabilities.argmax(axis=1), len(class_names)),
            class_names,
        )
        step_count = (epoch + 1) * steps_per_epoch
        writer.add_scalar("losses/val", val_loss, step_count)
        writer.add_scalar("eval/val_accuracy", report["accuracy"], step_count)
        writer.add_scalar("eval/val_macro_f1", report["macro_f1"], step_count)
        writer.add_scalar(
            "charts/windows_per_s", steps_per_epoch * windows_per_step / train_seconds, step_count
        )
        improved = state["best_val_loss"] is None or val_loss < state["best_val_loss"] - 1e-4
        state["history"].append(
            {
                "epoch": epoch + 1,
                "train_loss": round(epoch_loss / steps_per_epoch, 5),
                "val_loss": round(val_loss, 5),
                "val_accuracy": report["accuracy"],
                "val_macro_f1": report["macro_f1"],
                "seconds": round(time.perf_counter() - started, 1),
            }
            | {
                f"train_{name}_pixels": round(position_pixels(epoch_distance[name] / steps_per_epoch, net), 3)
                for name in taught
            }
        )
        state.update(
            epoch=epoch + 1,
            step=step_count,
            seconds=round(state["seconds"] + time.perf_counter() - started, 1),
            bad_epochs=0 if improved else state["bad_epochs"] + 1,
        )
        if improved:
            state.update(best_val_loss=round(val_loss, 5), best_epoch=epoch + 1, best_val=report)
            save_checkpoint(out / "best", net, None, state)
        state["done"] = state["bad_epochs"] >= config.patience or epoch + 1 == config.max_epochs
        save_checkpoint(out / "last", net, optimizer, state)
        tqdm.write(
            f"epoch {epoch + 1}: val loss {val_loss:.4f}, accuracy {report['accuracy']:.3f}, "
            f"macro-F1 {report['macro_f1']:.3f}" + (" (best)" if improved else "")
        )
        if state["done"]:
            break
    writer.close()
    return state
