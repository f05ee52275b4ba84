"""The lean Llama forward pass computes what transformers' own forward computes."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.nn import functional
from transformers import AutoModelForCausalLM

from gameai.dialogue.hf_batch import HuggingFaceBatch, TransformersForward, forward_pass
from gameai.dialogue.llama_forward import LlamaForward, supports
from gameai.paths import resolve_path
from gameai.testing.tiny_models import write_tiny_dialogue_model


@pytest.fixture(scope="module")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_dialogue_model(tmp_path_factory.mktemp("llama") / "m", "gameai", architecture="llama")


def _models(tiny_llama_dir: Path) -> list[tuple[str, torch.nn.Module]]:
    models = [("tiny", AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32))]
    shipped = resolve_path("assets/dialogue/model")
    if (shipped / "model.safetensors").is_file():
        models.append(("shipped", AutoModelForCausalLM.from_pretrained(str(shipped), dtype=torch.float32)))
    return [(name, model.eval()) for name, model in models]


def _left_padded(vocabulary: int, lengths: list[int], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Random prompts of ``lengths`` left-padded to the longest: ids and mask, each (B, T)."""
    generator = torch.Generator().manual_seed(seed)
    width = max(lengths)
    ids = torch.randint(0, vocabulary, (len(lengths), width), generator=generator)
    mask = torch.zeros(len(lengths), width, dtype=torch.long)
    for row, length in enumerate(lengths):
        mask[row, width - length :] = 1
    return ids, mask


@torch.inference_mode()
def test_prefill_and_decoding_give_transformers_logits(tiny_llama_dir: Path) -> None:
    for name, model in _models(tiny_llama_dir):
        lean, reference = LlamaForward(model), TransformersForward(model)
        ids, mask = _left_padded(model.config.vocab_size, [30, 17, 1, 30], seed=3)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        lean_cache, reference_cache = lean.new_cache(), reference.new_cache()
        got, want = lean(ids, mask, positions, lean_cache), reference(ids, mask, positions, reference_cache)
        assert got.shape == (4, model.config.vocab_size)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-5, msg=f"{name}: prefill")
        for step in range(5):  # decoding: each row its own position, the padding still hidden
            token = want.argmax(-1, keepdim=True)  # (B, 1)
            mask = functional.pad(mask, (0, 1), value=1)
            positions = mask.sum(-1, keepdim=True) - 1
            got = lean(token, mask, positions, lean_cache)
            want = reference(token, mask, positions, reference_cache)
            torch.testing.assert_close(got, want, rtol=0, atol=1e-5, msg=f"{name}: decoding step {step}")
        real = mask.bool()[:, None, :, None].expand_as(lean_cache.layers[0].keys)  # padding columns differ
        for mine, theirs in zip(lean_cache.layers, reference_cache.layers, strict=True):
            torch.testing.assert_close(mine.keys[real], theirs.keys[real], rtol=0, atol=1e-5)
            torch.testing.assert_close(mine.values[real], theirs.values[real], rtol=0, atol=1e-5)


@torch.inference_mode()
def test_a_row_alone_gets_what_it_gets_padded_in_a_batch(tiny_llama_dir: Path) -> None:
    model = _models(tiny_llama_dir)[0][1]
    lean = LlamaForward(model)
    ids, mask = _left_padded(model.config.vocab_size, [9, 20], seed=5)
    batched = lean(ids, mask, (mask.cumsum(-1) - 1).clamp(min=0), lean.new_cache())
    alone = lean(ids[:1, -9:], mask[:1, -9:], torch.arange(9)[None], lean.new_cache())
    assert torch.isfinite(batched).all()
    torch.testing.assert_close(batched[:1], alone, rtol=0, atol=1e-5)


@torch.inference_mode()
def test_bfloat16_follows_transformers_casts(tiny_llama_dir: Path) -> None:
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.bfloat16).eval()
    ids, mask = _left_padded(model.config.vocab_size, [12, 7], seed=9)
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    got = LlamaForward(model)(ids, mask, positions, LlamaForward(model).new_cache())
    want = TransformersForward(model)(ids, mask, positions, TransformersForward(model).new_cache())
    assert got.dtype == torch.float32
    torch.testing.assert_close(got, want, rtol=0, atol=2e-2)


def test_only_plain_llama_models_take_the_lean_pass(tiny_llama_dir: Path, tmp_path: Path) -> None:
    llama = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    gpt2 = AutoModelForCausalLM.from_pretrained(str(write_tiny_dialogue_model(tmp_path / "gpt2", "plain")))
    assert supports(llama) and not supports(gpt2) and not supports(object())
    assert isinstance(forward_pass(llama), LlamaForward)
    assert isinstance(forward_pass(llama, lean=False), TransformersForward)
    assert isinstance(forward_pass(gpt2), TransformersForward)
    llama.config.rope_parameters = {"rope_type": "linear", "rope_theta": 10000.0, "factor": 2.0}
    assert not supports(llama)  # scaled RoPE: transformers computes it
    with pytest.raises(ValueError, match="not a plain Llama"):
        LlamaForward(gpt2)


def test_the_batch_uses_the_lean_pass_for_llama(tiny_llama_dir: Path) -> None:
    from gameai.dialogue.hf_backend import HuggingFaceBackend

    backend = HuggingFaceBackend.load(tiny_llama_dir)
    assert isinstance(HuggingFaceBatch(backend)._forward, LlamaForward)
    assert isinstance(HuggingFaceBatch(backend, lean=False)._forward, TransformersForward)
