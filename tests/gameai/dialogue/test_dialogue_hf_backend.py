"""The Hugging Face backend on tiny random models built on the fly (real classes, untrained)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
import torch

from gameai.dialogue.hf_backend import HuggingFaceBackend
from gameai.dialogue.prompt import END, format_prompt
from gameai.dialogue.types import DialogueContext, DialogueTurn, GenerationParams, TextDelta
from gameai.model_files import ModelLoadError
from gameai.protocol.messages import NpcCard
from gameai.testing.tiny_models import write_tiny_dialogue_model

SCOUT = NpcCard(name="Kestrel", role="scout")
CONTEXT = DialogueContext(
    npc_id="smith",
    npc=NpcCard(name="Brann", role="blacksmith", facts=("A new shield costs 40 gold.",)),
    player_line="Can you fix my sword?",
    behaviour="aggressive",
    mood="grumpy",
    events=("hurt",),
    history=(DialogueTurn("Hi.", "Hm. You again."),),
)


@pytest.fixture(scope="module")
def model_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("dialogue")
    dirs = {style: write_tiny_dialogue_model(root / style, style) for style in ("plain", "chat", "gameai")}
    dirs["long"] = write_tiny_dialogue_model(root / "long", "chat", n_positions=2048)  # room for long replies
    return dirs


@pytest.fixture(scope="module")
def plain(model_dirs: dict[str, Path]) -> HuggingFaceBackend:
    return HuggingFaceBackend.load(model_dirs["plain"])


def _reply(
    backend: HuggingFaceBackend, params: GenerationParams, cancel: threading.Event | None = None
) -> list[TextDelta]:
    return list(backend.stream(CONTEXT, params, cancel or threading.Event()))


def _text(
    backend: HuggingFaceBackend, params: GenerationParams, cancel: threading.Event | None = None
) -> str:
    return "".join(delta.text for delta in _reply(backend, params, cancel))


def test_prompt_style_follows_the_directory(model_dirs: dict[str, Path]) -> None:
    styles = {
        style: HuggingFaceBackend.load(model_dirs[style]).prompt_style
        for style in ("plain", "chat", "gameai")
    }
    assert styles == {"plain": "plain", "chat": "chat", "gameai": "gameai"}


def test_our_card_selects_format_prompt_and_its_eos_token(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["gameai"])
    assert backend.name == "tiny-gameai-gpt2"
    assert backend.build_prompt(CONTEXT) == (format_prompt(CONTEXT), ())
    assert backend.eos_token_ids == [backend.tokenizer.convert_tokens_to_ids(END)]


def test_chat_template_is_used_when_present(model_dirs: dict[str, Path]) -> None:
    prompt, stops = HuggingFaceBackend.load(model_dirs["chat"]).build_prompt(CONTEXT)
    assert prompt.startswith("system: You are Brann")
    assert "user: Hi.\nassistant: Hm. You again.\nuser: Can you fix my sword?\nassistant:" in prompt
    assert stops == ()


def test_plain_fallback_prompt(plain: HuggingFaceBackend) -> None:
    prompt, stops = plain.build_prompt(CONTEXT)
    assert prompt.endswith("Player: Hi.\nBrann: Hm. You again.\nPlayer: Can you fix my sword?\nBrann:")
    assert "play style aggressive." in prompt and "Your mood: grumpy." in prompt
    assert "- A new shield costs 40 gold." in prompt  # the card's facts
    assert stops == ("\n",)


def test_deltas_carry_token_counts_bounded_by_max_new_tokens(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])  # no line-break stop: runs to the limit
    deltas = _reply(backend, GenerationParams(max_new_tokens=12, temperature=1.0, seed=3))
    assert deltas and all(isinstance(d, TextDelta) for d in deltas)
    total = sum(d.tokens for d in deltas)
    assert 1 <= total <= 12
    assert [d.finish_reason for d in deltas[:-1]] == [None] * (len(deltas) - 1)
    assert deltas[-1].finish_reason == ("length" if total == 12 else "stop")


def test_same_seed_same_reply_different_seed_different_reply(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    a = _text(backend, GenerationParams(max_new_tokens=16, temperature=1.0, seed=11))
    b = _text(backend, GenerationParams(max_new_tokens=16, temperature=1.0, seed=11))
    c = _text(backend, GenerationParams(max_new_tokens=16, temperature=1.0, seed=12))
    assert a == b
    assert a != c


def test_seeded_sampling_ignores_the_global_torch_rng(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    torch.manual_seed(0)
    a = _text(backend, GenerationParams(max_new_tokens=16, temperature=1.0, seed=5))
    torch.manual_seed(999)
    b = _text(backend, GenerationParams(max_new_tokens=16, temperature=1.0, seed=5))
    assert a == b


def test_temperature_zero_is_greedy(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    reply = _text(backend, GenerationParams(max_new_tokens=10, temperature=0.0))
    prompt, _ = backend.build_prompt(CONTEXT)
    ids = backend.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"]
    assert backend.max_context is not None
    ids = ids[:, -(backend.max_context - 10) :]  # the backend keeps the prompt's tail
    with torch.no_grad():
        out = backend.model.generate(
            ids, max_new_tokens=10, do_sample=False, pad_token_id=backend.pad_token_id
        )
    expected = backend.tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True)
    assert reply == expected


def test_stop_sequence_cuts_the_reply_before_it(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    full = _text(backend, GenerationParams(max_new_tokens=24, temperature=0.0))
    stop = full[len(full) // 2 : len(full) // 2 + 3]
    assert stop and len(full) > 6
    deltas = _reply(backend, GenerationParams(max_new_tokens=24, temperature=0.0, stop=(stop,)))
    assert "".join(d.text for d in deltas) == full[: full.index(stop)]
    assert deltas[-1].finish_reason == "stop"


def test_cancel_before_start_yields_nothing(plain: HuggingFaceBackend) -> None:
    cancel = threading.Event()
    cancel.set()
    deltas = _reply(plain, GenerationParams(max_new_tokens=50, temperature=1.0, seed=1), cancel)
    assert "".join(d.text for d in deltas) == ""
    assert deltas[-1].finish_reason == "cancelled"


def test_cancel_mid_stream_stops_generation(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["long"])
    cancel = threading.Event()
    tokens = 0
    for delta in backend.stream(
        CONTEXT, GenerationParams(max_new_tokens=1000, temperature=1.0, seed=2), cancel
    ):
        tokens += delta.tokens
        reason = delta.finish_reason
        cancel.set()
    assert 0 < tokens < 1000
    assert reason == "cancelled"


def test_closing_the_iterator_ends_the_generation_thread(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["long"])
    before = {t for t in threading.enumerate() if t.name == "gameai-dialogue-generate"}
    stream = backend.stream(
        CONTEXT, GenerationParams(max_new_tokens=1000, temperature=1.0, seed=2), threading.Event()
    )
    next(stream)
    stream.close()  # type: ignore[attr-defined]
    after = {t for t in threading.enumerate() if t.name == "gameai-dialogue-generate" and t.is_alive()}
    assert after <= before


def test_long_prompts_are_cut_to_the_context(tmp_path: Path) -> None:
    backend = HuggingFaceBackend.load(write_tiny_dialogue_model(tmp_path, "plain", n_positions=64))
    context = DialogueContext(npc_id="n", npc=SCOUT, player_line="word " * 500)
    deltas = list(
        backend.stream(context, GenerationParams(max_new_tokens=8, temperature=0.0), threading.Event())
    )
    assert sum(d.tokens for d in deltas) <= 8


def test_a_reply_limited_by_the_prompts_room_ends_with_length(tmp_path: Path) -> None:
    backend = HuggingFaceBackend.load(write_tiny_dialogue_model(tmp_path, "chat", n_positions=64))
    context = DialogueContext(npc_id="n", npc=SCOUT, player_line="word " * 500)  # fills the context
    params = GenerationParams(max_new_tokens=48, temperature=0.0)
    assert backend.encode(context, params).params.max_new_tokens == 32  # half the context is left
    deltas = list(backend.stream(context, params, threading.Event()))
    assert sum(d.tokens for d in deltas) == 32 < params.max_new_tokens
    assert deltas[-1].finish_reason == "length"


def test_the_end_token_ends_the_reply_with_stop(model_dirs: dict[str, Path]) -> None:
    backend = HuggingFaceBackend.load(model_dirs["chat"])
    greedy = GenerationParams(max_new_tokens=12, temperature=0.0)
    prompt = backend.encode(CONTEXT, greedy).input_ids
    with torch.no_grad():
        first = int(backend.model(prompt).logits[0, -1].argmax())  # the greedy reply's first token
    backend.eos_token_ids = [first]  # make it the end token: the reply ends right there
    deltas = _reply(backend, greedy)
    assert sum(d.tokens for d in deltas) == 1
    assert deltas[-1].finish_reason == "stop"


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no Hugging Face model here"):
        HuggingFaceBackend.load(tmp_path / "absent")


def test_missing_weights_is_a_clear_error(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    for item in model_dirs["plain"].iterdir():
        if item.name != "model.safetensors":
            (tmp_path / item.name).write_bytes(item.read_bytes())
    with pytest.raises(ModelLoadError, match="cannot load model"):
        HuggingFaceBackend.load(tmp_path)


def test_corrupt_weights_is_a_clear_error(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    for item in model_dirs["plain"].iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors at all")
    with pytest.raises(ModelLoadError, match="cannot load model"):
        HuggingFaceBackend.load(tmp_path)


@pytest.mark.parametrize(
    ("card", "message"),
    [
        ({"format": 1}, "needs a string 'eos_token'"),
        ({"eos_token": "<|nope|>"}, "not in the vocabulary"),
        ({"eos_token": END, "prompt": "os.system"}, "unsupported prompt"),
        ({"eos_token": END, "serve_dtype": "float99"}, "unknown serve_dtype"),
    ],
)
def test_bad_card_is_a_clear_error(
    model_dirs: dict[str, Path], tmp_path: Path, card: dict[str, object], message: str
) -> None:
    for item in model_dirs["gameai"].iterdir():
        (tmp_path / item.name).write_bytes(item.read_bytes())
    (tmp_path / "gameai_dialogue.json").write_text(json.dumps(card))
    with pytest.raises(ModelLoadError, match=message):
        HuggingFaceBackend.load(tmp_path)
