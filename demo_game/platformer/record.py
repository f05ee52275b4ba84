"""Labelled play of the platformer's scripted styles, written through the public dataset API.

Each player (a style, a skill and style parameters drawn from its seed) plays levels headless
for ``seconds`` of game time, one session per play, its label the style's name. Every
``tick_rate / sample_fps`` ticks (at a per-player phase) the world is drawn at the app's
window size (:data:`~demo_game.platformer.app.WINDOW_SIZE`), the square around the player
that the app sends is cut from it (:meth:`~demo_game.platformer.render.PlatformerRenderer.behaviour_view`)
and downscaled with :func:`gameai.client.frames.downscale_frame`, as the pygame plugin does, to
:data:`FRAME_SIZE`. The dataset lists every style as a class and ``bot_like`` as the
accusation class; ``gameai train behaviour all --dataset DIR`` trains on it.

Run it: ``python -m demo_game.platformer.record --path data/platformer --players-per-style 100``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from demo_game.platformer import GAME_ID
from demo_game.platformer.game import PlatformerGame, PlayerInput
from demo_game.platformer.sim.goblins import ScriptedGoblin
from demo_game.platformer.sim.styles import ACCUSATION_STYLES, STYLES, ScriptedPlayer, style_params
from gameai.behaviour.dataset import DatasetWriter

RENDER_SIZE: Final = (1280, 720)
"""Where frames are drawn before downscaling: the app's world surface (width, height)."""
FRAME_SIZE: Final = (84, 84)
"""(height, width) of the dataset's frames."""
SAMPLE_FPS: Final = 5.0
"""Frames per second of play (what the plugin sends at for the served models' 5 fps)."""


@dataclasses.dataclass(frozen=True)
class RecordConfig:
    """Options of ``python -m demo_game.platformer.record``."""

    path: str = "data/platformer"
    """The dataset's directory (created, or added to when it holds this game's dataset)."""
    players_per_style: int = 2
    """Players of each style; each plays one session."""
    seconds: float = 12.0
    """Game time each player plays, seconds (a lost or won level goes on with the next)."""
    seed: int = 0
    """Seeds every player's style parameters, skill, levels and capture phase."""
    styles: tuple[str, ...] = tuple(STYLES)
    """The styles to record (the dataset's classes are always all of them)."""
    skill: tuple[float, float] = (0.0, 1.0)
    """Range each player's skill is drawn from, uniformly."""
    variation: tuple[float, float] = (0.0, 1.0)
    """Part of each style parameter's range the players are drawn from (``style_params``)."""

    def __post_init__(self) -> None:
        unknown = [s for s in self.styles if s not in STYLES]
        if unknown or not self.styles:
            raise ValueError(f"styles must be some of {sorted(STYLES)}, got {list(self.styles)}")
        if self.players_per_style < 1 or self.seconds <= 0:
            raise ValueError("players_per_style must be >= 1 and seconds > 0")


def open_dataset(path: Path | str) -> DatasetWriter:
    """Create (or open) the platformer's dataset at ``path``: every style a class, ``bot_like`` accused."""
    return DatasetWriter(
        path,
        game_id=GAME_ID,
        classes=tuple(STYLES),
        accusation_classes=ACCUSATION_STYLES,
        frame_size=FRAME_SIZE,
        sample_fps=SAMPLE_FPS,
    )


def play_frames(
    style: str, seconds: float, rng: np.random.Generator, skill: float, variation: tuple[float, float]
) -> Iterator[npt.NDArray[np.uint8]]:
    """One player's frames, ``(84, 84, 3)`` uint8 each, as the app would send them.

    Args:
        style: The player's style.
        seconds: Game time it plays, seconds.
        rng: Draws its parameters, levels, goblins and capture phase.
        skill: Its skill, 0..1.
        variation: Part of each parameter range it is drawn from.
    """
    import pygame

    from demo_game.platformer.render import PlatformerRenderer
    from gameai.client.frames import downscale_frame

    game = PlatformerGame(seed=int(rng.integers(2**31 - 1)))
    player = ScriptedPlayer(style_params(style, rng, skill, variation), rng)
    renderer = PlatformerRenderer(RENDER_SIZE)
    surface = pygame.Surface(RENDER_SIZE)
    every = max(1, round(game.tick_rate / SAMPLE_FPS))
    phase = int(rng.integers(every))
    greeted: set[int] = set()

    def equip() -> None:
        game.goblin_controllers = {i: ScriptedGoblin(rng) for i in range(game.sim.level.n_goblins)}

    equip()
    for tick in range(round(seconds * game.tick_rate)):
        if game.over:
            game.new_level()
            equip()
            greeted.clear()
        controls = PlayerInput.from_controls(player(game.sim))
        slot = game.nearest_friendly()
        if slot is not None and slot not in greeted:  # a hello to each friendly NPC, as the app's autopilot
            greeted.add(slot)
            controls.talk = True
        game.step(controls)
        if tick % every == phase:
            renderer.draw(surface, game.sim.state)
            view = renderer.behaviour_view(surface, game.sim.state)
            yield downscale_frame(view, (FRAME_SIZE[1], FRAME_SIZE[0]))


def write_dataset(
    path: Path | str,
    players_per_style: int = 2,
    seconds: float = 12.0,
    seed: int = 0,
    styles: tuple[str, ...] = tuple(STYLES),
    skill: tuple[float, float] = (0.0, 1.0),
    variation: tuple[float, float] = (0.0, 1.0),
) -> dict[str, Any]:
    """Write labelled play of the scripted styles into the platformer's dataset at ``path``.

    Args:
        path: The dataset's directory (created, or added to).
        players_per_style: Players of each style, one session each.
        seconds: Game time each player plays, seconds.
        seed: Seeds everything: player ``k`` of style ``s`` is seeded with ``(seed, s, k)``.
        styles: The styles to record.
        skill: Range each player's skill is drawn from.
        variation: Part of each parameter range the players are drawn from.

    Returns:
        ``{"path", "sessions", "frames", "frames_per_style"}``.

    Raises:
        ValueError: If an option is invalid, or ``path`` holds a dataset of another game or classes.
    """
    config = RecordConfig(str(path), players_per_style, seconds, seed, tuple(styles), skill, variation)
    writer = open_dataset(path)
    frames_per_style: dict[str, int] = {}
    sessions = 0
    for style in config.styles:
        index = list(STYLES).index(style)
        count = 0
        for k in range(config.players_per_style):
            rng = np.random.default_rng([config.seed, index, k])
            player_skill = float(rng.uniform(*config.skill))
            with writer.session(player_id=f"scripted-{style}-{config.seed}-{k}") as session:
                session.set_label(style)
                for frame in play_frames(style, config.seconds, rng, player_skill, config.variation):
                    session.add_frame(frame)
                    count += 1
            sessions += 1
        frames_per_style[style] = count
    return {
        "path": str(path),
        "sessions": sessions,
        "frames": sum(frames_per_style.values()),
        "frames_per_style": frames_per_style,
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m demo_game.platformer.record``: write the dataset and print what was written."""
    import argparse
    import json

    from gameai.config_args import add_config_arguments, config_from_args

    parser = argparse.ArgumentParser(prog="python -m demo_game.platformer.record", description=__doc__)
    add_config_arguments(parser, RecordConfig)
    config = config_from_args(RecordConfig, parser.parse_args(argv))
    written = write_dataset(
        config.path, config.players_per_style, config.seconds, config.seed, config.styles, config.skill,
        config.variation,
    )  # fmt: skip
    print(json.dumps(written, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
