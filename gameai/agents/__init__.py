"""NPC agents: the actor network and its serving format (training lives in gameai.training)."""
