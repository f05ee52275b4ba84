"""The dialogue model: a small Llama-style causal Transformer from transformers' own classes.

Sized for CPU latency (``gameai bench dialogue`` measures it; figures in docs/dialogue.md): the
default has about 5M parameters. RoPE positions, RMSNorm, SwiGLU and tied input/output
embeddings.
"""

from __future__ import annotations

from transformers import LlamaConfig, LlamaForCausalLM

from gameai.training.dialogue.config import DialogueModelConfig


def build_model(config: DialogueModelConfig, vocab_size: int, eos_id: int, pad_id: int) -> LlamaForCausalLM:
    """A freshly initialised model (float32) for a tokenizer of ``vocab_size`` tokens."""
    hf_config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=config.d_model,
        intermediate_size=config.d_ff,
        num_hidden_layers=config.n_layer,
        num_attention_heads=config.n_head,
        num_key_value_heads=config.n_head,
        max_position_embeddings=config.max_positions,
        attention_dropout=config.dropout,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    return LlamaForCausalLM(hf_config)


def count_parameters(model: LlamaForCausalLM) -> int:
    """Distinct parameters (tied embeddings counted once)."""
    return sum(p.numel() for p in model.parameters())
