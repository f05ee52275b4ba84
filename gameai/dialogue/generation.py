"""What both generation paths of a Hugging Face model share, below both of them.

:meth:`gameai.dialogue.hf_backend.HuggingFaceBackend.stream` (``model.generate`` in a
thread) and :class:`gameai.dialogue.hf_batch.HuggingFaceBatch` (one forward pass per token
for many replies) take from here the sampling rule (:func:`sample_next_token` with a
:func:`seeded_generator` per reply), the streamer that turns token ids into text
(:func:`make_streamer`: the one conversion from tokens to ``str``), and each reply's
:class:`StreamedReply` (stop sequences, token counts, why it ended), so a seeded reply is
the same text, token count and finish reason on either path.

Imports go one way: ``hf_backend`` -> ``hf_batch`` -> this module; this module imports
neither.
"""

from __future__ import annotations

import dataclasses
import secrets
from typing import Any, Final

import torch

from gameai.dialogue.prompt import expand_references
from gameai.dialogue.stop_sequences import StopSequenceBuffer
from gameai.dialogue.types import FinishReason, GenerationParams, TextDelta

#: Nucleus sizes tried in turn (a partial sort of that many tokens); a row whose nucleus is not
#: within the first size tries the next, and the whole vocabulary last.
NUCLEUS_SIZES: Final = (64, 512)


def nucleus(
    scores: torch.Tensor, temperature: float, top_p: float
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Each row's sampling distribution: softmax at ``temperature``, cut to the ``top_p`` nucleus.

    A row's result is the same computed alone or in a batch (every step is row by row, and the
    number of candidates is chosen per row), so a batch computes all its rows at once
    (:func:`sample_rows`) and the one-at-a-time path one row (:func:`sample_next_token`), and a
    seeded reply draws the same tokens on both.

    Args:
        scores: Next-token logits, shape (B, V).
        temperature: Softmax temperature (> 0).
        top_p: Nucleus mass in (0, 1].

    Returns:
        Per row, (probabilities of its candidates, most likely first, those outside the nucleus
        at 0; their token ids), each of shape (k,): the first of :data:`NUCLEUS_SIZES` that holds
        more than ``top_p`` of the mass, else the whole vocabulary.
    """
    probs = torch.softmax(scores.float() / temperature, dim=-1)  # (B, V)
    vocabulary = probs.shape[-1]
    if top_p >= 1.0:
        everything = torch.arange(vocabulary, device=probs.device)
        return [(row, everything) for row in probs]
    sizes = [k for k in NUCLEUS_SIZES if k < vocabulary] + [vocabulary]

    def largest(values: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The ``k`` largest of the last dimension, descending (a partial sort below the vocabulary)."""
        found = values.topk(k, dim=-1) if k < vocabulary else values.sort(dim=-1, descending=True)
        return found.values, found.indices

    first_values, first_tokens = largest(probs, sizes[0])  # (B, k) each, every row at once
    out = []
    for index in range(probs.shape[0]):
        candidates, tokens = first_values[index], first_tokens[index]
        for k in sizes[1:]:  # widen where the nucleus is not within the first candidates
            if float(candidates.sum()) > top_p:
                break
            candidates, tokens = largest(probs[index], k)
        outside = candidates.cumsum(dim=-1) - candidates > top_p
        out.append((candidates.masked_fill(outside, 0.0), tokens))
    return out


def sample_next_token(
    scores: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator
) -> torch.Tensor:
    """Draw the next token of each row from ``scores`` with nucleus sampling.

    The one sampling rule of both generation paths (``model.generate`` and the batch's
    :func:`sample_rows`), so a seeded reply draws the same tokens in either.

    Args:
        scores: Next-token logits, shape (B, V).
        temperature: Softmax temperature (> 0).
        top_p: Nucleus mass in (0, 1].
        generator: The reply's own random generator.

    Returns:
        The chosen token ids, shape (B, 1).
    """
    rows = scores.shape[0]
    chosen = sample_rows(scores, [(temperature, top_p)] * rows, [generator] * rows)
    return torch.tensor(chosen, device=scores.device).reshape(-1, 1)


