"""Token batches of (prompt, reply) examples for training and perplexity.

An example is encoded as ``prompt + reply + END``; the loss is taken on the reply and
the end marker only (labels of prompt and padding are -100). Batches are drawn in a
fixed order per (seed, epoch), so a run resumed at step ``s`` sees exactly the batches an
uninterrupted run would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from transformers import PreTrainedTokenizerBase

from gameai.dialogue.prompt import END

IGNORE_INDEX = -100


@dataclass(frozen=True)
class EncodedExample:
    """Token ids of one example and where its reply starts."""

    ids: np.ndarray
    """int64 token ids, (T,): prompt, reply, end marker."""
    reply_start: int
    """Index of the reply's first token in ``ids``."""


def encode_examples(
    tokenizer: PreTrainedTokenizerBase, pairs: Iterable[tuple[str, str]], block_size: int
) -> list[EncodedExample]:
    """Encode (prompt, reply) pairs, fitting each in ``block_size`` tokens.

    A prompt that is too long loses its oldest tokens (it keeps its end, where the player
    line is); a reply is cut to leave at least 8 prompt tokens.
    """
    pairs = list(pairs)
    prompts = tokenizer([p for p, _ in pairs], add_special_tokens=False)["input_ids"]
    replies = tokenizer([r + END for _, r in pairs], add_special_tokens=False)["input_ids"]
    encoded = []
    for prompt, reply in zip(prompts, replies, strict=True):
        reply = reply[: block_size - 8]
        prompt = prompt[-(block_size - len(reply)) :]
        encoded.append(EncodedExample(np.array(prompt + reply, dtype=np.int64), len(prompt)))
    return encoded


def collate(
    examples: list[EncodedExample],
    pad_id: int,
    decision_ids: tuple[int, ...] = (),
    decision_weight: float = 1.0,
) -> dict[str, torch.Tensor]:
    """Right-pad a list of examples into a batch.

    Args:
        examples: The encoded examples.
        pad_id: The padding token.
        decision_ids: Tokens that decide a reply wherever they are (the fact markers: which fact).
        decision_weight: Loss weight of each reply's first token (answer or "I don't know") and
            of the ``decision_ids`` in it; the other reply tokens weigh 1.

    Returns:
        ``input_ids``, ``attention_mask`` and ``labels``, each (B, T) int64, T the longest
        example, and ``weights`` (B, T) float32: each label's loss weight (0 where ignored).
    """
    T = max(len(e.ids) for e in examples)
    input_ids = torch.full((len(examples), T), pad_id, dtype=torch.long)
    labels = torch.full((len(examples), T), IGNORE_INDEX, dtype=torch.long)
    attention_mask = torch.zeros((len(examples), T), dtype=torch.long)
    weights = torch.zeros((len(examples), T), dtype=torch.float32)
    deciding = torch.tensor(decision_ids, dtype=torch.long)
    for row, example in enumerate(examples):
        ids = torch.from_numpy(example.ids)
        input_ids[row, : len(ids)] = ids
        attention_mask[row, : len(ids)] = 1
        labels[row, example.reply_start : len(ids)] = ids[example.reply_start :]
        weights[row, example.reply_start : len(ids)] = 1.0
        if decision_weight != 1.0:
            weights[row, example.reply_start] = decision_weight
            if decision_ids:
                marked = torch.isin(ids[example.reply_start :], deciding)
                weights[row, example.reply_start : len(ids)][marked] = decision_weight
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels, "weights": weights}


def weighted_reply_loss(logits: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """Weighted mean cross-entropy of the reply tokens (the plain mean when every weight is 1).

    Args:
        logits: (B, T, V) model outputs.
        labels: (B, T) token ids, ``IGNORE_INDEX`` where no loss is taken.
        weights: (B, T) each label's weight (:func:`collate`).
    """
    targets, w = labels[:, 1:].flatten(), weights[:, 1:].flatten()  # token t+1 is predicted at t
    losses = torch.nn.functional.cross_entropy(
        logits[:, :-1].flatten(0, 1).float(), targets, ignore_index=IGNORE_INDEX, reduction="none"
    )
    return (losses * w).sum() / w.sum().clamp(min=1e-9)


class BatchOrder:
    """Batch ``step`` of a deterministic shuffled pass over the examples, epoch after epoch."""

    def __init__(self, n_examples: int, batch_size: int, seed: int) -> None:
        if n_examples < batch_size:
            raise ValueError(f"{n_examples} examples cannot fill a batch of {batch_size}")
        self.n_examples = n_examples
        self.batch_size = batch_size
        self.seed = seed
        self.batches_per_epoch = n_examples // batch_size
        self._epoch = -1
        self._order = np.arange(0)

    def indices(self, step: int) -> np.ndarray:
        """Example indices of batch ``step`` (0-based), shape (batch_size,)."""
        epoch, position = divmod(step, self.batches_per_epoch)
        if epoch != self._epoch:
            self._order = np.random.default_rng([self.seed, epoch]).permutation(self.n_examples)
            self._epoch = epoch
        start = position * self.batch_size
        return self._order[start : start + self.batch_size]


@torch.no_grad()
def reply_loss(
    model: torch.nn.Module, examples: list[EncodedExample], pad_id: int, batch_size: int, device: torch.device
) -> float:
    """Mean cross-entropy per reply token (nats) over ``examples``; exp of it is the perplexity."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(examples), batch_size):
        batch = {k: v.to(device) for k, v in collate(examples[start : start + batch_size], pad_id).items()}
        logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        targets = batch["labels"][:, 1:]  # (B, T-1): token t+1 is predicted at t
        losses = torch.nn.functional.cross_entropy(
            logits[:, :-1].flatten(0, 1).float(),
            targets.flatten(),
            ignore_index=IGNORE_INDEX,
            reduction="sum",
        )
        total += float(losses)
        count += int((targets != IGNORE_INDEX).sum())
    model.train(was_training)
    return total / max(count, 1)
