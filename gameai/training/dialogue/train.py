"""Build the shipped dialogue model, top to bottom: corpus, tokenizer, pretrain, fine-tune, export.

``gameai train dialogue all`` runs every step below in order; each step can also run alone
(``gameai train dialogue STEP``) and picks up what earlier steps wrote:

1. ``corpus``    NPC cards, made up and shipped (``assets/dialogue/npcs.toml``), spoken in the
                 voices of ``assets/dialogue/voices`` (:mod:`~gameai.training.dialogue.corpus.generate`):
                 the training split into ``checkpoints/dialogue/corpus``, the held-out split and
                 the manifest into ``assets/dialogue/corpus``.
2. ``chat``      general conversation from the ``dialogue-data`` extra into ``data/dialogue``
                 (the tokenizer trains on it too); ``all`` runs it only with ``--pretrained-init``.
3. ``tokenizer`` byte-level BPE on both, into ``checkpoints/dialogue/tokenizer``.
4. ``pretrain``  the model on general conversation (``checkpoints/dialogue/pretrain``).
5. ``finetune``  on the NPC corpus, from scratch (``checkpoints/dialogue/finetune``); with
                 ``--pretrained-init`` from the pretrained weights, into ``finetune-pretrained``.
                 ``all`` pretrains only with ``--pretrained-init`` (it did not help: docs/dialogue.md).
6. ``export``    half-precision weights, tokenizer and ``gameai_dialogue.json`` into
                 ``assets/dialogue/model``.

Training steps write TensorBoard scalars under ``runs/dialogue__STAGE__SEED__TIME`` and a
checkpoint every ``checkpoint_every`` steps; run the same command again after a kill and it
resumes from the last checkpoint, batch for batch.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm
from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

from gameai.dialogue.hf_backend import MODEL_CARD_FILE
from gameai.dialogue.prompt import END
from gameai.dialogue.tokenizer import fact_marker_ids, load_tokenizer
from gameai.errors import StepOrderError
from gameai.model_files import sha256_of
from gameai.training.dialogue.checkpoint import (
    latest_checkpoint,
    read_state,
    restore_optimizer,
    save_checkpoint,
)
from gameai.training.dialogue.config import DialogueTrainConfig, Step
from gameai.training.dialogue.corpus.generate import build_corpus, read_jsonl
from gameai.training.dialogue.data import (
    BatchOrder,
    EncodedExample,
    collate,
    encode_examples,
    reply_loss,
    weighted_reply_loss,
)
from gameai.training.dialogue.model import build_model, count_parameters
from gameai.training.dialogue.tokenizer import train_tokenizer

# --- paths --------------------------------------------------------------------------------


def corpus_dir(config: DialogueTrainConfig) -> Path:
    """The held-out split and the manifest (shipped)."""
    return Path(config.assets_dir) / "corpus"


def train_corpus_dir(config: DialogueTrainConfig) -> Path:
    """The training split (large and reproducible: not shipped)."""
    return Path(config.work_dir) / "corpus"


def tokenizer_dir(config: DialogueTrainConfig) -> Path:
    return Path(config.work_dir) / "tokenizer"


def stage_dir(config: DialogueTrainConfig, stage: str) -> Path:
    """Checkpoint directory of ``pretrain`` or ``finetune`` (``finetune-pretrained`` from pretraining)."""
    if stage == "finetune" and config.pretrained_init:
        stage = "finetune-pretrained"
    return Path(config.work_dir) / stage


def pick_device(name: str) -> torch.device:
    """``auto`` -> cuda when present, else cpu; anything else as given."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


# --- steps 1-3: data ----------------------------------------------------------------------


def make_corpus(config: DialogueTrainConfig) -> dict[str, Any]:
    """Step 1: generate the NPC corpus."""
    return build_corpus(Path(config.assets_dir), train_corpus_dir(config), corpus_dir(config), config.corpus)


def make_chat(config: DialogueTrainConfig) -> dict[str, int]:
    """Step 2: general-conversation pairs (needs ``pip install -e '.[dialogue-data]'``)."""
    from gameai.training.dialogue.corpus.chat import build_chat_data

    try:
        return build_chat_data(Path(config.data_dir), seed=config.seed)
    except ModuleNotFoundError as exc:
        raise SystemExit(
            f"{exc.name} is missing: pretraining data comes from the dialogue-data extra; "
            "run `.venv/bin/pip install -e '.[dialogue-data]'`"
        ) from None


