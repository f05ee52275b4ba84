"""The forward pass of a Llama-architecture causal LM in a few dozen torch calls.

A small model's decoding step costs transformers more in Python than in arithmetic: a step of
the shipped dialogue model (4 layers, 192 wide, ~2 MFLOP a token) makes about 1,500 Python
function calls through ``LlamaForCausalLM.forward`` (modules, hooks, mask builders, cache
bookkeeping), about 400 with this pass (sampling and streaming included in both).
:class:`LlamaForward` does the same arithmetic from the same weight tensors with the
query/key/value and gate/up projections each in one matrix product: on the 2-core machine a
reply alone takes 10-11 ms against 16-17 ms (docs/dialogue.md, *Speed*), and the served
model's logits are bit-for-bit those of transformers
(``tests/gameai/dialogue/test_llama_forward.py``).

It serves :class:`~gameai.dialogue.hf_batch.HuggingFaceBatch` (the server's path), which
keeps its own rows, mask and positions and hands this pass a :class:`KeyValueCache` of the same
layout as transformers' ``DynamicCache`` (per layer, keys and values of shape (B, H_kv, L,
D)). :func:`supports` says which models it takes: ``model_type`` llama, SiLU, no biases,
default RoPE (read from transformers 5's ``rope_parameters``; a config without it, as written
by transformers 4, is not taken), float32, bfloat16 or float16; anything else goes through
transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch.nn import functional


def supports(model: Any) -> bool:
    """Whether :class:`LlamaForward` computes exactly what ``model``'s own forward computes."""
    config = getattr(model, "config", None)
    if config is None or getattr(config, "model_type", None) != "llama":
        return False
    rope = getattr(config, "rope_parameters", None) or {}
    inner = getattr(model, "model", None)
    return (
        getattr(config, "hidden_act", None) == "silu"
        and not getattr(config, "attention_bias", True)
        and not getattr(config, "mlp_bias", True)
        and getattr(config, "pretraining_tp", 1) == 1
        and rope.get("rope_type", "default") == "default"
        and "rope_theta" in rope
        and rope.get("partial_rotary_factor", 1.0) == 1.0
        and inner is not None
        and hasattr(model, "lm_head")
        and next(model.parameters()).dtype in (torch.float32, torch.bfloat16, torch.float16)
    )


@dataclass
class LayerKeysValues:
    """One layer's cached keys and values, each of shape (B, H_kv, L, D)."""

    keys: torch.Tensor
    values: torch.Tensor


class KeyValueCache:
    """Keys and values of every layer (the subset of ``DynamicCache`` the batch uses)."""

    def __init__(self) -> None:
        self.layers: list[LayerKeysValues] = []

    def batch_select_indices(self, indices: torch.Tensor) -> None:
        """Keep only the rows ``indices`` (shape (B',)) of every layer."""
        for layer in self.layers:
            layer.keys, layer.values = layer.keys[indices], layer.values[indices]


@dataclass(frozen=True)
class _LayerWeights:
    attention_norm: torch.Tensor
    """(C,)"""
    qkv: torch.Tensor
    """Query, key and value projections stacked: ((H + 2 H_kv) D, C)."""
    output: torch.Tensor
    """(C, H D)"""
    mlp_norm: torch.Tensor
    """(C,)"""
    gate_up: torch.Tensor
    """Gate and up projections stacked: (2 I, C)."""
    down: torch.Tensor
    """(C, I)"""


