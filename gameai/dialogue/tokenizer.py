"""Loading the tokenizer of our trained dialogue model (made by ``gameai train dialogue tokenizer``).

It is a byte-level BPE whose prompt markers (:data:`gameai.dialogue.prompt.MARKERS`) are
special tokens, one id each, so player text can never produce one. No BOS token is added:
a prompt is encoded as it is, and :data:`~gameai.dialogue.prompt.END` is both the
end-of-reply and the EOS token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import PreTrainedTokenizerFast

from gameai.dialogue.prompt import FACTS


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
