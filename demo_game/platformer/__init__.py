"""Skyline, the second demo game: a side-view platformer (run, jump, gems, goblins, a flag).

Laid out like the arena: :mod:`demo_game.platformer.sim` is the game (numpy, no pygame),
:mod:`demo_game.platformer.render` draws it, :mod:`demo_game.platformer.game` and
:mod:`demo_game.platformer.app` play it, :mod:`demo_game.platformer.record` writes its
labelled play as a behaviour dataset. ``docs/platformer.md`` tells the whole story.
"""

GAME_ID = "platformer"
"""The game's id: ``hello.game_id`` of its sessions and its models directory entry."""
