"""Training the dialogue model's byte-level BPE tokenizer with ``tokenizers`` on our corpus.

Serving loads it with :func:`gameai.dialogue.tokenizer.load_tokenizer`.

The prompt markers (:data:`gameai.dialogue.prompt.MARKERS`) are one id each, and player text
can never produce one (``clean_text`` removes marker look-alikes). All are special tokens
except the reference markers (:data:`~gameai.dialogue.prompt.REFERENCES`: the fact markers and
the behaviour's), added as ordinary tokens: a reply names them and they must decode as text,
for the backend to expand them into their sentences. No BOS token is added: a prompt is encoded as it is, and
:data:`~gameai.dialogue.prompt.END` is both the end-of-reply and the EOS token.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from gameai.dialogue.prompt import END, MARKERS, PAD, REFERENCES


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> PreTrainedTokenizerFast:
    """Train a byte-level BPE tokenizer.

    Args:
        texts: Training text (prompts and replies); markers in it are kept whole.
        vocab_size: Size of the vocabulary, markers and the 256 byte tokens included.

    Returns:
        A fast tokenizer with ``eos_token`` = END and ``pad_token`` = PAD.
    """
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[m for m in MARKERS if m not in REFERENCES],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    tokenizer.add_tokens([AddedToken(m, special=False, normalized=False) for m in REFERENCES])
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=END,
        pad_token=PAD,
        additional_special_tokens=[m for m in MARKERS if m not in (END, PAD, *REFERENCES)],
        clean_up_tokenization_spaces=False,
    )
