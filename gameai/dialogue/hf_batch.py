"""Many replies of a Hugging Face causal LM in one forward pass per token (continuous batching).

:class:`HuggingFaceBatch` is the :class:`~gameai.dialogue.types.DialogueBatch` of
:class:`~gameai.dialogue.hf_backend.HuggingFaceBackend`. Each :meth:`~HuggingFaceBatch.step`:

1. drops the replies that were cancelled;
2. feeds every running reply its last token in one forward pass over the shared KV cache
   (``attention_mask`` hides each row's left padding, ``position_ids`` count each row's own
   tokens) and picks each row's next token;
3. prefills the replies that joined since the last step (their prompts left-padded into one
   forward pass), picks their first token, and appends their rows to the cache, left-padding
   whichever side is shorter so that every row's newest token sits in the last column;
4. removes the rows that ended (end token, ``max_new_tokens``, a stop sequence) and cuts the
   cache columns that are padding in every row that is left.

A reply joins at the next step and leaves at the step it ends: the batch never waits for
its slowest reply. Each row samples with its own seeded ``torch.Generator`` through
:func:`~gameai.dialogue.generation.sample_rows` (the rule of ``sample_next_token``, the
probabilities of all rows computed at once), and its text goes through the same
streamer, stop sequences, token counts and finish reason
(:class:`~gameai.dialogue.generation.StreamedReply`) as
:meth:`~gameai.dialogue.hf_backend.HuggingFaceBackend.stream`. The logits of a row do
not depend on the other rows beyond float rounding (padding is masked out), so a seeded
reply is the same alone or in a batch; ``tests/gameai/dialogue/test_dialogue_hf_batch.py``
checks that, sampled and greedy, on a tiny model and on the shipped one.

The forward pass (:func:`forward_pass`) is :class:`~gameai.dialogue.llama_forward.LlamaForward`
for plain Llama models, the shipped one included (its logits equal transformers' own, at a
fraction of the Python per token), and the model's own ``forward`` with a ``DynamicCache``
for any other.
"""

from __future__ import annotations

import inspect
import itertools
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Protocol

import torch
from torch.nn import functional

from gameai.dialogue import llama_forward
from gameai.dialogue.generation import (
    EncodedPrompt,
    StreamedReply,
    ban_tokens,
    make_streamer,
    sample_rows,
    seeded_generator,
)
from gameai.dialogue.types import DialogueContext, GenerationParams, ReplyProgress, TextDelta


class BatchableModel(Protocol):
    """What a batch needs of its backend (:class:`~gameai.dialogue.hf_backend.HuggingFaceBackend`)."""

    model: Any
    """The causal LM."""
    tokenizer: Any
    """Its tokenizer."""
    device: torch.device
    """Where the model runs."""
    eos_token_ids: list[int]
    """Tokens that end a reply."""
    pad_token_id: int | None
    """Token that pads prompts on the left (0 when None)."""

    def encode(self, context: DialogueContext, params: GenerationParams) -> EncodedPrompt:
        """The reply's prompt as token ids, its stop sequences and its token budget."""
        ...


def can_batch(model: Any) -> bool:
    """Whether :class:`HuggingFaceBatch` can run ``model``.

    A model :mod:`~gameai.dialogue.llama_forward` supports can; any other needs a
    ``DynamicCache`` whose layers are all plain ``DynamicLayer`` (no sliding
    window: rows are re-aligned by editing the cached keys and values) and a ``forward``
    that takes ``position_ids``.
    """
    if llama_forward.supports(model):
        return True
    try:
        from transformers import DynamicCache
        from transformers.cache_utils import DynamicLayer

        layers = DynamicCache(config=model.config).layers
    except (ImportError, AttributeError, TypeError, ValueError):  # older transformers, odd configs
        return False
    return (
        bool(layers)
        and all(type(layer) is DynamicLayer for layer in layers)
        and "position_ids" in inspect.signature(model.forward).parameters
    )


class ForwardPass(Protocol):
    """One forward pass of the batch's rows: what :class:`HuggingFaceBatch` asks of a model."""

    def new_cache(self) -> Any:
        """An empty KV cache (``layers``, each with ``keys`` and ``values`` of shape (B, H, L, D))."""
        ...

    def __call__(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor, cache: Any
    ) -> torch.Tensor:
        """Feed (B, T) tokens after ``cache`` (updated in place); (B, V) float32 logits of the last column."""
        ...


def cache_argument(model: Any) -> str:
    """The name ``model.forward`` takes its KV cache by: ``cache`` in transformers 5.x (where
    ``past_key_values`` is deprecated), ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


class TransformersForward:
    """:class:`ForwardPass` through the model's own ``forward`` and a ``DynamicCache``."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._cache_argument = cache_argument(model)

    def new_cache(self) -> Any:
        from transformers import DynamicCache

        return DynamicCache(config=self.model.config)

    def __call__(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, position_ids: torch.Tensor, cache: Any
    ) -> torch.Tensor:
        out = self.model(
            input_ids=input_ids,
            attention_mask=attention_mask,
            position_ids=position_ids,
            use_cache=True,
            logits_to_keep=1,
            **{self._cache_argument: cache},
        )
        logits: torch.Tensor = out.logits[:, -1, :].float()  # (B, V)
        return logits


