"""``gameai train behaviour export``: the best checkpoint -> the shipped model in ``assets/behaviour``
(a dataset's: ``assets/<game_id>/behaviour``, with ``game_id``, ``accusation_classes`` and
``dataset``, its path, manifest SHA-256 and split shares, in the metadata).

The weights are stored in ``export_dtype`` (float16 by default: half the bytes) and served in
float32 (the loader casts them). Before writing, the stored weights are checked against the
float32 ones on validation windows: the share of windows whose label is unchanged and the
largest probability difference go into the metadata, beside the training-data manifest hash,
the training history and the options that made the model. ``eval`` adds its figures after.
``mirror_average`` is taken from the export's options, not the checkpoint: it changes how
the model is served, not its weights. With ``ensemble_members`` above 1 the members' best
checkpoints (see :meth:`BehaviourTrainConfig.member`) are joined into one network
(:func:`gameai.behaviour.model.ensemble_of`); ``training`` in the metadata lists every member.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gameai.behaviour.model import BehaviourNet, ensemble_of, load_behaviour_model, save_behaviour_model
from gameai.errors import StepOrderError
from gameai.training.behaviour.checkpoint import latest_checkpoint, read_state
from gameai.training.behaviour.config import BehaviourTrainConfig
from gameai.training.behaviour.dataset import evenly_spaced
from gameai.training.behaviour.fit import predict
from gameai.training.behaviour.training_data import open_training_data


def stored_copy(net: BehaviourNet, dtype: torch.dtype) -> BehaviourNet:
    """The network as it will be served after storing its weights in ``dtype``: rounded, back in float32."""
    rounded = copy.deepcopy(net)
    with torch.no_grad():
        for tensor in rounded.state_dict().values():
            if tensor.is_floating_point():
                tensor.copy_(tensor.to(dtype).to(tensor.dtype))
    return rounded


def export(config: BehaviourTrainConfig) -> dict[str, Any]:
    """Write the shipped model (see the module docstring).

    Returns:
        The metadata written into ``config.json``.

    Raises:
        StepOrderError: If a member has no training run in its work directory, or was trained on
            another recording.
    """
    device = torch.device("cpu")
    data = open_training_data(config.data_dir, config.dataset, config.split_shares)
    data_hash = data.manifest_sha256()
    members: list[BehaviourNet] = []
    training: list[dict[str, Any]] = []
    for member_index in range(config.ensemble_members):
        member = config.member(member_index)
        work = Path(member.work_dir)
        last = latest_checkpoint(work / "last")
        if last is None or not (work / "best" / "model.safetensors").is_file():
            raise StepOrderError(f"no trained model in {work}: run `gameai train behaviour fit` first")
        state = read_state(last)
        if state.get("manifest_sha256") != data_hash:
            raise StepOrderError(f"{work} was trained on another recording than {data.location}")
        members.append(load_behaviour_model(work / "best", device).net)
        training.append(
            {
                "seed": state["config"]["seed"],
                "init_from": state.get("init_from"),
                "epochs": state["epoch"],
                "best_epoch": state["best_epoch"],
                "best_val_loss": state["best_val_loss"],
                "seconds": state["seconds"],
                "stopped_early": state["epoch"] < config.max_epochs,
                "history": state["history"],
            }
        )
    manifest = data.manifest()
    net = ensemble_of(members, mirror_average=config.mirror_average)
    dtype = getattr(torch, config.export_dtype)
    stored = stored_copy(net, dtype)
    val = data.split("val", net.config.frames_per_window)
    index = evenly_spaced(len(val), config.val_windows)
    full, _ = predict(net, val, index, 256, device)
    rounded, _ = predict(stored, val, index, 256, device)
    metadata: dict[str, Any] = {
        "trained_by": "gameai train behaviour",
        "data_manifest_sha256": data_hash,
        "data": {
            split: {k: entry[k] for k in ("players", "sessions", "frames", "matches", "seeds") if k in entry}
            for split, entry in manifest["splits"].items()
        },
        "capture": manifest["capture"],
        "parameters": sum(p.numel() for p in net.parameters()),
        "weights_dtype": config.export_dtype,
        "export_check": {
            "windows": len(index),
            "same_label_share": round(float(np.mean(full.argmax(1) == rounded.argmax(1))), 5),
            "max_probability_difference": round(float(np.abs(full - rounded).max()), 6),
        },
        "training": training,
        "options": json.loads(json.dumps(dataclasses.asdict(config))),
    }
    if data.dataset is not None:  # a game's own model: which game, which dataset, how it was split
        metadata["game_id"] = manifest["game_id"]
        metadata["accusation_classes"] = manifest["accusation_classes"]
        metadata["dataset"] = {
            "path": manifest["dataset"]["path"],
            "manifest_sha256": manifest["dataset"]["manifest_sha256"],
            "split_shares": manifest["split_shares"],
        }
    out = Path(config.assets_dir)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    save_behaviour_model(tmp, copy.deepcopy(net).to(dtype), metadata)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return metadata
