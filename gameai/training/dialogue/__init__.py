"""Building the NPC dialogue model: corpus, tokenizer, pretrain, fine-tune, export, evaluate.

Modules, in the order ``gameai train dialogue all`` runs them:

* :mod:`~gameai.training.dialogue.config`: the options of training and evaluation (no heavy imports).
* :mod:`~gameai.training.dialogue.corpus`: NPC cards (made up from word pools, and the shipped
  ones) spoken in the written voices: the NPC corpus (train/held-out), and the
  general-conversation pairs.
* :mod:`~gameai.training.dialogue.tokenizer`: training the byte-level BPE tokenizer.
* :mod:`~gameai.training.dialogue.model`: a freshly initialised model of the configured shape.
* :mod:`~gameai.training.dialogue.data`: encoded examples, batches and the reply loss.
* :mod:`~gameai.training.dialogue.checkpoint`: checkpoints that resume after a kill.
* :mod:`~gameai.training.dialogue.train`: the steps, pretraining, fine-tuning and the export
  into ``assets/dialogue/model``.
* :mod:`~gameai.training.dialogue.evaluate` with :mod:`~gameai.training.dialogue.metrics`:
  ``gameai eval dialogue``'s figures; :mod:`~gameai.training.dialogue.baseline`: SmolLM2 prompted
  with the same cards, for comparison.

The served side (prompt format, tokenizer loading, backends) is :mod:`gameai.dialogue`.
"""
