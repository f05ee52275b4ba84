"""A :class:`~gameai.dialogue.types.DialogueBackend` for any local Hugging Face causal LM.

Loads a model directory with ``local_files_only=True`` (the hub is never contacted) and
safetensors weights only. The prompt depends on what the directory holds:

1. ``gameai_dialogue.json`` (our trained model's card): the prompt is
   :func:`gameai.dialogue.prompt.format_prompt` and generation stops at the token named
   by the card's ``"eos_token"``; ``"serve_dtype"`` and ``"name"`` are honoured too.
2. Else, a tokenizer with a chat template: :func:`~gameai.dialogue.generic_prompt.chat_messages`
   through ``apply_chat_template``.
3. Else: the plain script of :func:`~gameai.dialogue.generic_prompt.plain_prompt`,
   stopping at a line break.

Generation runs ``model.generate`` in its own thread feeding a ``TextIteratorStreamer``;
:meth:`HuggingFaceBackend.stream` yields the text as it comes. Sampling is done by a
logits processor with its own ``torch.Generator`` seeded per request, so a seed gives
the same reply whatever else runs in the process; temperature 0 is greedy. Cancelling
(the ``cancel`` event), a stop sequence, or the consumer closing the iterator all end
generation at the next token through a stopping criterion.

Every piece is a :class:`~gameai.dialogue.types.TextDelta` and the last one carries the
reply's finish reason: ``"stop"`` (the end token or a stop sequence), ``"length"`` (the
token budget actually applied: :meth:`HuggingFaceBackend.encode` lowers ``max_new_tokens``
when the prompt leaves less room in the context) or ``"cancelled"``.

Many replies at once: :meth:`HuggingFaceBackend.open_batch` gives a
:class:`~gameai.dialogue.hf_batch.HuggingFaceBatch` (one forward pass per token for all of
them). It shares this module's prompt encoding (:meth:`HuggingFaceBackend.encode`) and,
from :mod:`gameai.dialogue.generation`, the sampling rule, the streamer and each reply's
text and finish reason, so a seeded reply is the same on either path.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, Literal

import torch

from gameai.compute_threads import name_os_thread, share_torch_threads
from gameai.dialogue.generation import (
    EncodedPrompt,
    StreamedReply,
    ban_tokens,
    make_streamer,
    sample_next_token,
    seeded_generator,
)
from gameai.dialogue.generic_prompt import PLAIN_STOPS, chat_messages, plain_prompt
from gameai.dialogue.hf_batch import HuggingFaceBatch, can_batch, runs_lean
from gameai.dialogue.prompt import behaviour_in_prompt, facts_in_prompt
from gameai.dialogue.stop_sequences import StopSequenceBuffer
from gameai.dialogue.tokenizer import ReferenceMarkerIds
from gameai.dialogue.types import DialogueBatch, DialogueContext, GenerationParams, TextDelta
from gameai.model_files import WEIGHTS_HASH_KEY, ModelLoadError, check_weights_hash, file_version, read_json

MODEL_CARD_FILE: Final = "gameai_dialogue.json"
"""Marks a directory as our trained model (see the module docstring)."""
_PROMPT_FUNCTION: Final = "gameai.dialogue.prompt.format_prompt"

PromptStyle = Literal["gameai", "chat", "plain"]


def _make_sampler(temperature: float, top_p: float, seed: int | None, device: torch.device) -> Any:
    from transformers import LogitsProcessor

    class SeededSampler(LogitsProcessor):
        """Samples the next token itself (own generator) and leaves only it for greedy search."""

        def __init__(self) -> None:
            self.generator = seeded_generator(seed, device)

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            choice = sample_next_token(scores, temperature, top_p, self.generator)  # (B, 1)
            return torch.full_like(scores, float("-inf")).scatter(-1, choice, 0.0)

    return SeededSampler()


def _make_ban(banned_token_ids: tuple[int, ...]) -> Any:
    from transformers import LogitsProcessor

    class Ban(LogitsProcessor):
        """Leaves the banned tokens no chance (before sampling or the greedy pick)."""

        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
            return ban_tokens(scores, banned_token_ids)

    return Ban()


def _make_stopping_criterion(*events: threading.Event) -> Any:
    from transformers import StoppingCriteria

    class EventSet(StoppingCriteria):
        """Stops generation once any of the events is set."""

        def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
            stop = any(event.is_set() for event in events)
            return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)

    return EventSet()


def generation_end_ids(model: Any, tokenizer: Any) -> list[int]:
    """The tokens that end a reply: the model's generation config's, else the tokenizer's EOS."""
    configured = model.generation_config.eos_token_id
    if configured is None:
        configured = tokenizer.eos_token_id
    return [configured] if isinstance(configured, int) else list(configured or [])


def pad_token_id(tokenizer: Any, eos_ids: list[int]) -> int | None:
    """The tokenizer's pad token, else the first end token (None when there is neither)."""
    pad_id: int | None = tokenizer.pad_token_id
    if pad_id is None and eos_ids:
        pad_id = eos_ids[0]
    return pad_id