class LlamaForward:
    """Runs a loaded ``LlamaForCausalLM``'s weights without its modules (see the module docstring).

    Args:
        model: A model :func:`supports` accepts. Its weights are shared, except the stacked
            projections (copies: about 1.2x the attention and MLP weights, once).

    Raises:
        ValueError: If :func:`supports` rejects the model.
    """

    def __init__(self, model: Any) -> None:
        if not supports(model):
            raise ValueError(f"{type(model).__name__} is not a plain Llama model: use its own forward")
        config = model.config
        self.heads: int = config.num_attention_heads
        self.kv_heads: int = config.num_key_value_heads
        self.head_dim: int = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.intermediate: int = config.intermediate_size
        self.eps: float = config.rms_norm_eps
        self.dtype: torch.dtype = next(model.parameters()).dtype
        inner = model.model
        self.embedding: torch.Tensor = inner.embed_tokens.weight.detach()  # (V, C)
        self.layers = [
            _LayerWeights(
                attention_norm=layer.input_layernorm.weight.detach(),
                qkv=torch.cat(
                    [getattr(layer.self_attn, f"{name}_proj").weight for name in ("q", "k", "v")]
                ).detach(),
                output=layer.self_attn.o_proj.weight.detach(),
                mlp_norm=layer.post_attention_layernorm.weight.detach(),
                gate_up=torch.cat([layer.mlp.gate_proj.weight, layer.mlp.up_proj.weight]).detach(),
                down=layer.mlp.down_proj.weight.detach(),
            )
            for layer in inner.layers
        ]
        self.final_norm: torch.Tensor = inner.norm.weight.detach()
        self.lm_head: torch.Tensor = model.lm_head.weight.detach()  # (V, C)
        device = self.embedding.device
        theta = float(config.rope_parameters["rope_theta"])
        even = torch.arange(0, self.head_dim, 2, dtype=torch.float, device=device)
        inverse = 1.0 / theta ** (even / self.head_dim)
        positions = torch.arange(config.max_position_embeddings, dtype=torch.float, device=device)
        angles = positions[:, None] * inverse  # (P, D / 2), as transformers' rotary embedding
        angles = torch.cat((angles, angles), dim=-1)  # (P, D)
        self.cos, self.sin = angles.cos().to(self.dtype), angles.sin().to(self.dtype)

    def new_cache(self) -> KeyValueCache:
        """An empty cache for :meth:`__call__`."""
        return KeyValueCache()

    def __call__(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        cache: KeyValueCache,
    ) -> torch.Tensor:
        """Feed ``input_ids`` after what ``cache`` holds; the logits of each row's last token.

        Args:
            input_ids: (B, T) new tokens; rows may be left-padded.
            attention_mask: (B, L) 1 for real tokens, 0 for padding, over the cached columns and
                the new ones (L = cached + T).
            position_ids: (B, T) each new token's position among its row's real tokens.
            cache: Updated in place: every layer gains the T new columns.

        Returns:
            (B, V) logits of each row's last column, in float32.
        """
        batch, length = input_ids.shape
        total = attention_mask.shape[1]
        heads, kv_heads, head_dim, half = self.heads, self.kv_heads, self.head_dim, self.head_dim // 2
        mask = self._attention_mask(attention_mask, length)
        cos, sin = self.cos[position_ids].unsqueeze(1), self.sin[position_ids].unsqueeze(1)  # (B, 1, T, D)
        hidden = functional.embedding(input_ids, self.embedding)  # (B, T, C)
        first = not cache.layers
        for index, weights in enumerate(self.layers):
            normed = self._rms_norm(hidden, weights.attention_norm)
            qkv = functional.linear(normed, weights.qkv).view(batch, length, heads + 2 * kv_heads, head_dim)
            query, key, value = qkv.transpose(1, 2).split((heads, kv_heads, kv_heads), dim=1)  # (B, H*, T, D)
            query = query * cos + torch.cat((-query[..., half:], query[..., :half]), dim=-1) * sin
            key = key * cos + torch.cat((-key[..., half:], key[..., :half]), dim=-1) * sin
            if first:
                cache.layers.append(LayerKeysValues(key, value))
            else:
                layer = cache.layers[index]
                layer.keys = key = torch.cat((layer.keys, key), dim=2)  # (B, H_kv, L, D)
                layer.values = value = torch.cat((layer.values, value), dim=2)
            attended = functional.scaled_dot_product_attention(
                query, key, value, attn_mask=mask,
                is_causal=mask is None and length > 1,  # no mask and several tokens: length == total
                enable_gqa=heads != kv_heads,
            )  # fmt: skip
            hidden = hidden + functional.linear(
                attended.transpose(1, 2).reshape(batch, length, heads * head_dim), weights.output
            )
            gate, up = functional.linear(self._rms_norm(hidden, weights.mlp_norm), weights.gate_up).split(
                self.intermediate, dim=-1
            )
            hidden = hidden + functional.linear(functional.silu(gate) * up, weights.down)
        assert cache.layers[0].keys.shape[2] == total, "attention_mask must cover the cache and new tokens"
        last = self._rms_norm(hidden[:, -1], self.final_norm)  # (B, C)
        return functional.linear(last, self.lm_head).float()  # (B, V)

    def _rms_norm(self, hidden: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        """transformers' ``LlamaRMSNorm``: normalised in float32, scaled in the model's dtype."""
        if self.dtype == torch.float32:  # the same numbers without two no-op casts: ~2% of a step
            return weight * (hidden * torch.rsqrt(hidden.pow(2).mean(-1, keepdim=True) + self.eps))
        wide = hidden.float()
        return weight * (wide * torch.rsqrt(wide.pow(2).mean(-1, keepdim=True) + self.eps)).to(self.dtype)

    @staticmethod
    def _attention_mask(attention_mask: torch.Tensor, length: int) -> torch.Tensor | None:
        """Which keys each new token sees, (B, 1, T, L) bool; None when causal order alone says it.

        A padding column is seen by no real token. A padding token sees itself, so that no row of
        the attention is empty (its output is never used; an empty row would be NaN and would
        reach the real tokens through the next layer's keys).
        """
        total = attention_mask.shape[1]
        if (length == 1 or length == total) and bool(attention_mask.all()):
            return None  # no padding: every key (decoding) or the causal triangle (is_causal)
        keys = attention_mask.bool()[:, None, None, :]  # (B, 1, 1, L)
        if length == 1:
            return keys
        device = attention_mask.device
        causal = torch.ones(length, total, dtype=torch.bool, device=device).tril(total - length)  # (T, L)
        itself = torch.zeros(length, total, dtype=torch.bool, device=device)
        itself[:, total - length :] = torch.eye(length, dtype=torch.bool, device=device)
        return (keys & causal) | itself
