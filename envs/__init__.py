"""Gymnasium environments built on the arena game's simulation.

Importing this package registers:

- ``gameai/Arena-v0``: an enemy NPC's view, vector observations (44 floats in [-1, 1]),
  ``MultiDiscrete([9, 4, 2])`` actions (move, fire, dash);
- ``gameai/ArenaPixels-v0``: the same with uint8 frames (84x84x3, ``frame_stack`` to stack);
- ``gameai/Platformer-v0``: a goblin's view of the platformer (24 floats in [-1, 1]),
  ``MultiDiscrete([3, 2])`` actions (move, jump); see :mod:`envs.platformer.env`.

The arena's two have a natively vectorised version as their ``vector_entry_point``::

    import gymnasium as gym
    import envs  # registers the ids (or: gym.make("envs:gameai/Arena-v0"))

    env = gym.make("gameai/Arena-v0", opponent_styles=("aggressive",))
    vec = gym.make_vec("gameai/Arena-v0", num_envs=1024, vectorization_mode="vector_entry_point")

Time limits are game rules visible in the observations (the clock), so no
``max_episode_steps`` is registered: a match or an episode ends by itself when its clock runs out.
"""

from gymnasium.envs.registration import register, registry

for _env_id, _obs_type in (("gameai/Arena-v0", "vector"), ("gameai/ArenaPixels-v0", "pixels")):
    if _env_id not in registry:
        register(
            id=_env_id,
            entry_point="envs.arena_env:ArenaEnv",
            vector_entry_point="envs.vector_env:ArenaVectorEnv",
            kwargs={"obs_type": _obs_type},
        )

if "gameai/Platformer-v0" not in registry:
    register(id="gameai/Platformer-v0", entry_point="envs.platformer.env:PlatformerEnv")
