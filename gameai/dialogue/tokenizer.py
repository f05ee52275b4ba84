"""Loading the tokenizer of our trained dialogue model (made by ``gameai train dialogue tokenizer``).

It is a byte-level BPE whose prompt markers (:data:`gameai.dialogue.prompt.MARKERS`) are
special tokens, one id each, so player text can never produce one. No BOS token is added:
a prompt is encoded as it is, and :data:`~gameai.dialogue.prompt.END` is both the
end-of-reply and the EOS token.
"""

from __future__ import annotations

from pathlib import Path

from transformers import PreTrainedTokenizerFast


def load_tokenizer(directory: Path) -> PreTrainedTokenizerFast:
    """Load a tokenizer saved with ``save_pretrained`` (no network)."""
    tokenizer = PreTrainedTokenizerFast.from_pretrained(str(directory), local_files_only=True)
    assert isinstance(tokenizer, PreTrainedTokenizerFast)
    return tokenizer
