"""The models directory: one entry per game, each with its behaviour model, agents and NPC cards.

Layout of ``gameai serve --models DIR`` (default ``assets``)::

    DIR/
      games.toml             optional manifest: the default game, and where a game's parts are
      <game_id>/
        behaviour/           behaviour model (model.safetensors + config.json)
        agents/<name>/       exported agents (actor.safetensors + actor.json), one folder each
        npcs.toml            NPC cards (gameai/dialogue/npc_card.py)

A folder of ``DIR`` is a game when ``games.toml`` lists it, or when it holds
``behaviour/config.json``, an ``agents/`` folder or ``npcs.toml`` and holds no part that
``games.toml`` gives a game (so the shipped ``behaviour``, ``agents`` and ``dialogue`` folders,
the arena's parts, are not games); any other folder is not a game. ``games.toml`` names the
default game and may say where a game's parts are, relative to ``DIR`` (``""``: the game has
none of that kind); a part it does not name is the folder's own, where it exists. The shipped one::

    default = "arena"
    [games.arena]
    behaviour = "behaviour"
    agents = "agents"
    npcs = "dialogue/npcs.toml"

A session gets the models of its ``hello.game_id``, all of them from that game (a part the game
lacks is absent, never another game's), or, for a game the directory does not hold, the
*default set*: the default game's parts, each replaced by ``--behaviour-model``, ``--agents-dir``,
``--npcs`` or ``--default-agent`` where that option is set (:func:`served_games`).

Calling order: :func:`served_games` (which calls :func:`read_models_directory`) once at
startup; the services load each :class:`GameModels` and pick one per session with
:meth:`ServedGames.models_game`. Serving code: nothing here imports training, envs or games.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from gameai.paths import resolve_path
from gameai.runtime.config import RuntimeConfig

logger = logging.getLogger(__name__)

MANIFEST_NAME: Final = "games.toml"
"""The manifest's file name in the models directory."""
MAX_GAME_ID: Final = 64
"""Longest game id, in characters (``hello.game_id``'s limit)."""
GAME_KEY_PREFIX: Final = "games/"
"""Model keys of a game other than the default set's start with ``games/<game_id>/`` (``/healthz``)."""
_PARTS: Final = {"behaviour": "behaviour", "agents": "agents", "npcs": "npcs.toml"}
"""Each part of a game, and its path inside the game's own folder."""


class GamesManifestError(ValueError):
    """A ``games.toml`` that cannot be read or says something invalid.

    Args:
        path: The manifest file.
        problem: What is wrong, one sentence.
    """

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class GameModels:
    """Where one game's models are (a part that is None: the game has none of that kind)."""

    game_id: str | None
    """The game (None: the default set of a server whose models directory names no default game)."""
    behaviour: Path | None = None
    """Behaviour model directory (model.safetensors + config.json)."""
    agents: Path | None = None
    """Directory of agents, one sub-directory each."""
    npcs: Path | None = None
    """NPC card file."""
    default_agent: str = ""
    """The agent an ``act`` without ``agent`` gets (empty: the first by name)."""

    def describe(self) -> str:
        """Where each part is, for the log."""
        return ", ".join(f"{part} {getattr(self, part) or 'none'}" for part in _PARTS)


@dataclass(frozen=True)
class ModelsDirectory:
    """The games one models directory holds (:func:`read_models_directory`)."""

    root: Path
    """The directory."""
    games: dict[str, GameModels] = field(default_factory=dict)
    """Its games by id, sorted by id."""
    default_game: str | None = None
    """The game ``games.toml`` names as the default (None: none)."""
    manifest: Path | None = None
    """``games.toml``, when there is one."""


