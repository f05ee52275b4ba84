"""Benchmarks: each measures one part of gameai and returns a JSON-ready dict."""
