"""What the service asks of a dialogue backend.

The runtime's dialogue worker drives any :class:`DialogueBackend`; backends live in
this package (our own trained model, any local Hugging Face causal LM directory).
Calling order: build a :class:`DialogueContext` from the request and the session
(NPC memory, latest recognised behaviour), then iterate ``backend.stream(...)`` off
the event loop; each item is a text delta to forward as ``dialogue.delta``.

A backend that can generate several replies at once also implements
:class:`BatchingDialogueBackend`: ``open_batch()`` gives a :class:`DialogueBatch` that
replies join with :meth:`~DialogueBatch.add` and that advances every reply by one token
per :meth:`~DialogueBatch.step`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


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
    persona: str
    """A persona key of :data:`gameai.vocabulary.PERSONAS` or a free-text description."""
    player_line: str
    """What the player just said (may be empty: the NPC speaks first)."""
    behaviour: str | None = None
    """The recognised player behaviour (:data:`gameai.vocabulary.BEHAVIOURS`), if known."""
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
    temperature: float = 0.8
    """Softmax temperature; 0 means greedy."""
    top_p: float = 0.95
    """Nucleus sampling mass."""
    seed: int | None = None
    """Seed for reproducible sampling; None draws a fresh one."""
    stop: tuple[str, ...] = ()
    """Stop sequences: generation ends before any of them."""


class TextDelta(str):
    """A text delta that also says how many tokens produced it.

    Backends may yield these instead of plain ``str`` (it *is* a ``str``); the runtime
    then reports exact token counts, and otherwise counts one token per delta.
    """

    tokens: int
    """Tokens generated for this piece of text."""

    def __new__(cls, text: str, tokens: int) -> TextDelta:
        delta = super().__new__(cls, text)
        delta.tokens = tokens
        return delta


class DialogueBackend(Protocol):
    """A model that streams NPC replies."""

    name: str
    """Short name reported in ``welcome`` (e.g. "gameai-npc-gpt")."""
    version: str
    """Version or content hash of the loaded weights."""

    def stream(
        self, context: DialogueContext, params: GenerationParams, cancel: threading.Event
    ) -> Iterator[str]:
        """Yield the reply as text deltas, in order, until done or ``cancel`` is set.

        Blocking; call it from a worker thread, never from the event loop.
        Joining all deltas gives the full reply.
        """
        ...


@dataclass(frozen=True)
class ReplyProgress:
    """What one step of a :class:`DialogueBatch` did for one of its replies."""

    key: int
    """The reply, as :meth:`DialogueBatch.add` returned it."""
    delta: TextDelta | None
    """New text of the reply (None when the step produced no text to emit yet)."""
    done: bool
    """Whether the reply ended (end token, ``max_new_tokens``, a stop sequence, or its cancel)."""


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

        Every reply added comes out once with ``done=True`` and never again.

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
