"""NPC dialogue: prompt format, generation backends, corpus and training."""
