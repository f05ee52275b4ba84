"""Gymnasium environments built on the arena game's simulation."""
