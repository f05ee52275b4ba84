"""The websocket server: a thin asyncio loop around :mod:`gameai.protocol`.

It moves bytes, authenticates and dispatches to :mod:`gameai.services`; it knows no model.

* :mod:`~gameai.server.app`: :class:`GameAIServer` (bind, HTTP /metrics and /healthz, shutdown).
* :mod:`~gameai.server.connection`: :class:`ConnectionHandler`, one task per connection.
* :mod:`~gameai.server.config`: :class:`ServerConfig` and TOML/env/flag resolution.
* :mod:`~gameai.server.process`: ``gameai serve`` in a child process.

The server imports neither ``envs`` nor ``demo_game`` nor ``gameai.training``: it serves any game.
"""