def npc_pairs(config: DialogueTrainConfig, split: str) -> list[tuple[str, str]]:
    """(prompt, reply) pairs of the NPC corpus split ``train`` or ``heldout``."""
    directory = train_corpus_dir(config) if split == "train" else corpus_dir(config)
    path = directory / f"{split}.jsonl.gz"
    if not path.exists():
        raise StepOrderError(f"{path} missing: run `gameai train dialogue corpus` first")
    return [(row["prompt"], row["reply"]) for row in read_jsonl(path)]


def chat_pairs(config: DialogueTrainConfig, split: str, limit: int | None = None) -> list[tuple[str, str]]:
    """(prompt, reply) pairs of the general-conversation split ``train`` or ``valid``."""
    path = Path(config.data_dir) / f"chat_{split}.jsonl.gz"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `gameai train dialogue chat` first")
    pairs: list[tuple[str, str]] = []
    for row in read_jsonl(path):
        if limit is not None and len(pairs) >= limit:
            break
        pairs.append((row["prompt"], row["reply"]))
    return pairs


def make_tokenizer(config: DialogueTrainConfig) -> PreTrainedTokenizerFast:
    """Step 3: train the tokenizer on the NPC corpus and (when present) general conversation.

    A tokenizer already trained on the same data is kept, so that ``all`` resumes safely.
    """
    sources = [train_corpus_dir(config) / "train.jsonl.gz", Path(config.data_dir) / "chat_train.jsonl.gz"]
    recipe = {
        "vocab_size": config.vocab_size,
        "chat_rows": config.chat_tokenizer_rows,
        "sha256": [sha256_of(p) if p.exists() else None for p in sources],
    }
    out = tokenizer_dir(config)
    recipe_file = out / "recipe.json"
    if recipe_file.exists() and json.loads(recipe_file.read_text()) == recipe:
        return load_tokenizer(out)
    pairs = npc_pairs(config, "train")
    if sources[1].exists():
        pairs += chat_pairs(config, "train", limit=config.chat_tokenizer_rows)
    tokenizer = train_tokenizer((prompt + reply + END for prompt, reply in pairs), config.vocab_size)
    tokenizer.save_pretrained(out)
    (out / "recipe.json").write_text(json.dumps(recipe, indent=1) + "\n")
    return tokenizer


# --- steps 4-5: training ------------------------------------------------------------------


def learning_rate(step: int, peak: float, config: DialogueTrainConfig, total: int) -> float:
    """Linear warm-up to ``peak``, then cosine decay to ``min_lr_fraction * peak`` at ``total``."""
    if step < config.warmup_steps:
        return peak * (step + 1) / config.warmup_steps
    progress = min(1.0, (step - config.warmup_steps) / max(1, total - config.warmup_steps))
    floor = config.min_lr_fraction * peak
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * progress))


