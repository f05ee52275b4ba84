"""What the service asks of a dialogue backend.

The runtime's dialogue worker drives any :class:`DialogueBackend`; backends live in
this package (our own trained model, any local Hugging Face causal LM directory).
Calling order: build a :class:`DialogueContext` from the request and the session
(NPC memory, latest recognised behaviour), then iterate ``backend.stream(...)`` off
the event loop; each item is a :class:`TextDelta` to forward as ``dialogue.delta``, the
last one with the reply's :data:`FinishReason`.

A backend that can generate several replies at once also implements
:class:`BatchingDialogueBackend`: ``open_batch()`` gives a :class:`DialogueBatch` that
replies join with :meth:`~DialogueBatch.add` and that advances every reply by one token
per :meth:`~DialogueBatch.step`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from gameai.protocol.messages import NpcCard


@dataclass(frozen=True)
class DialogueTurn:
    """One earlier exchange with the same NPC."""

    player_line: str
    npc_line: str


@dataclass(frozen=True)
class DialogueContext:
    """Everything a reply is conditioned on."""

    npc_id: str
    """The game's id for the NPC (memory is kept per NPC id)."""
    npc: NpcCard
    """Who the NPC is and what it knows (a free-text persona becomes a card without a name)."""
    player_line: str
    """What the player just said (may be empty: the NPC speaks first)."""
    behaviour: str | None = None
    """The recognised player behaviour (a class of the game's behaviour model), if known."""
    behaviour_text: str | None = None
    """What the NPC may say about it: the game's sentence for the label (its NPC file's
    ``behaviours``); None: the generic one (:mod:`gameai.dialogue.behaviour_text`)."""
    mood: str | None = None
    """The NPC's mood (e.g. "cheerful", "wary"); the persona's default when None."""
    events: tuple[str, ...] = ()
    """Recent game events or conditions, most recent last (e.g. "kill", "low_health")."""
    game_state: Mapping[str, Any] = field(default_factory=dict)
    """Free-form game state from the request (health, score, ...)."""
    history: tuple[DialogueTurn, ...] = ()
    """Earlier turns with this NPC, oldest first."""


@dataclass(frozen=True)
class GenerationParams:
    """Sampling settings of one reply."""

    max_new_tokens: int = 48
    """Upper bound on generated tokens."""
    temperature: float = 0.5
    """Softmax temperature; 0 means greedy. 0.5 by default: against 0.8, the shipped model's
    held-out replies state more facts (0.95 against 0.91), invent less (0.020 against 0.040) and
    keep chit-chat intact more often (0.60 against 0.46; docs/dialogue.md, *Temperature*)."""
    top_p: float = 0.95
    """Nucleus sampling mass."""
    seed: int | None = None
    """Seed for reproducible sampling; None draws a fresh one."""
    stop: tuple[str, ...] = ()
    """Stop sequences: generation ends before any of them."""


FinishReason = Literal["stop", "length", "cancelled"]
"""Why a reply ended: ``"stop"`` (the model's end token or a stop sequence), ``"length"`` (the
token budget actually applied: ``max_new_tokens``, or less where the prompt left less room in
the model's context) or ``"cancelled"``."""


class TextDelta(str):
    """A piece of a reply: its text (it *is* that ``str``), the tokens that produced it and, on
    the reply's last piece, why the reply ended.

    Made once, where the backend's streamer turns token ids into text, and handed on as it is
    through the runtime's :class:`~gameai.runtime.dialogue.DialogueStream` to its reader, which
    can use it as the ``str`` it is (or read :attr:`text`). Equality is that of the text.
    """

    tokens: int
    """Tokens generated for this piece of text."""
    finish_reason: FinishReason | None
    """Why the reply ended, on its last piece; None on every other piece."""

    def __new__(cls, text: str, tokens: int, finish_reason: FinishReason | None = None) -> TextDelta:
        delta = super().__new__(cls, text)
        delta.tokens = tokens
        delta.finish_reason = finish_reason
        return delta

    @property
    def text(self) -> str:
        """The piece's text: the piece itself (no copy)."""
        return self

    def __repr__(self) -> str:
        return f"TextDelta({str.__repr__(self)}, {self.tokens}, {self.finish_reason!r})"


class DialogueBackend(Protocol):
    """A model that streams NPC replies."""

    name: str
    """Short name reported in ``welcome`` (e.g. "gameai-npc-gpt")."""
    version: str
    """Version or content hash of the loaded weights."""

    def stream(
        self, context: DialogueContext, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[TextDelta | str]:
        """Yield the reply in order, until done or ``cancel`` is set.

        Pieces are :class:`TextDelta` (exact token counts; the last one says why the reply
        ended) or plain ``str`` (counted one token each; the runtime then infers the finish
        reason from the cancel and the token count). Joining the texts gives the full reply.

        Blocking; call it from a worker thread, never from the event loop.
        """
        ...


@dataclass(frozen=True)
class ReplyProgress:
    """What one step of a :class:`DialogueBatch` did for one of its replies."""

    key: int
    """The reply, as :meth:`DialogueBatch.add` returned it."""
    delta: TextDelta
    """New text and tokens of the reply; its ``finish_reason`` is set when the reply ended
    (end token or a stop sequence, its token budget, or its cancel)."""

    @property
    def done(self) -> bool:
        """Whether the reply ended."""
        return self.delta.finish_reason is not None


class DialogueBatch(Protocol):
    """Replies generated together, one token each per :meth:`step`.

    Calling order, from one worker thread: :meth:`add` any time (the reply joins at the next
    step), :meth:`step` while ``len(batch)`` is not 0. A reply whose ``cancel`` is set ends
    at the next step with no more text. Blocking; never call it from the event loop.
    """

    def add(self, context: DialogueContext, params: GenerationParams, cancel: threading.Event) -> int:
        """Queue a reply to join the batch at the next step.

        Returns:
            The reply's key in :class:`ReplyProgress`.
        """
        ...

    def step(self) -> list[ReplyProgress]:
        """Generate one token for every reply; return what happened to each that changed.

        Every reply added comes out once with ``done`` (a ``finish_reason``) and never again.

        Raises:
            Exception: Whatever the model raised; every reply of the batch is then lost
                (open a new batch).
        """
        ...

    def __len__(self) -> int:
        """Replies added and not yet done."""
        ...


@runtime_checkable
class BatchingDialogueBackend(DialogueBackend, Protocol):
    """A :class:`DialogueBackend` that can also run many replies in one batched forward pass."""

    def open_batch(self) -> DialogueBatch | None:
        """A new, empty batch; None when this model cannot be batched (stream one reply at a time)."""
        ...
