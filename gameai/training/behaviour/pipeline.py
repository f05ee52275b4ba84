"""``gameai train behaviour STEP``: run one step, or ``all`` of them in order (record, fit, export,
look, calibrate, eval; each resumes or skips work already done: a recording with the same options
is kept, a finished fit is not redone). With ``--dataset``: fit, export, look, calibrate and eval
on that dataset (no record; calibrate only where it has accusation classes)."""

from __future__ import annotations

import time
from typing import Any

from gameai.training.behaviour.config import BehaviourEvalConfig, BehaviourTrainConfig, Step


def eval_config(config: BehaviourTrainConfig) -> BehaviourEvalConfig:
    """The evaluation of the exported model that ``all`` runs (its figures go into its metadata)."""
    return BehaviourEvalConfig(
        model_dir=config.assets_dir,
        data_dir=config.data_dir,
        dataset=config.dataset,
        device=config.device,
        threads=config.threads,
        write_metadata=True,
    )


def run(config: BehaviourTrainConfig, step: Step) -> dict[str, Any]:
    """Run ``step`` (``all``: record, fit, export, look, calibrate, eval) and return a summary per step run.

    ``all`` calibrates before it evaluates, so that the figures it stores are of what a server
    sends by default (which holds ``bot_like`` back by the calibration).

    Args:
        config: The options.
        step: Which step.

    Returns:
        ``{step: {"seconds": ..., ...}}`` for every step run.

    Raises:
        ValueError: If ``record`` or ``import`` is asked with a dataset (``import`` has a command of
            its own: :func:`gameai.training.behaviour.importing.import_sessions`).
    """
    from gameai.training.behaviour.calibrate import calibrate
    from gameai.training.behaviour.dataset_splits import dataset_defaults
    from gameai.training.behaviour.evaluate import evaluate
    from gameai.training.behaviour.export import export
    from gameai.training.behaviour.fit import fit_ensemble
    from gameai.training.behaviour.look_step import look
    from gameai.training.behaviour.record import record, training_recording

    if config.dataset and step == "record":
        raise ValueError(
            "record plays the arena; a dataset is filled by a game's own players (gameai.behaviour.dataset), "
            "a server's recording or `gameai train behaviour import`"
        )
    if step == "import":
        raise ValueError("import runs through `gameai train behaviour import` (its own options)")
    config = dataset_defaults(config)
    steps: tuple[str, ...] = (
        ("record", "fit", "export", "look", "calibrate", "eval") if step == "all" else (step,)
    )
    if config.dataset and step == "all":
        steps = steps[1:]
    summary: dict[str, Any] = {}
    for name in steps:
        started = time.perf_counter()
        if name == "record":
            manifest = record(training_recording(config))
            result: dict[str, Any] = {
                split: {"players": entry["players"], "frames": entry["frames"]}
                for split, entry in manifest["splits"].items()
            }
        elif name == "fit":
            states = fit_ensemble(config)
            keys = ("epoch", "best_epoch", "best_val_loss", "done")
            result = {"members": [{k: state[k] for k in keys} for state in states]}
        elif name == "export":
            metadata = export(config)
            result = {"weights_dtype": metadata["weights_dtype"], "export_check": metadata["export_check"]}
        elif name == "look":
            figures = look(config)
            keys = ("threshold", "own_unknown_share", "other_unknown_share", "separated")
            result = {key: figures[key] for key in keys}
        elif name == "calibrate":
            calibration = calibrate(config)
            keys = ("min_probability", "precision", "precision_low", "recall")
            if config.dataset:  # class -> table (none without accusation classes)
                result = {label: [{k: row[k] for k in keys} for row in table["rows"]]
                          for label, table in calibration.items()}  # fmt: skip
            else:
                result = {"rows": [{k: row[k] for k in keys} for row in calibration["rows"]]}
        else:
            report = evaluate(eval_config(config))
            result = {"goals": report["goals"]}
            if config.dataset:
                result = {
                    f"{split}_{view}_macro_f1": entry[view]["macro_f1"]
                    for split, entry in report["splits"].items()
                    for view in ("window", "served")
                }
        result["seconds"] = round(time.perf_counter() - started, 1)
        summary[name] = result
        print(f"[{name}] {result}", flush=True)
    return summary
