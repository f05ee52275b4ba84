"""Per-game session state: frames, recent events, NPC memories, match results, difficulty.

Plain data structures with no I/O; the server owns one :class:`~gameai.session.state.Session`
per connection.
"""
