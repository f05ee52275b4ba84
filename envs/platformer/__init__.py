"""Gymnasium environments of the platformer (``gameai/Platformer-v0``, registered by :mod:`envs`).

A goblin (the agent) tries to catch the player, a scripted player style drawn per episode.
"""
