"""Scripts that make every shipped model: record data, train, evaluate, export.

Training code may import :mod:`envs` and :mod:`demo_game` (it plays the game to get its
data); nothing in the service imports it.
"""
