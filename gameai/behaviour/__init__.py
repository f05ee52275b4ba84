"""Player behaviour recognition: the CNN over stacked frames and its serving format."""
