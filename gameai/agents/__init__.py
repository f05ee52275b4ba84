"""The served actor: the NPC policy network, its config and its files (:mod:`gameai.agents.actor`).

Only what inference needs lives here (torch and the model files; no Stable-Baselines3, no
``envs``, no ``demo_game``, no ``gameai.training``). Everything that makes an agent (training,
evaluation, export, rating) is in :mod:`gameai.training.agents`.
"""
