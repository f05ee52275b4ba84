"""gameai: a game AI service that live games attach to over websockets."""

__version__ = "0.1.0"
