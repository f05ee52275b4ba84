"""Serving NPC dialogue: what inference needs, and nothing that makes a model.

* :mod:`~gameai.dialogue.types`: what the service asks of a backend (context, settings,
  text deltas, finish reasons, batches).
* :mod:`~gameai.dialogue.prompt`: our trained model's prompt format;
  :mod:`~gameai.dialogue.generic_prompt`: prompts for any other causal LM.
* :mod:`~gameai.dialogue.tokenizer`: loading our model's tokenizer.
* :mod:`~gameai.dialogue.stop_sequences`: cutting streamed text at stop sequences.
* :mod:`~gameai.dialogue.generation`: what both generation paths share (sampling rule,
  seeded generators, the streamer, each reply's text and finish reason).
* :mod:`~gameai.dialogue.hf_backend`: the backend for any local Hugging Face causal LM;
  :mod:`~gameai.dialogue.hf_batch`: its many replies in one forward pass per token.

Making and evaluating the model (corpus, tokenizer training, fit, export, eval) is the
training package's ``dialogue`` folder (``gameai train dialogue``, ``gameai eval dialogue``);
nothing here imports it: serving never imports training code.
"""
