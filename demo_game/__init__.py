"""The arena game: simulation (numpy), renderer (pygame) and app."""