class HuggingFaceBackend:
    """Streams NPC replies from a local Hugging Face causal LM (see the module docstring).

    Build it with :meth:`load`.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str,
        version: str,
        prompt_style: PromptStyle,
        eos_token_ids: list[int],
        pad_token_id: int | None,
        lean_forward: bool = True,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.version = version
        self.prompt_style: PromptStyle = prompt_style
        self.eos_token_ids = eos_token_ids
        self.pad_token_id = pad_token_id
        self.device: torch.device = next(model.parameters()).device
        self.lean_forward = lean_forward
        """Whether a batch may run the lean forward pass (``RuntimeConfig.dialogue_forward``)."""
        self._marker_ids = ReferenceMarkerIds.of(tokenizer) if prompt_style == "gameai" else None
        """Our prompt style: the reference markers' token ids (those a prompt gives nothing to
        stand for are banned from its reply)."""
        config = model.config
        self.max_context: int | None = getattr(config, "max_position_embeddings", None) or getattr(
            config, "n_positions", None
        )

    @classmethod
    def load(
        cls, directory: Path | str, device: torch.device | str = "cpu", lean_forward: bool = True
    ) -> HuggingFaceBackend:
        """Load a model directory.

        Args:
            directory: A directory written by ``save_pretrained`` (model and tokenizer).
            device: Where to run the model.
            lean_forward: Let batches run :class:`~gameai.dialogue.llama_forward.LlamaForward`
                where it supports the model (False: always the model's own forward).

        Returns:
            The backend.

        Raises:
            ModelLoadError: If the directory is missing, is not a causal LM with a tokenizer,
                has no safetensors weights, or its card is invalid.
        """
        directory = Path(directory)
        device = torch.device(device)
        if not (directory / "config.json").is_file():
            raise ModelLoadError(f"{directory}: no Hugging Face model here (config.json not found)")
        card: dict[str, Any] | None = None
        if (directory / MODEL_CARD_FILE).is_file():
            data = read_json(directory / MODEL_CARD_FILE)
            if not isinstance(data, dict) or not isinstance(data.get("eos_token"), str):
                raise ModelLoadError(f"{directory / MODEL_CARD_FILE}: needs a string 'eos_token'")
            if data.get("prompt", _PROMPT_FUNCTION) != _PROMPT_FUNCTION:
                raise ModelLoadError(
                    f"{directory / MODEL_CARD_FILE}: unsupported prompt {data.get('prompt')!r}"
                )
            check_weights_hash(directory / "model.safetensors", data.get(WEIGHTS_HASH_KEY))
            card = data
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        dtype: Any = torch.float32 if device.type == "cpu" else "auto"
        if card is not None and isinstance(card.get("serve_dtype"), str):
            dtype = getattr(torch, card["serve_dtype"], None)
            if not isinstance(dtype, torch.dtype):
                raise ModelLoadError(
                    f"{directory / MODEL_CARD_FILE}: unknown serve_dtype {card['serve_dtype']!r}"
                )
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(directory), local_files_only=True)
            model = AutoModelForCausalLM.from_pretrained(
                str(directory), local_files_only=True, use_safetensors=True, dtype=dtype
            )
        except Exception as exc:  # transformers raises OSError, ValueError, KeyError... for bad dirs
            message = " ".join(str(exc).split())[:400]
            raise ModelLoadError(
                f"{directory}: cannot load model ({type(exc).__name__}: {message})"
            ) from None
        model = model.to(device).eval()  # type: ignore[arg-type]
        style: PromptStyle
        if card is not None:
            style = "gameai"
            eos_id = tokenizer.convert_tokens_to_ids(card["eos_token"])
            if not isinstance(eos_id, int) or eos_id == tokenizer.unk_token_id:
                raise ModelLoadError(f"{directory}: eos_token {card['eos_token']!r} is not in the vocabulary")
            eos_ids = [eos_id]
        else:
            style = "chat" if getattr(tokenizer, "chat_template", None) else "plain"
            eos_ids = generation_end_ids(model, tokenizer)
        pad_id = pad_token_id(tokenizer, eos_ids)
        weights = directory / "model.safetensors"
        index = directory / "model.safetensors.index.json"
        version = file_version(weights if weights.is_file() else index)
        name = str(card.get("name")) if card and card.get("name") else directory.name
        return cls(
            model,
            tokenizer,
            name=name,
            version=version,
            prompt_style=style,
            eos_token_ids=eos_ids,
            pad_token_id=pad_id,
            lean_forward=lean_forward,
        )

    def build_prompt(self, context: DialogueContext) -> tuple[str, tuple[str, ...]]:
        """The prompt text for ``context`` and the stop sequences its style adds."""
        if self.prompt_style == "gameai":
            from gameai.dialogue.prompt import format_prompt

            return format_prompt(context), ()
        if self.prompt_style == "chat":
            text = self.tokenizer.apply_chat_template(
                chat_messages(context), tokenize=False, add_generation_prompt=True
            )
            return str(text), ()
        return plain_prompt(context), PLAIN_STOPS

    def encode(self, context: DialogueContext, params: GenerationParams) -> EncodedPrompt:
        """Tokenise the prompt of ``context``, keeping its tail when it is longer than the context allows."""
        prompt, style_stops = self.build_prompt(context)
        encoded = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=self.prompt_style != "chat")
        input_ids = encoded["input_ids"]
        if self.max_context is not None:
            # Leave room for the reply; a reply longer than the context is cut to fit it.
            room = min(params.max_new_tokens, self.max_context // 2)
            input_ids = input_ids[:, -(self.max_context - room) :]
            params = dataclasses.replace(
                params, max_new_tokens=min(params.max_new_tokens, self.max_context - input_ids.shape[1])
            )
        stops = StopSequenceBuffer(params.stop + style_stops)
        if self._marker_ids is None:
            return EncodedPrompt(input_ids, params, stops)
        facts, behaviour = facts_in_prompt(prompt), behaviour_in_prompt(prompt)
        banned = self._marker_ids.unshown(len(facts), bool(behaviour))
        return EncodedPrompt(input_ids, params, stops, facts, banned, behaviour)

    def open_batch(self) -> DialogueBatch | None:
        """A new :class:`~gameai.dialogue.hf_batch.HuggingFaceBatch`; None if this model's KV cache
        cannot be batched that way (see :func:`~gameai.dialogue.hf_batch.can_batch`). It runs the
        lean forward pass where :attr:`lean_forward` allows and the model supports it."""
        return HuggingFaceBatch(self, self.lean_forward) if can_batch(self.model) else None

    @property
    def forward_pass_name(self) -> str:
        """What a batch runs: ``"lean"`` (:class:`~gameai.dialogue.llama_forward.LlamaForward`) or
        ``"transformers"`` (the model's own forward)."""
        return "lean" if runs_lean(self.model, self.lean_forward) else "transformers"

    def stream(
        self, context: DialogueContext, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[TextDelta]:
        """Yield the reply as :class:`~gameai.dialogue.types.TextDelta` pieces (see the protocol).

        The last piece says why the reply ended: ``"stop"`` (end token or a stop sequence),
        ``"length"`` (the token budget of :meth:`encode`, lowered where the prompt left less
        room) or ``"cancelled"``. Blocking; call it from a worker thread. Stops early when
        ``cancel`` is set.

        Raises:
            Exception: Whatever ``model.generate`` raised, after the stream ends.
        """
        encoded = self.encode(context, params)
        input_ids = encoded.input_ids
        halt = threading.Event()
        streamer = make_streamer(self.tokenizer)
        reply = StreamedReply(streamer, encoded, self.eos_token_ids)
        errors: list[BaseException] = []
        thread = threading.Thread(
            target=self._generate,
            args=(
                input_ids,
                torch.ones_like(input_ids),
                encoded.params,
                encoded.banned_token_ids,
                streamer,
                cancel,
                halt,
                errors,
            ),
            name="gameai-dialogue-generate",
            daemon=True,
        )
        thread.start()
        try:
            for text, tokens in streamer:
                if cancel.is_set():
                    yield TextDelta("", 0, "cancelled")
                    break
                delta = reply.feed(text, tokens)
                if delta is not None:
                    yield delta  # the last one says "stop" when a stop sequence completed
                if reply.stopped:
                    break
            else:  # generation is over: the end token, the token budget, or a cancel
                if not errors:
                    yield reply.finish(reply.ended() or ("cancelled" if cancel.is_set() else "length"))
        finally:
            halt.set()
            thread.join()
        if errors:
            raise errors[0]

    def _generate(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        params: GenerationParams,
        banned_token_ids: tuple[int, ...],
        streamer: Any,
        cancel: threading.Event,
        halt: threading.Event,
        errors: list[BaseException],
    ) -> None:
        from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteriaList

        name_os_thread()
        share_torch_threads()

        config = GenerationConfig(
            max_new_tokens=params.max_new_tokens,
            do_sample=False,
            eos_token_id=self.eos_token_ids or None,
            pad_token_id=self.pad_token_id,
        )
        processors = LogitsProcessorList()
        if banned_token_ids:
            processors.append(_make_ban(banned_token_ids))
        if params.temperature > 0:
            processors.append(_make_sampler(params.temperature, params.top_p, params.seed, self.device))
        try:
            with torch.inference_mode():
                self.model.generate(
                    input_ids=input_ids.to(self.device),
                    attention_mask=attention_mask.to(self.device),
                    generation_config=config,
                    logits_processor=processors,
                    stopping_criteria=StoppingCriteriaList([_make_stopping_criterion(cancel, halt)]),
                    streamer=streamer,
                )
        except BaseException as exc:  # surfaced by stream(); the streamer must end either way
            errors.append(exc)
            streamer.on_finalized_text("", stream_end=True)
