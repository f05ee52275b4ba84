"""The websocket server: a thin asyncio loop around :mod:`gameai.protocol`.

* :mod:`~gameai.server.app`: :class:`GameAIServer` (bind, HTTP /metrics and /healthz, shutdown).
* :mod:`~gameai.server.connection`: :class:`ConnectionHandler`, one task per connection.
* :mod:`~gameai.server.frame_pipeline`: a session's frames to pushed behaviour results.
* :mod:`~gameai.server.requests`: a session's dialogue and act requests in flight.
* :mod:`~gameai.server.dialogue_requests`: a request plus its session -> the dialogue context.
* :mod:`~gameai.server.config`: :class:`ServerConfig` and TOML/env/flag resolution.

The server imports neither ``envs`` nor ``demo_game``: it serves any game.
"""