def runs_lean(model: Any, lean: bool = True) -> bool:
    """Whether :func:`forward_pass` gives ``model`` the lean pass (``lean`` allows it and
    :func:`~gameai.dialogue.llama_forward.supports` the model)."""
    return lean and llama_forward.supports(model)


_LEAN_PASSES: weakref.WeakKeyDictionary[Any, llama_forward.LlamaForward] = weakref.WeakKeyDictionary()
"""Each model's lean pass, built once: every batch of a model (one per dialogue thread, a new one
after a failed batch) shares its stacked weights."""


def forward_pass(model: Any, lean: bool = True) -> ForwardPass:
    """The batch's forward pass for ``model``.

    Args:
        model: The causal LM (its weights are not expected to change while it is served).
        lean: Use :class:`~gameai.dialogue.llama_forward.LlamaForward` where it supports the
            model (same logits, a fraction of the Python per token); False: always the model's
            own forward.
    """
    if not runs_lean(model, lean):
        return TransformersForward(model)
    lean_pass = _LEAN_PASSES.get(model)
    if lean_pass is None:
        lean_pass = _LEAN_PASSES[model] = llama_forward.LlamaForward(model)
    return lean_pass


@dataclass(eq=False)
class _Row:
    """One reply in the batch."""

    key: int
    prompt: torch.Tensor
    """Prompt token ids, shape (T,)."""
    params: GenerationParams
    cancel: threading.Event
    streamer: Any
    reply: StreamedReply
    generator: torch.Generator | None
    """Its own sampler's generator; None for greedy decoding (temperature 0)."""
    banned_token_ids: tuple[int, ...] = ()
    """Tokens its reply may not produce (``EncodedPrompt.banned_token_ids``)."""
    done: bool = False


def _pad_left(tensor: torch.Tensor, columns: int, dim: int) -> torch.Tensor:
    """``tensor`` with ``columns`` zeros prepended along ``dim`` (a negative dimension)."""
    if columns == 0:
        return tensor
    return functional.pad(tensor, (0, 0) * (-dim - 1) + (columns, 0))


