"""Loading the tokenizer of our trained dialogue model (made by ``gameai train dialogue tokenizer``).

It is a byte-level BPE whose prompt markers (:data:`gameai.dialogue.prompt.MARKERS`) are
special tokens, one id each, so player text can never produce one. No BOS token is added:
a prompt is encoded as it is, and :data:`~gameai.dialogue.prompt.END` is both the
end-of-reply and the EOS token.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizerFast

from gameai.dialogue.prompt import BEHAVIOUR_REF, FACTS


def load_tokenizer(directory: Path) -> PreTrainedTokenizerFast:
    """Load a tokenizer saved with ``save_pretrained`` (no network)."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(directory), local_files_only=True)
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    return tokenizer


def fact_marker_ids(tokenizer: Any) -> tuple[int, ...]:
    """The token ids of the fact markers (:data:`~gameai.dialogue.prompt.FACTS`), in marker
    order; empty when the tokenizer lacks any of them (a model not trained on our prompt)."""
    ids = [tokenizer.convert_tokens_to_ids(marker) for marker in FACTS]
    if all(isinstance(i, int) and i != tokenizer.unk_token_id for i in ids):
        return tuple(ids)
    return ()


def behaviour_marker_id(tokenizer: Any) -> int | None:
    """The token id of :data:`~gameai.dialogue.prompt.BEHAVIOUR_REF`; None when the tokenizer
    lacks it (a model trained before replies could point at the behaviour)."""
    token_id = tokenizer.convert_tokens_to_ids(BEHAVIOUR_REF)
    return token_id if isinstance(token_id, int) and token_id != tokenizer.unk_token_id else None


@dataclass(frozen=True)
class ReferenceMarkerIds:
    """The token ids of a tokenizer's reference markers, looked up once per model."""

    facts: tuple[int, ...]
    """:func:`fact_marker_ids`."""
    behaviour: int | None
    """:func:`behaviour_marker_id`."""

    @classmethod
    def of(cls, tokenizer: Any) -> ReferenceMarkerIds:
        """The ids of ``tokenizer``'s markers."""
        return cls(fact_marker_ids(tokenizer), behaviour_marker_id(tokenizer))

    def unshown(self, facts_shown: int, behaviour_shown: bool) -> tuple[int, ...]:
        """The markers a reply may not hold when its prompt shows ``facts_shown`` facts and a
        behaviour sentence or none: a reply cannot point at a sentence that is not there."""
        banned = self.facts[facts_shown:]
        if self.behaviour is not None and not behaviour_shown:
            banned += (self.behaviour,)
        return banned
