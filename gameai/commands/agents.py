"""``gameai agents import|export-onnx|list|handicap``: the served agents as files.

See :mod:`gameai.training.agents.importing`, :mod:`gameai.training.agents.onnx_export` and
:mod:`gameai.training.agents.handicap`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from gameai.commands.command_line import CommandLine
from gameai.config_args import add_config_arguments, config_from_args


def register(cli: CommandLine) -> None:
    """Add ``gameai agents import``, ``export-onnx``, ``list`` and ``handicap``."""
    from gameai.training.agents.deploy_config import ExportOnnxConfig, HandicapConfig, ImportAgentConfig

    parser = cli.group_command(
        "agents",
        "import",
        "serve a policy trained with plain Stable-Baselines3 (its zip is read without unpickling)",
        run_import,
    )
    parser.add_argument("zip", help="the SB3 model zip (PPO, A2C, DQN, SAC, TD3 or DDPG, MLP policy)")
    add_config_arguments(parser, ImportAgentConfig)
    parser = cli.group_command("agents", "export-onnx", "write a served agent as an ONNX file", run_export)
    parser.add_argument("name", help="the agent (its folder under --agents-dir)")
    add_config_arguments(parser, ExportOnnxConfig)
    parser = cli.group_command("agents", "list", "the served agents: action space, inputs, origin", run_list)
    parser.add_argument("--agents-dir", default="assets/agents", help="where served agents live")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser = cli.group_command(
        "agents",
        "handicap",
        "change how an exported agent is weakened below difficulty 1 (actor.json only, no retraining)",
        run_handicap,
    )
    parser.add_argument("agent_dir", help="the agent's folder (actor.safetensors + actor.json)")
    add_config_arguments(parser, HandicapConfig)


def run_import(args: argparse.Namespace) -> int:
    """Import the zip; print where the agent went and what it plays."""
    from gameai.agents.actor import load_actor
    from gameai.training.agents.deploy_config import ImportAgentConfig
    from gameai.training.agents.importing import import_zip

    directory = import_zip(args.zip, config_from_args(ImportAgentConfig, args))
    actor = load_actor(directory)
    print(f"imported {args.zip} -> {directory}: {_describe(actor.config)}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the ONNX file; print its path."""
    from gameai.paths import resolve_path
    from gameai.training.agents.deploy_config import ExportOnnxConfig
    from gameai.training.agents.onnx_export import export_onnx

    config = config_from_args(ExportOnnxConfig, args)
    agent_dir = resolve_path(config.agents_dir) / args.name
    if not (agent_dir / "actor.json").is_file():
        raise FileNotFoundError(f"no agent {args.name!r} in {resolve_path(config.agents_dir)}")
    output = Path(config.output or f"exports/{args.name}.onnx")
    print(f"wrote {export_onnx(agent_dir, output)}")
    return 0


def run_handicap(args: argparse.Namespace) -> int:
    """Rewrite the agent's handicap; print it before and after."""
    from gameai.training.agents.deploy_config import HandicapConfig
    from gameai.training.agents.handicap import set_handicap

    before, after = set_handicap(args.agent_dir, config_from_args(HandicapConfig, args))
    print(f"{args.agent_dir}: handicap {_handicap(before)} -> {_handicap(after)}")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """One line per agent folder (or JSON); a folder that does not load says why."""
    from gameai.agents.actor import load_actor
    from gameai.model_files import ModelLoadError, config_to_dict
    from gameai.paths import resolve_path

    root = resolve_path(args.agents_dir)
    rows: list[dict[str, object]] = []
    for directory in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
        try:
            actor = load_actor(directory)
        except ModelLoadError as exc:
            rows.append({"name": directory.name, "error": str(exc)})
            continue
        origin = actor.metadata.get("imported_from") or actor.metadata.get("env_id") or ""
        rows.append(
            {
                "name": actor.name,
                "describe": _describe(actor.config),
                "origin": origin,
                "config": config_to_dict(actor.config),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        print(f"{row['name']:<16} {row.get('error') or row['describe']}  {row.get('origin', '')}".rstrip())
    if not rows:
        print(f"no agents in {root}")
    return 0


def _describe(config: object) -> str:
    """``Discrete(2) from 4 values, no difficulty input, handicap random_action 0.5``."""
    from gameai.agents.actor import ActorConfig

    assert isinstance(config, ActorConfig)
    if config.action_space == "Box":
        assert config.action_low is not None and config.action_high is not None
        bounds = ", ".join(
            f"[{lo:g}, {hi:g}]" for lo, hi in zip(config.action_low, config.action_high, strict=True)
        )
        action = f"Box({bounds})"
    elif config.action_space == "MultiBinary":
        action = f"MultiBinary({len(config.action_nvec)})"
    else:
        action = f"{config.action_space}({', '.join(str(n) for n in config.action_nvec)})"
    difficulty = (
        f"difficulty in feature {config.difficulty_index}"
        if config.difficulty_input
        else "no difficulty input"
    )
    return f"{action} from {config.obs_dim} values, {difficulty}, handicap {_handicap(config)}" + (
        ", VecNormalize folded in" if config.obs_mean is not None else ""
    )


def _handicap(config: object) -> str:
    """``random_action 0.5, freeze 0.9 (idle [1, 0])``, or ``none``."""
    from gameai.agents.actor import ActorConfig

    assert isinstance(config, ActorConfig)
    chances = [f"{name} {getattr(config, name):g}" for name in config.handicap_in_use]
    if config.freeze > 0.0:
        chances[-1] += f" (idle {list(config.idle)})"
    return ", ".join(chances) or "none"
