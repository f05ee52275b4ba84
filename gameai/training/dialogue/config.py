"""Configs of the dialogue model and of ``gameai train dialogue`` (no heavy imports here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gameai.training.dialogue.corpus.generate import CorpusConfig

Step = Literal["all", "corpus", "chat", "tokenizer", "pretrain", "finetune", "export"]
"""A step of :mod:`gameai.training.dialogue.train`."""


@dataclass(frozen=True)
class DialogueModelConfig:
    """Shape of the dialogue Transformer."""

    n_layer: int = 4
    """Transformer blocks."""
    d_model: int = 192
    """Width of the residual stream."""
    n_head: int = 4
    """Attention heads (head size ``d_model / n_head``)."""
    d_ff: int = 512
    """Hidden width of each SwiGLU feed-forward."""
    max_positions: int = 384
    """Longest prompt + reply in tokens."""
    dropout: float = 0.0
    """Attention dropout while training."""


@dataclass(frozen=True)
class DialogueTrainConfig:
    """Everything ``gameai train dialogue`` needs; defaults build the shipped model."""

    assets_dir: str = "assets/dialogue"
    """Where the written lines live and the corpus and the exported model go."""
    work_dir: str = "checkpoints/dialogue"
    """Tokenizer and training checkpoints."""
    data_dir: str = "data/dialogue"
    """General-conversation pairs extracted from the dialogue-data packages."""
    runs_dir: str = "runs"
    """TensorBoard logs."""
    seed: int = 0
    """Seed of the corpus, the initialisation and the batch order."""
    device: str = "auto"
    """Torch device; ``auto`` picks cuda when present, else cpu."""
    threads: int = 0
    """CPU threads for torch (0 keeps torch's default)."""
    train_examples: int = 60_000
    """Training examples of the NPC corpus."""
    heldout_examples: int = 1_500
    """Held-out examples (made-up cards from the pools' held-out halves)."""
    chat_tokenizer_rows: int = 40_000
    """General-conversation rows the tokenizer also trains on."""
    vocab_size: int = 4096
    """Tokenizer vocabulary size (BPE with the special markers); the three fact markers come on top."""
    n_layer: int = 4
    """Transformer blocks."""
    d_model: int = 192
    """Residual width."""
    n_head: int = 4
    """Attention heads."""
    d_ff: int = 512
    """Feed-forward hidden width."""
    block_size: int = 192
    """Longest training example in tokens (prompt + reply)."""
    batch_size: int = 32
    """Examples per optimisation step."""
    pretrain_steps: int = 1200
    """Optimisation steps on general conversation."""
    finetune_steps: int = 800
    """Optimisation steps on the NPC corpus."""
    pretrain_lr: float = 2e-3
    """Peak learning rate of pretraining."""
    finetune_lr: float = 1.5e-3
    """Peak learning rate of fine-tuning."""
    warmup_steps: int = 100
    """Linear warm-up steps, then cosine decay."""
    min_lr_fraction: float = 0.1
    """The cosine decays to this fraction of the peak."""
    weight_decay: float = 0.1
    """AdamW weight decay on matrices (not on norms)."""
    grad_clip: float = 1.0
    """Gradient norm clip."""
    decision_weight: float = 1.0
    """Loss weight of the tokens that decide a reply: its first token (an answer or "I don't
    know") and the fact markers (which fact); the other reply tokens weigh 1."""
    pretrained_init: bool = False
    """Fine-tune from the general-conversation pretraining (into ``finetune-pretrained``).

    Off by default: pretraining lowered held-out persona adherence at the same fine-tuning
    budget (the figures: docs/dialogue.md)."""
    eval_every: int = 250
    """Steps between validation losses."""
    eval_examples: int = 600
    """Validation examples per evaluation."""
    checkpoint_every: int = 100
    """Steps between checkpoints."""
    export_dtype: Literal["float16", "bfloat16", "float32"] = "float16"
    """Dtype of the shipped weights."""

    @property
    def model(self) -> DialogueModelConfig:
        """The model shape part of the config."""
        return DialogueModelConfig(
            self.n_layer, self.d_model, self.n_head, self.d_ff, max_positions=2 * self.block_size
        )

    @property
    def corpus(self) -> CorpusConfig:
        """The corpus part of the config."""
        from gameai.training.dialogue.corpus.generate import CorpusConfig

        return CorpusConfig(
            train_examples=self.train_examples, heldout_examples=self.heldout_examples, seed=self.seed
        )


@dataclass(frozen=True)
class DialogueEvalConfig:
    """What ``gameai eval dialogue`` measures and how."""

    model: str = "assets/dialogue/model"
    """Model directory to evaluate (the shipped one, or a training checkpoint)."""
    assets_dir: str = "assets/dialogue"
    """Where the held-out corpus lives."""
    work_dir: str = "checkpoints/dialogue"
    """Where ``gameai train dialogue`` wrote the training split (for the classifiers and copying)."""
    behaviour_files: tuple[str, ...] = ("assets/dialogue/npcs.toml", "assets/platformer/npcs.toml")
    """NPC files whose ``behaviours`` sentences (written apart from the corpus) the behaviour
    figure asks with, beside the held-out pool's; a missing file is skipped."""
    samples: int = 300
    """Held-out examples to generate replies for (stratified by intent)."""
    perplexity_examples: int = 1000
    """Examples of the perplexity figure."""
    max_new_tokens: int = 64
    """Token limit of each generated reply."""
    temperature: float = 0.5
    """Sampling temperature (0: greedy); the service's default."""
    top_p: float = 0.95
    """Nucleus sampling mass."""
    seed: int = 0
    """Seed of the sample choice and of sampling (reply i uses seed + i)."""
    device: str = "cpu"
    """Torch device; ``auto`` picks cuda when present."""
    threads: int = 1
    """CPU threads (latency figures are per core with 1)."""
    speed_prompts: int = 8
    """Prompts timed for time-to-first-token and tokens/s."""
    baseline: str = ""
    """Also evaluate a baseline on the same examples: ``smollm2`` (needs the ``smollm2`` extra)."""
    baseline_samples: int = 60
    """Examples the baseline answers (evenly spread over the sample, so every intent is in)."""
    json_out: str = ""
    """Also write the figures to this JSON file."""
    write_card: bool = False
    """Also store the figures under ``metrics`` in the model's gameai_dialogue.json."""
