"""Observability: Prometheus metrics and structured logs carrying the session id."""