class HuggingFaceBatch:
    """Replies of one :class:`~gameai.dialogue.hf_backend.HuggingFaceBackend` generated together.

    See the module docstring; the calling order is that of
    :class:`~gameai.dialogue.types.DialogueBatch`. Not thread-safe: one worker thread owns it.

    Args:
        backend: The loaded model, tokenizer and prompt encoding.
        lean: Run the model through :class:`~gameai.dialogue.llama_forward.LlamaForward` where
            it can (see :func:`forward_pass`).
    """

    def __init__(self, backend: BatchableModel, lean: bool = True) -> None:
        self.backend = backend
        self._forward = forward_pass(backend.model, lean)
        self._keys = itertools.count()
        self._joining: list[_Row] = []
        self._rows: list[_Row] = []
        """Rows in the KV cache, in batch order."""
        self._cache: Any = None
        self._mask: torch.Tensor | None = None
        """Which cache columns are real tokens, shape (B, L), int64."""
        self._positions: torch.Tensor | None = None
        """Position of each row's next token (its real tokens so far), shape (B,)."""
        self._pending: torch.Tensor | None = None
        """Each row's newest token, not yet in the cache, shape (B,)."""

    def __len__(self) -> int:
        return len(self._rows) + len(self._joining)

    def add(self, context: DialogueContext, params: GenerationParams, cancel: threading.Event) -> int:
        """Queue a reply; it joins at the next :meth:`step`. Returns its key."""
        encoded = self.backend.encode(context, params)
        streamer = make_streamer(self.backend.tokenizer, skip_prompt=False)
        params = encoded.params
        row = _Row(
            key=next(self._keys),
            prompt=encoded.input_ids[0],
            params=params,
            cancel=cancel,
            streamer=streamer,
            reply=StreamedReply(streamer, encoded, self.backend.eos_token_ids),
            generator=seeded_generator(params.seed, self.backend.device) if params.temperature > 0 else None,
            banned_token_ids=encoded.banned_token_ids,
        )
        self._joining.append(row)
        return row.key

    def step(self) -> list[ReplyProgress]:
        """One token for every reply (see the module docstring)."""
        cancelled = [row for row in self._rows + self._joining if row.cancel.is_set()]  # one look each
        for row in cancelled:
            row.done = True
        progress = [ReplyProgress(row.key, TextDelta("", 0, "cancelled")) for row in cancelled]
        self._joining = [row for row in self._joining if not row.done]
        self._drop_done()
        with torch.inference_mode():
            if self._rows:
                tokens = self._pick(self._rows, self._decode())
                self._pending = torch.tensor(tokens, device=self.backend.device)
                progress += self._advance(self._rows, tokens)
            if self._joining:
                joining, self._joining = self._joining, []
                progress += self._prefill(joining)
        self._drop_done()
        return progress

    # ------------------------------------------------------------------ model passes

    def _decode(self) -> torch.Tensor:
        """Feed every row its pending token; the next-token logits, shape (B, V) float32."""
        assert self._mask is not None and self._positions is not None and self._pending is not None
        self._mask = functional.pad(self._mask, (0, 1), value=1)  # (B, L + 1)
        logits = self._forward(self._pending[:, None], self._mask, self._positions[:, None], self._cache)
        self._positions = self._positions + 1
        return logits

    def _prefill(self, rows: list[_Row]) -> list[ReplyProgress]:
        """Run the prompts of ``rows``, pick their first tokens and add them to the batch."""
        device = self.backend.device
        length = max(len(row.prompt) for row in rows)
        pad_id = self.backend.pad_token_id if self.backend.pad_token_id is not None else 0
        input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)  # (B, T)
        mask = torch.zeros((len(rows), length), dtype=torch.long)  # (B, T)
        for index, row in enumerate(rows):
            input_ids[index, length - len(row.prompt) :] = row.prompt
            mask[index, length - len(row.prompt) :] = 1
        input_ids, mask = input_ids.to(device), mask.to(device)
        cache = self._forward.new_cache()
        logits = self._forward(input_ids, mask, (mask.cumsum(-1) - 1).clamp(min=0), cache)
        tokens = self._pick(rows, logits)
        self._append(rows, cache, mask, torch.tensor(tokens, device=device))
        return self._advance(rows, tokens)

    def _append(self, rows: list[_Row], cache: Any, mask: torch.Tensor, pending: torch.Tensor) -> None:
        """Add freshly prefilled rows below the running ones, aligning their newest columns."""
        positions = mask.sum(-1)  # (B_new,)
        if self._mask is None or not self._rows:
            self._rows, self._cache, self._mask, self._positions, self._pending = (
                rows,
                cache,
                mask,
                positions,
                pending,
            )
            return
        assert self._positions is not None and self._pending is not None
        old_length, new_length = self._mask.shape[1], mask.shape[1]
        width = max(old_length, new_length)
        for old, new in zip(self._cache.layers, cache.layers, strict=True):
            old.keys = torch.cat([_pad_left(old.keys, width - old_length, -2),
                                  _pad_left(new.keys, width - new_length, -2)])  # fmt: skip
            old.values = torch.cat([_pad_left(old.values, width - old_length, -2),
                                    _pad_left(new.values, width - new_length, -2)])  # fmt: skip
        self._mask = torch.cat([_pad_left(self._mask, width - old_length, -1),
                                _pad_left(mask, width - new_length, -1)])  # fmt: skip
        self._positions = torch.cat([self._positions, positions])
        self._pending = torch.cat([self._pending, pending])
        self._rows = self._rows + rows

    def _drop_done(self) -> None:
        """Remove the rows that ended and the cache columns that are padding in every row left."""
        keep = [index for index, row in enumerate(self._rows) if not row.done]
        if len(keep) == len(self._rows):
            return
        if not keep:
            self._rows, self._cache, self._mask, self._positions, self._pending = [], None, None, None, None
            return
        assert self._mask is not None and self._positions is not None and self._pending is not None
        index = torch.tensor(keep, device=self._mask.device)
        self._rows = [self._rows[i] for i in keep]
        self._cache.batch_select_indices(index)
        self._mask, self._positions, self._pending = (
            self._mask[index],
            self._positions[index],
            self._pending[index],
        )
        start = int(self._mask.argmax(dim=1).min())  # the first real column of the longest row
        if start > 0:
            self._mask = self._mask[:, start:]
            for layer in self._cache.layers:
                layer.keys, layer.values = layer.keys[:, :, start:], layer.values[:, :, start:]

    # ------------------------------------------------------------------ tokens to text

    @staticmethod
    def _pick(rows: list[_Row], logits: torch.Tensor) -> list[int]:
        """Each row's next token from its logits row (B, V): sampled with its generator, or greedy."""
        for index, row in enumerate(rows):
            ban_tokens(logits[index : index + 1], row.banned_token_ids)
        return sample_rows(
            logits,
            [(row.params.temperature, row.params.top_p) for row in rows],
            [row.generator for row in rows],
        )

    def _advance(self, rows: list[_Row], tokens: list[int]) -> list[ReplyProgress]:
        """Give each row its new token; what it makes of it, and whether the row ended."""
        progress = []
        for row, token in zip(rows, tokens, strict=True):
            row.streamer.put(torch.tensor([token]))
            end = row.reply.ended()  # the end token or the token budget
            if end is not None:
                row.streamer.end()  # its held text comes out with this token's
            text, new_tokens = row.streamer.drain()
            delta = row.reply.feed(text, new_tokens, end)  # "stop" on a stop sequence
            row.done = delta is not None and delta.finish_reason is not None
            if delta is not None:
                progress.append(ReplyProgress(row.key, delta))
        return progress
