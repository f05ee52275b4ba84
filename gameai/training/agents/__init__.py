"""Everything that makes an agent: PPO training, evaluation, export to the served actor, rating.

``gameai train agent`` trains on any environment through one narrow interface
(:mod:`~gameai.training.agents.environment`); the served format is :mod:`gameai.agents.actor`.

* :mod:`~gameai.training.agents.config`: the options of ``train agent``, ``eval agent``,
  ``eval adapt`` (no heavy imports).
* :mod:`~gameai.training.agents.environment`: the interface, its registry of named environments.
* :mod:`~gameai.training.agents.train`: the steps ``ppo``, ``export``, ``rate``, ``all``
  (names no environment).
* :mod:`~gameai.training.agents.arena`: the arena (the shipped agent): its arenas, self-play,
  callbacks, served difficulty and handicap, rating.
* :mod:`~gameai.training.agents.gymnasium_env`: any registered Gymnasium id (``--env CartPole-v1``).
* :mod:`~gameai.training.agents.callbacks`, :mod:`~gameai.training.agents.run_log`,
  :mod:`~gameai.training.agents.vec_env`, :mod:`~gameai.training.agents.export`: the trainer's
  generic parts (schedules, checkpoints, evaluation, TensorBoard groups, SB3 adapters, export).
* The arena's helpers: :mod:`~gameai.training.agents.matches` (whole matches, tallies),
  :mod:`~gameai.training.agents.opponents` (the self-play pool),
  :mod:`~gameai.training.agents.rating` (Elo), :mod:`~gameai.training.agents.features` (the
  pixel CNN), :mod:`~gameai.training.agents.evaluate` (``eval agent``),
  :mod:`~gameai.training.agents.adapt` (``eval adapt``).

Only :mod:`~gameai.training.agents.arena` and the arena's helpers import ``envs`` or ``demo_game``.
"""
