"""Helpers for tests and benchmarks: real model classes with random weights."""
