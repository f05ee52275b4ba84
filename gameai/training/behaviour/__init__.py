"""Building the behaviour model: record labelled play, fit the CNN, export, evaluate, calibrate.

Modules, in the order ``gameai train behaviour all`` runs them:

* :mod:`~gameai.training.behaviour.config`: the options (no heavy imports).
* :mod:`~gameai.training.behaviour.record`: scripted players play the arena; frames are
  rendered at the demo's resolution and downscaled as the client does; npz + manifest.
* :mod:`~gameai.training.behaviour.dataset`: windows of K frames out of a recorded split.
* :mod:`~gameai.training.behaviour.fit`: the training loop (checkpoints, resume, early stop).
* :mod:`~gameai.training.behaviour.evaluate` (after export): accuracy, macro-F1, per-class figures,
  confusion matrix PNG, on held-out seeds and held-out style parameters.
* :mod:`~gameai.training.behaviour.export`: the shipped model in ``assets/behaviour``.
* :mod:`~gameai.training.behaviour.calibrate`: new players' ``bot_like`` precision at each
  minimum probability the server can hold that label to, stored with the model.

A game's own model (``--dataset DIR``, a :mod:`gameai.behaviour.dataset` directory) runs fit,
export, calibrate and eval on that dataset instead of the arena recording:

* :mod:`~gameai.training.behaviour.importing`: ``import``, image folders or videos plus a labels
  file into a dataset.
* :mod:`~gameai.training.behaviour.dataset_splits`: its players split by a hash of their ids;
  windows inside one labelled run.
* :mod:`~gameai.training.behaviour.training_data`: where a step reads its frames, the recording
  or the dataset.
"""