@dataclass(frozen=True)
class ServedGames:
    """The games a server serves models for, and the set a session of any other game gets."""

    default: GameModels
    """The default set: the default game's parts with the command line's replacing them."""
    games: dict[str, GameModels] = field(default_factory=dict)
    """Every game other than the default game, by id."""
    default_game: str | None = None
    """The default game's id (None: the default set is the command line's alone)."""
    directory: ModelsDirectory | None = None
    """The models directory the games come from (None: none, or the default one is absent)."""
    replaced: tuple[str, ...] = ()
    """The parts of the default set that the command line replaced (``behaviour``, ``npcs``...)."""

    def models_game(self, game_id: str) -> str | None:
        """The game whose models a session of ``game_id`` gets: ``game_id`` when the server has
        that game, else None (the default set)."""
        return game_id if game_id in self.games or game_id == self.default_game else None

    def log(self) -> None:
        """Say which games are served, and from where (once the card files are known to load)."""
        directory = self.directory
        if directory is None:
            logger.info("no models directory (models_dir empty, or the default one absent)")
        else:
            every = sorted([*self.games, *filter(None, [self.default_game])])
            logger.info(
                "models directory %s%s: games %s; default game %s",
                directory.root,
                f" ({MANIFEST_NAME})" if directory.manifest is not None else "",
                ", ".join(every) or "none",
                repr(self.default_game) if self.default_game else "none (the options' models alone)",
            )
        replaced = f" (replaced by the options: {', '.join(self.replaced)})" if self.replaced else ""
        logger.info(
            "default set (the default game's, and any unknown game's): %s%s",
            self.default.describe(),
            replaced,
        )
        for game_id, game in self.games.items():
            logger.info("game %r: %s", game_id, game.describe())


def model_key(game_id: str | None, key: str) -> str:
    """The server-wide key of a game's model (``/healthz``, metrics): ``key`` for the default
    set (``game_id`` None), ``games/<game_id>/<key>`` for any other game."""
    return key if game_id is None else f"{GAME_KEY_PREFIX}{game_id}/{key}"


def game_id_problem(game_id: str) -> str | None:
    """Why ``game_id`` cannot name a game (None: it can).

    A game id follows ``hello.game_id``'s rule (1 to 64 characters) and, being a folder name,
    holds no ``/`` or ``\\`` and is not ``.`` or ``..``.
    """
    if not 1 <= len(game_id) <= MAX_GAME_ID:
        return f"a game id must be 1 to {MAX_GAME_ID} characters, got {len(game_id)}"
    if "/" in game_id or "\\" in game_id or game_id in (".", ".."):
        return f"a game id is a folder name: no '/', '\\', '.' or '..' ({game_id!r})"
    return None


def _is_game_folder(folder: Path) -> bool:
    """Whether a folder holds a game by the convention (not a part of another game's)."""
    return (
        (folder / "behaviour" / "config.json").is_file()
        or (folder / "agents").is_dir()
        or (folder / "npcs.toml").is_file()
    )


def _top_folder(root: Path, path: Path) -> str | None:
    """The folder of ``root`` that ``path`` lies in (None: outside ``root``)."""
    try:
        return path.relative_to(root).parts[0]
    except (ValueError, IndexError):
        return None


def _own_parts(folder: Path, game_id: str) -> GameModels:
    """A game's parts found in its own folder."""
    behaviour, agents, npcs = (folder / relative for relative in _PARTS.values())
    return GameModels(
        game_id,
        behaviour=behaviour if behaviour.is_dir() else None,
        agents=agents if agents.is_dir() else None,
        npcs=npcs if npcs.is_file() else None,
    )