def sample_rows(
    scores: torch.Tensor, settings: list[tuple[float, float]], generators: list[torch.Generator | None]
) -> list[int]:
    """The next token of every row of a batch: greedy where its generator is None, else drawn with
    its generator by the rule of :func:`sample_next_token`, the rows with the same
    (temperature, top_p) computed together.

    Args:
        scores: Next-token logits, shape (B, V) (banned tokens already at ``-inf``).
        settings: Per row, (temperature, top_p).
        generators: Per row, its generator, or None for greedy decoding.

    Returns:
        The chosen token ids, one per row.
    """
    tokens = [0] * scores.shape[0]
    groups: dict[tuple[float, float], list[int]] = {}
    for index, generator in enumerate(generators):
        if generator is None:
            tokens[index] = int(scores[index].argmax())
        else:
            groups.setdefault(settings[index], []).append(index)
    for (temperature, top_p), rows in groups.items():
        for index, (candidates, ids) in zip(rows, nucleus(scores[rows], temperature, top_p), strict=True):
            tokens[index] = int(ids[torch.multinomial(candidates, 1, generator=generators[index])])
    return tokens


def ban_tokens(scores: torch.Tensor, banned_token_ids: tuple[int, ...]) -> torch.Tensor:
    """``scores`` (B, V) with the banned tokens at ``-inf`` (in place; returned for chaining)."""
    if banned_token_ids:
        scores[:, list(banned_token_ids)] = float("-inf")
    return scores


def seeded_generator(seed: int | None, device: torch.device) -> torch.Generator:
    """A generator of its own for one reply, seeded with ``seed`` (a fresh random seed when None)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed if seed is not None else secrets.randbits(32))
    return generator


def make_streamer(tokenizer: Any, skip_prompt: bool = True) -> Any:
    """A ``TextIteratorStreamer`` whose pieces are ``(text, tokens)``: each decoded piece of text
    with the number of tokens put since the previous piece.

    ``model.generate`` feeds it from its thread while
    :meth:`~gameai.dialogue.hf_backend.HuggingFaceBackend.stream` iterates it; a batch feeds
    one per reply itself and takes its pieces with ``drain()``. Counting at the piece, where
    the tokens become text, makes a reply's token counts the same on both paths however far
    ``generate``'s thread runs ahead of the reader.

    Args:
        tokenizer: The model's tokenizer (special tokens are left out of the text).
        skip_prompt: Ignore the first ``put`` (``generate`` puts the prompt first).
    """
    import queue

    from transformers import TextIteratorStreamer

    class CountingStreamer(TextIteratorStreamer):
        """A TextIteratorStreamer that also counts generated tokens."""

        def __init__(self) -> None:
            super().__init__(tokenizer, skip_prompt=skip_prompt, skip_special_tokens=True)
            self.tokens = 0
            """Tokens generated so far."""
            self.last_token: int | None = None
            """The newest generated token id."""
            self._queued = 0
            """Tokens already counted in a queued piece."""

        def put(self, value: torch.Tensor) -> None:
            if not (self.skip_prompt and self.next_tokens_are_prompt):
                self.tokens += int(value.numel())
                if value.numel():
                    self.last_token = int(value.reshape(-1)[-1])
            super().put(value)

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            self.text_queue.put((text, self.tokens - self._queued), timeout=self.timeout)
            self._queued = self.tokens
            if stream_end:
                self.text_queue.put(self.stop_signal, timeout=self.timeout)

        def drain(self) -> tuple[str, int]:
            """The text and tokens queued so far, without waiting (the end-of-stream mark left out)."""
            texts: list[str] = []
            tokens = 0
            while True:
                try:
                    piece = self.text_queue.get_nowait()
                except queue.Empty:
                    return "".join(texts), tokens
                if piece is not self.stop_signal:
                    texts.append(piece[0])
                    tokens += piece[1]

    return CountingStreamer()


@dataclasses.dataclass(frozen=True)
class EncodedPrompt:
    """A reply's prompt as token ids, cut to fit the model's context."""

    input_ids: torch.Tensor
    """Prompt token ids, shape (1, T)."""
    params: GenerationParams
    """The request's settings, ``max_new_tokens`` lowered to what the context leaves room for."""
    stops: StopSequenceBuffer
    """The request's stop sequences plus those of the prompt style."""
    facts: tuple[str, ...] = ()
    """The sentences the prompt's fact markers stand for (our prompt style;
    :func:`~gameai.dialogue.prompt.facts_in_prompt`): a marker in the reply becomes its sentence."""
    banned_token_ids: tuple[int, ...] = ()
    """Tokens the reply may not produce: the markers of facts the prompt does not show, and the
    behaviour's when it names none (a reply cannot point at a sentence that is not there);
    :func:`ban_tokens` applies it on both paths."""
    behaviour: str = ""
    """The sentence :data:`~gameai.dialogue.prompt.BEHAVIOUR_REF` stands for ("" when none)."""