def make_optimizer(model: torch.nn.Module, lr: float, weight_decay: float) -> torch.optim.AdamW:
    """AdamW with decay on matrices only (norm gains and nothing else are 1-D)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.95))


def train_stage(
    config: DialogueTrainConfig,
    stage: str,
    train_examples: list[EncodedExample],
    valid_examples: list[EncodedExample],
    init_from: Path | None,
    steps: int,
    peak_lr: float,
) -> dict[str, Any]:
    """Train one stage into :func:`stage_dir`, resuming from its checkpoint when there is one.

    Args:
        config: The run's config.
        stage: ``pretrain`` or ``finetune``.
        train_examples: Encoded training examples.
        valid_examples: Encoded validation examples (loss logged every ``eval_every`` steps).
        init_from: A model directory to start from; None initialises a new model.
        steps: Total optimisation steps of the stage.
        peak_lr: Peak learning rate.

    Returns:
        The final trainer state (step, losses, timing).
    """
    out = stage_dir(config, stage)
    device = pick_device(config.device)
    tokenizer = load_tokenizer(tokenizer_dir(config))
    resume = latest_checkpoint(out)
    if resume is not None:
        state = read_state(resume)
        state.pop("optimizer_param_groups", None)  # restored below, straight into the optimizer
        model = LlamaForCausalLM.from_pretrained(resume, local_files_only=True, dtype=torch.float32)
    else:
        state = {"step": 0, "run_name": f"dialogue__{out.name}__{config.seed}__{int(time.time())}"}
        if init_from is not None:
            model = LlamaForCausalLM.from_pretrained(init_from, local_files_only=True, dtype=torch.float32)
        else:
            torch.manual_seed(config.seed)
            model = build_model(config.model, len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)
    shape = asdict(config.model)
    recipe = (
        json.loads((tokenizer_dir(config) / "recipe.json").read_text())
        if (tokenizer_dir(config) / "recipe.json").exists()
        else None
    )
    differs = {
        "model shape": (state.get("model_shape", shape), shape),
        "tokenizer (the corpus changed)": (state.get("tokenizer_recipe", recipe), recipe),
        "decision weight": (state.get("decision_weight", 1.0), config.decision_weight),
    }
    what = next((name for name, (had, asked) in differs.items() if had != asked), None)
    if resume is not None and what is not None:
        had, asked = differs[what]
        raise StepOrderError(
            f"{out} holds a {'finished' if state.get('done') else 'started'} run with another {what} "
            f"(it has {had}, the config asks {asked}): move that directory away "
            "or give another --work-dir to train the new one"
        )
    state.update(model_shape=shape, tokenizer_recipe=recipe, decision_weight=config.decision_weight)
    if state.get("done"):
        return state
    model = model.to(device)  # type: ignore[arg-type]
    model.train()
    optimizer = make_optimizer(model, peak_lr, config.weight_decay)
    if resume is not None:
        restore_optimizer(resume, optimizer, device)
    order = BatchOrder(len(train_examples), config.batch_size, config.seed)
    decision_ids = fact_marker_ids(tokenizer)
    valid = valid_examples[: config.eval_examples]
    writer = SummaryWriter(str(Path(config.runs_dir) / state["run_name"]))
    writer.add_text("config", json.dumps(asdict(config), indent=1))
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")
    progress = tqdm(range(state["step"], steps), initial=state["step"], total=steps, desc=stage)
    tokens, clock = 0, time.perf_counter()
    for step in progress:
        lr = learning_rate(step, peak_lr, config, steps)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = collate(
            [train_examples[i] for i in order.indices(step)],
            tokenizer.pad_token_id,
            decision_ids,
            config.decision_weight,
        )
        batch = {k: v.to(device) for k, v in batch.items()}
        with autocast:
            logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
            loss = weighted_reply_loss(logits, batch["labels"], batch["weights"])
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        tokens += int(batch["attention_mask"].sum())
        state["train_loss"] = float(loss.detach())
        if step % 10 == 0:
            elapsed = time.perf_counter() - clock
            writer.add_scalar("losses/train", state["train_loss"], step)
            writer.add_scalar("charts/learning_rate", lr, step)
            writer.add_scalar("charts/grad_norm", float(grad_norm), step)
            writer.add_scalar("charts/tokens_per_s", tokens / max(elapsed, 1e-9), step)
            progress.set_postfix(loss=f"{state['train_loss']:.3f}", lr=f"{lr:.1e}")
        done = step + 1 == steps
        if (step + 1) % config.eval_every == 0 or done:
            state["valid_loss"] = reply_loss(model, valid, tokenizer.pad_token_id, config.batch_size, device)
            writer.add_scalar("eval/loss", state["valid_loss"], step)
            writer.add_scalar("eval/perplexity", math.exp(state["valid_loss"]), step)
        if (step + 1) % config.checkpoint_every == 0 or done:
            state.update(step=step + 1, done=done)
            state["seconds"] = state.get("seconds", 0.0) + time.perf_counter() - clock
            tokens, clock = 0, time.perf_counter()
            save_checkpoint(out, model, tokenizer, optimizer, state)
    writer.close()
    return state


def pretrain(config: DialogueTrainConfig) -> dict[str, Any]:
    """Step 4: pretrain on general conversation."""
    tokenizer = load_tokenizer(tokenizer_dir(config))
    train = encode_examples(tokenizer, chat_pairs(config, "train"), config.block_size)
    valid = encode_examples(
        tokenizer, chat_pairs(config, "valid", limit=config.eval_examples), config.block_size
    )
    return train_stage(config, "pretrain", train, valid, None, config.pretrain_steps, config.pretrain_lr)


def finetune(config: DialogueTrainConfig) -> dict[str, Any]:
    """Step 5: fine-tune on the NPC corpus (from the pretrained weights unless disabled)."""
    tokenizer = load_tokenizer(tokenizer_dir(config))
    train = encode_examples(tokenizer, npc_pairs(config, "train"), config.block_size)
    heldout = npc_pairs(config, "heldout")
    np.random.default_rng(config.seed).shuffle(heldout)
    valid = encode_examples(tokenizer, heldout[: config.eval_examples], config.block_size)
    init_from = None
    if config.pretrained_init:
        init_from = stage_dir(config, "pretrain")
        if not read_state(init_from).get("done"):
            raise StepOrderError(f"{init_from} is not finished: run `gameai train dialogue pretrain` first")
    return train_stage(config, "finetune", train, valid, init_from, config.finetune_steps, config.finetune_lr)


# --- step 6: export -----------------------------------------------------------------------


def export(config: DialogueTrainConfig, source: Path | None = None) -> Path:
    """Step 6: write the shipped model directory (weights, tokenizer, :data:`MODEL_CARD_FILE`).

    Returns:
        The model directory, ``ASSETS_DIR/model``.
    """
    source = source or stage_dir(config, "finetune")
    state = read_state(source)
    if not state.get("done"):
        raise StepOrderError(f"{source} is not finished: run `gameai train dialogue finetune` first")
    dtype = getattr(torch, config.export_dtype)
    model = LlamaForCausalLM.from_pretrained(source, local_files_only=True, dtype=torch.float32)
    tokenizer = load_tokenizer(source)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out = Path(config.assets_dir) / "model"
    shutil.rmtree(out, ignore_errors=True)
    model.to(dtype).save_pretrained(out)
    tokenizer.save_pretrained(out)
    pretrain_state = stage_dir(config, "pretrain")
    card = {
        "format": 1,
        "eos_token": END,
        "prompt": "gameai.dialogue.prompt.format_prompt",
        "name": "gameai-npc-llama",
        "serve_dtype": "float32",
        "weights_dtype": config.export_dtype,
        "parameters": count_parameters(model),
        "corpus_sha256": json.loads((corpus_dir(config) / "manifest.json").read_text())["sha256"],
        "weights_sha256": sha256_of(out / "model.safetensors"),
        "config": asdict(config),
        "training": {
            "finetune": {k: state.get(k) for k in ("step", "train_loss", "valid_loss", "seconds")},
            "pretrain": (
                {
                    k: read_state(pretrain_state).get(k)
                    for k in ("step", "train_loss", "valid_loss", "seconds")
                }
                if config.pretrained_init and latest_checkpoint(pretrain_state)
                else None
            ),
        },
    }
    (out / MODEL_CARD_FILE).write_text(json.dumps(card, indent=1) + "\n")
    return out


def run(config: DialogueTrainConfig, step: Step) -> None:
    """Run one step of the module docstring, or all of them in order."""
    if config.threads:
        torch.set_num_threads(config.threads)
    steps: dict[str, Any] = {
        "corpus": make_corpus,
        "chat": make_chat,
        "tokenizer": make_tokenizer,
        "pretrain": pretrain,
        "finetune": finetune,
        "export": export,
    }
    for name in steps if step == "all" else [step]:
        if step == "all" and name in ("chat", "pretrain") and not config.pretrained_init:
            continue
        started = time.perf_counter()
        result = steps[name](config)
        shown = (
            "train",
            "valid",
            "step",
            "train_loss",
            "valid_loss",
            "seconds",
            "train_examples",
            "heldout_examples",
        )
        summary = {k: v for k, v in result.items() if k in shown} if isinstance(result, dict) else {}
        print(f"[{name}] done in {time.perf_counter() - started:.0f} s" + (f": {summary}" if summary else ""))
