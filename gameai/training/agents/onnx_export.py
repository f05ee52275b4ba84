"""``gameai agents export-onnx``: a served actor as an ONNX file, to run inside a built game.

The ONNX graph is the actor's deterministic choice (:meth:`~gameai.agents.actor.ActorNet.choose`):

* inputs: ``observation`` ``(batch, obs_dim)`` float32, and ``difficulty`` ``(batch,)``
  float32 in [0, 1] only when the actor has a difficulty input (it is written into the
  observation's difficulty feature, as the server does);
* outputs: ``action`` ``(batch, action_dim)`` (int64 for discrete actions, float32 within the
  bounds for Box) and ``outputs``, the head's raw values (logits, Q-values or Box means).

VecNormalize statistics are inside the graph. The handicap (random draws below difficulty 1,
``docs/agents.md``) is not: a game that wants the served agent's weaker play applies it to
``action`` itself with the chances in the file's metadata (``gameai_actor_config``: ``random_action``,
``freeze`` and its ``idle_action``, ``hold_fire``...), in the served order
(:meth:`~gameai.agents.actor.ActorNet.act`).

Needs the ``onnx`` extra (``pip install 'gameai[onnx]'``: onnx, onnxscript, onnxruntime).
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path

import torch
from torch import nn

from gameai.agents.actor import ActorNet, load_actor
from gameai.model_files import config_to_dict

OPSET = 18
"""ONNX opset written (onnxruntime >= 1.14, Unity Sentis and Godot's runtime read it)."""


class _Choice(nn.Module):
    """The actor's choice with named outputs, for the exporter."""

    def __init__(self, net: ActorNet) -> None:
        super().__init__()
        self.net = net

    def forward(
        self, observation: torch.Tensor, difficulty: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return self.net.choose(observation, difficulty), self.net(observation, difficulty)


def export_onnx(agent_dir: Path | str, output: Path | str) -> Path:
    """Write the agent in ``agent_dir`` as an ONNX file.

    Args:
        agent_dir: A served agent (``actor.safetensors`` + ``actor.json``).
        output: The ``.onnx`` file to write (its folder is created).

    Returns:
        The file written.

    Raises:
        ValueError: If the ONNX exporter's packages are not installed (one line, with the command).
        gameai.model_files.ModelLoadError: If the agent cannot be loaded.
    """
    try:
        import onnx
        import onnxscript  # noqa: F401 - torch's exporter needs it
    except ImportError as exc:
        raise ValueError(f"ONNX export needs the onnx extra: pip install 'gameai[onnx]' ({exc})") from None
    actor = load_actor(agent_dir)
    config = actor.config
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    example: tuple[torch.Tensor, ...] = (torch.zeros(2, config.obs_dim),)
    names = ["observation"]
    if config.difficulty_input:
        example += (torch.ones(2),)
        names.append("difficulty")
    batch = torch.export.Dim("batch")
    shapes = {"observation": {0: batch}, **({"difficulty": {0: batch}} if config.difficulty_input else {})}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            _Choice(actor.net),
            example,
            input_names=names,
            output_names=["action", "outputs"],
            dynamic_shapes=shapes,
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    assert program is not None
    model = program.model_proto
    metadata = {
        "gameai_agent": actor.name,
        "gameai_actor_config": json.dumps(config_to_dict(config)),
        "gameai_weights_version": actor.version,
    }
    for key, value in metadata.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(model, str(output))
    return output