class StreamedReply:
    """The text of one reply as its tokens are decoded: stop sequences cut, token counts attached,
    and why it ended.

    Feed the streamer's pieces in order to :meth:`feed`; the
    :class:`~gameai.dialogue.types.TextDelta` it returns, if any, is what to emit, with the tokens
    of the pieces it holds. The reply's last delta carries its ``finish_reason``: ``"stop"`` as
    soon as a stop sequence completes, else the ``end`` passed with the last piece or to
    :meth:`finish` (:meth:`ended` says which applies once generation stopped by itself).

    Args:
        streamer: The reply's :func:`make_streamer` (for its token count and last token, to
            tell why generation ended).
        encoded: The reply's prompt: its stop sequences and the token budget actually applied
            (``params.max_new_tokens``, lowered where the prompt left less room).
        eos_token_ids: The tokens that end a reply.
    """

    def __init__(self, streamer: Any, encoded: EncodedPrompt, eos_token_ids: list[int]) -> None:
        self.streamer = streamer
        self.stops = encoded.stops
        self.max_new_tokens = encoded.params.max_new_tokens
        self.eos_token_ids = eos_token_ids
        self.facts = encoded.facts
        self.behaviour = encoded.behaviour
        self._tokens = 0
        """Tokens fed and not yet reported in a delta."""
        self._held = ""
        """Text that may be the start of a fact marker, held until it is whole."""

    @property
    def stopped(self) -> bool:
        """Whether a stop sequence was reached (nothing more is ever emitted)."""
        return self.stops.stopped

    def ended(self) -> FinishReason | None:
        """Why generation is over by itself: ``"stop"`` (end token), ``"length"`` (the budget), or None."""
        if self.streamer.last_token is not None and self.streamer.last_token in self.eos_token_ids:
            return "stop"
        if self.streamer.tokens >= self.max_new_tokens:
            return "length"
        return None

    def feed(self, text: str, tokens: int, end: FinishReason | None = None) -> TextDelta | None:
        """The delta to emit for a new piece of the streamer (None if nothing to emit yet).

        Args:
            text: The piece's text.
            tokens: The tokens that made it.
            end: Why the reply ends, when this piece is its last: the delta then also holds the
                held-back text and every token not yet reported, and carries ``end``.
        """
        self._tokens += tokens
        out = self.stops.push(self._expand(text, final=end is not None))
        if self.stops.stopped:
            return self._emit(out, "stop")
        if end is not None:
            return self._emit(out + self.stops.flush(), end)
        return self._emit(out, None) if out else None

    def finish(self, end: FinishReason) -> TextDelta:
        """The last delta of a reply whose pieces were all fed: held-back text, unreported tokens, ``end``."""
        return self._emit(self.stops.push(self._expand("", final=True)) + self.stops.flush(), end)

    def _expand(self, text: str, final: bool) -> str:
        """``text`` with whole reference markers expanded; a trailing ``<`` or ``<|...`` that may
        open one is held until the next piece (or the end)."""
        if not self.facts and not self.behaviour:
            return text
        text, self._held = self._held + text, ""
        start = text.rfind("<")
        tail = text[start:]
        if not final and start >= 0 and "|>" not in tail and (tail.startswith("<|") or tail == "<"):
            text, self._held = text[:start], tail
        return expand_references(text, self.facts, self.behaviour)

    def _emit(self, text: str, end: FinishReason | None) -> TextDelta:
        delta, self._tokens = TextDelta(text, self._tokens, end), 0
        return delta
