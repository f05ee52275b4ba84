"""Small random-initialised models in the real serving formats, for tests and benchmarks.

They are the real classes (BehaviourNet, ActorNet, a transformers GPT-2 or Llama with a
tokenizer trained on the fly by ``tokenizers``), just untrained; nothing is downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gameai.agents.actor import ActorConfig, ActorNet, save_actor
from gameai.behaviour.model import BehaviourNet, BehaviourNetConfig, save_behaviour_model
from gameai.model_files import WEIGHTS_HASH_KEY, sha256_of

_CORPUS = [
    "Hello there, traveller. The forge is hot today.",
    "Watch your back in the arena, the rival is fast.",
    "I can mend that blade for a few coins.",
    "The scout saw enemies near the north gate.",
    "Rest a while, your wounds need time to heal.",
    "Coins, health and glory: pick two.",
]
#: A minimal chat template (role: content lines) for the chat-style variant.
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


TINY_FRAMES_PER_WINDOW = 4
"""K of :func:`tiny_keypoints_config` by default."""


def tiny_keypoints_config(frames_per_window: int = TINY_FRAMES_PER_WINDOW) -> BehaviourNetConfig:
    """A keypoints behaviour network small enough to start and run in milliseconds."""
    return BehaviourNetConfig(
        architecture="keypoints",
        frames_per_window=frames_per_window,
        conv_channels=(8, 8, 8),
        hidden=16,
        batch_norm=True,
    )


def random_frames(count: int, seed: int, size: tuple[int, int] = (84, 84)) -> list[np.ndarray]:
    """``count`` frames ``(H, W, 3)`` of uniform random uint8 noise."""
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (*size, 3), dtype=np.uint8) for _ in range(count)]


def write_random_behaviour_model(
    directory: Path | str, config: BehaviourNetConfig | None = None, seed: int = 0
) -> BehaviourNet:
    """Save a random-initialised :class:`BehaviourNet` in the serving format.

    Args:
        directory: Target directory (``model.safetensors`` + ``config.json``).
        config: Its config (default :class:`BehaviourNetConfig`).
        seed: Seed of the initialisation.

    Returns:
        The network that was saved.
    """
    torch.manual_seed(seed)
    net = BehaviourNet(config or BehaviourNetConfig())
    save_behaviour_model(directory, net, metadata={"random_init": True})
    return net


def write_random_actor(directory: Path | str, config: ActorConfig | None = None, seed: int = 0) -> ActorNet:
    """Save a random-initialised :class:`ActorNet` in the serving format (``<dir>/actor.*``)."""
    torch.manual_seed(seed)
    net = ActorNet(config or ActorConfig())
    save_actor(directory, net, metadata={"random_init": True})
    return net


def garble_middle(path: Path) -> None:
    """Change 64 bytes in the middle of a file, past its header (what a bad disk or copy does)."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = bytes((b + 1) % 256 for b in data[middle : middle + 64])
    path.write_bytes(bytes(data))


def write_tiny_dialogue_model(
    directory: Path | str,
    style: str = "plain",
    n_positions: int = 128,
    seed: int = 0,
    architecture: str = "gpt2",
) -> Path:
    """Save a tiny random causal LM and a freshly trained byte-level BPE tokenizer.

    Args:
        directory: Target directory (a Hugging Face model directory).
        style: ``"plain"`` (no chat template, no card), ``"chat"`` (a chat template) or
            ``"gameai"`` (our prompt markers as special tokens and ``gameai_dialogue.json``).
        n_positions: The model's context length.
        seed: Seed of the initialisation.
        architecture: ``"gpt2"`` (one layer), or ``"llama"`` (two layers, grouped-query
            attention: four query heads share two key/value heads; the shipped model's kind).

    Returns:
        The directory.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        GPT2Config,
        GPT2LMHeadModel,
        LlamaConfig,
        LlamaForCausalLM,
        PreTrainedTokenizerFast,
    )

    from gameai.dialogue.prompt import END, MARKERS, PAD

    directory = Path(directory)
    special = list(MARKERS) if style == "gameai" else [END, PAD]
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=special,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(_CORPUS * 4, trainer=trainer)
    kwargs: dict[str, Any] = {"tokenizer_object": tokenizer, "eos_token": END, "pad_token": PAD}
    if style == "gameai":
        kwargs["additional_special_tokens"] = [m for m in MARKERS if m not in (END, PAD)]
    fast = PreTrainedTokenizerFast(**kwargs)
    if style == "chat":
        fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(seed)
    model: Any
    if architecture == "llama":
        model = LlamaForCausalLM(
            LlamaConfig(
                vocab_size=len(fast),
                max_position_embeddings=n_positions,
                hidden_size=32,
                intermediate_size=48,
                num_hidden_layers=2,
                num_attention_heads=4,
                num_key_value_heads=2,
                tie_word_embeddings=True,
                bos_token_id=fast.eos_token_id,
                eos_token_id=fast.eos_token_id,
                pad_token_id=fast.pad_token_id,
            )
        )
    elif architecture == "gpt2":
        model = GPT2LMHeadModel(
            GPT2Config(
                vocab_size=len(fast),
                n_positions=n_positions,
                n_embd=32,
                n_layer=1,
                n_head=2,
                bos_token_id=fast.eos_token_id,
                eos_token_id=fast.eos_token_id,
                pad_token_id=fast.pad_token_id,
            )
        )
    else:
        raise ValueError(f"architecture must be 'gpt2' or 'llama', not {architecture!r}")
    model.save_pretrained(directory)
    fast.save_pretrained(directory)
    if style == "gameai":
        card = {
            "format": 1,
            "eos_token": END,
            "name": f"tiny-gameai-{architecture}",
            "serve_dtype": "float32",
            WEIGHTS_HASH_KEY: sha256_of(directory / "model.safetensors"),  # as an exported card records
        }
        (directory / "gameai_dialogue.json").write_text(json.dumps(card, indent=1) + "\n")
    return directory