def _read_manifest(root: Path, path: Path) -> tuple[dict[str, dict[str, Any]], str | None]:
    """The manifest's games (id -> the parts it gives, paths joined to ``root``) and its default game.

    Raises:
        GamesManifestError: The file cannot be read, is not TOML, or has a key or value that
            is not allowed.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GamesManifestError(path, f"cannot read it ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise GamesManifestError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise GamesManifestError(path, f"is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - {"default", "games"})
    if unknown:
        raise GamesManifestError(path, f"unknown key {unknown[0]!r} (allowed: default, [games.<id>])")
    default = data.get("default")
    if default is not None and not isinstance(default, str):
        raise GamesManifestError(path, f"default must be a game id (a string), got {default!r}")
    tables = data.get("games", {})
    if not isinstance(tables, dict):
        raise GamesManifestError(path, "games must be a table of games ([games.<id>])")
    games: dict[str, dict[str, Any]] = {}
    for game_id, table in tables.items():
        problem = game_id_problem(game_id)
        if problem is not None:
            raise GamesManifestError(path, f"[games.{game_id}]: {problem}")
        if not isinstance(table, dict):
            raise GamesManifestError(path, f"games.{game_id} must be a table ([games.{game_id}])")
        given: dict[str, Any] = {}
        for part, value in table.items():
            if part not in _PARTS:
                raise GamesManifestError(
                    path, f"[games.{game_id}]: unknown key {part!r} (allowed: {', '.join(_PARTS)})"
                )
            if not isinstance(value, str):
                raise GamesManifestError(
                    path, f"games.{game_id}.{part} must be a path relative to {root}, got {value!r}"
                )
            given[part] = root / value if value else None
        games[game_id] = given
    return games, default


def read_models_directory(root: Path) -> ModelsDirectory:
    """The games of a models directory (see the module docstring for the layout).

    Args:
        root: The directory (already resolved; it must exist).

    Raises:
        GamesManifestError: ``games.toml`` is malformed, or names a default game the
            directory does not hold.
    """
    manifest = root / MANIFEST_NAME
    listed: dict[str, dict[str, Any]] = {}
    default_game = None
    if manifest.is_file():
        listed, default_game = _read_manifest(root, manifest)
    claimed = {_top_folder(root, path) for given in listed.values() for path in given.values() if path}
    games: dict[str, GameModels] = {}
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if folder.name in listed or folder.name in claimed or not _is_game_folder(folder):
            continue
        problem = game_id_problem(folder.name)
        if problem is not None:
            logger.warning("models directory %s: folder %r is no game: %s", root, folder.name, problem)
            continue
        games[folder.name] = _own_parts(folder, folder.name)
    for game_id, given in listed.items():
        games[game_id] = replace(_own_parts(root / game_id, game_id), **given)
    if default_game is not None and default_game not in games:
        known = ", ".join(sorted(games)) or "none"
        raise GamesManifestError(
            manifest, f"default = {default_game!r} is no game of {root} (games: {known})"
        )
    used = manifest if manifest.is_file() else None
    return ModelsDirectory(root, dict(sorted(games.items())), default_game, used)


def _option_path(value: str) -> Path | None:
    """A path option: empty is none, anything else resolved like every model path."""
    return resolve_path(value) if value else None


def served_games(config: RuntimeConfig) -> ServedGames:
    """The games of ``config.models_dir`` and the default set, with the command line applied.

    The default set is the default game's parts; ``behaviour_model``, ``agents_dir``,
    ``npcs`` and ``default_agent``, where set, replace that part (empty: none).

    Raises:
        GamesManifestError: ``games.toml`` is malformed.
        FileNotFoundError: A models directory other than the default one does not exist
            (the default one may be absent: a stripped install serves the options' models alone).
    """
    directory = None
    if config.models_dir:
        root = resolve_path(config.models_dir)
        if root.is_dir():
            directory = read_models_directory(root)
        elif config.models_dir != RuntimeConfig.models_dir:
            raise FileNotFoundError(f"--models {config.models_dir}: no such directory ({root})")
    games = dict(directory.games) if directory is not None else {}
    default_game = directory.default_game if directory is not None else None
    default = games.pop(default_game) if default_game is not None else GameModels(None)
    changes: dict[str, Any] = {}
    if config.behaviour_model is not None:
        changes["behaviour"] = _option_path(config.behaviour_model)
    if config.agents_dir is not None:
        changes["agents"] = _option_path(config.agents_dir)
    if config.npcs is not None:
        changes["npcs"] = _option_path(config.npcs)
    if config.default_agent:
        changes["default_agent"] = config.default_agent
    return ServedGames(replace(default, **changes), games, default_game, directory, tuple(sorted(changes)))
