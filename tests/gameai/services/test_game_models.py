"""The models directory: games by convention and by ``games.toml``, the default set, bad manifests."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gameai.paths import PROJECT_ROOT
from gameai.runtime.config import RuntimeConfig
from gameai.services.game_models import (
    GameModels,
    GamesManifestError,
    game_id_problem,
    model_key,
    read_models_directory,
    served_games,
)

SHIPPED = PROJECT_ROOT / "assets"


def _touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _studio(root: Path) -> Path:
    """Two convention games and the folders of a shared layout that are no games."""
    _touch(root / "puzzle" / "behaviour" / "config.json", "{}")
    (root / "puzzle" / "agents" / "solver").mkdir(parents=True)
    _touch(root / "puzzle" / "npcs.toml")
    _touch(root / "racer" / "npcs.toml")
    _touch(root / "behaviour" / "config.json", "{}")  # a model directory itself, not a game
    (root / "agents" / "arena").mkdir(parents=True)  # agents themselves, not a game
    (root / "dialogue" / "model").mkdir(parents=True)  # no part of a game
    (root / "notes").mkdir()
    _touch(root / ".cache" / "npcs.toml")  # hidden folders are never games
    return root


def test_games_by_convention_hold_the_parts_they_have(tmp_path: Path) -> None:
    directory = read_models_directory(_studio(tmp_path))
    assert list(directory.games) == ["puzzle", "racer"]
    assert directory.default_game is None and directory.manifest is None
    assert directory.games["puzzle"] == GameModels(
        "puzzle",
        behaviour=tmp_path / "puzzle" / "behaviour",
        agents=tmp_path / "puzzle" / "agents",
        npcs=tmp_path / "puzzle" / "npcs.toml",
    )
    assert directory.games["racer"] == GameModels("racer", npcs=tmp_path / "racer" / "npcs.toml")


def test_the_shipped_manifest_makes_the_arena_the_default_and_no_other_folder_a_game() -> None:
    directory = read_models_directory(SHIPPED)
    assert directory.manifest == SHIPPED / "games.toml" and directory.default_game == "arena"
    # Not dialogue (it holds npcs.toml, the arena's cards); the platformer by its folder, every part.
    assert sorted(directory.games) == ["arena", "platformer"]
    assert directory.games["platformer"] == GameModels(
        "platformer",
        behaviour=SHIPPED / "platformer" / "behaviour",
        agents=SHIPPED / "platformer" / "agents",
        npcs=SHIPPED / "platformer" / "npcs.toml",
    )
    assert directory.games["arena"] == GameModels(
        "arena",
        behaviour=SHIPPED / "behaviour",
        agents=SHIPPED / "agents",
        npcs=SHIPPED / "dialogue" / "npcs.toml",
    )


def test_a_manifest_moves_parts_removes_them_and_lists_games_without_a_folder(tmp_path: Path) -> None:
    _studio(tmp_path)
    _touch(tmp_path / "shared" / "cards.toml")
    _touch(
        tmp_path / "games.toml",
        'default = "puzzle"\n'
        '[games.puzzle]\nnpcs = "shared/cards.toml"\nbehaviour = ""\n'
        '[games.quiz]\nagents = "agents"\n',
    )
    directory = read_models_directory(tmp_path)
    assert directory.default_game == "puzzle" and list(directory.games) == ["puzzle", "quiz", "racer"]
    puzzle = directory.games["puzzle"]
    assert puzzle.npcs == tmp_path / "shared" / "cards.toml"  # the manifest's
    assert puzzle.behaviour is None  # "" removes the folder's own
    assert puzzle.agents == tmp_path / "puzzle" / "agents"  # not named: the folder's own
    assert directory.games["quiz"] == GameModels("quiz", agents=tmp_path / "agents")


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ("default = [", "is not valid TOML"),
        ('defualt = "puzzle"\n', "unknown key 'defualt'"),
        ("default = 3\n", "default must be a game id"),
        ('default = "chess"\n', "default = 'chess' is no game of"),
        ('games = "puzzle"\n', "games must be a table"),
        ("[games.puzzle]\nmodel = 'x'\n", "[games.puzzle]: unknown key 'model'"),
        ("[games.puzzle]\nnpcs = 3\n", "games.puzzle.npcs must be a path relative to"),
        ('[games."a/b"]\n', "a game id is a folder name"),
        (f"[games.{'x' * 65}]\n", "a game id must be 1 to 64 characters"),
    ],
)
def test_a_malformed_manifest_is_a_typed_error_naming_the_file(
    tmp_path: Path, manifest: str, problem: str
) -> None:
    path = _touch(_studio(tmp_path) / "games.toml", manifest)
    with pytest.raises(GamesManifestError) as raised:
        read_models_directory(tmp_path)
    assert raised.value.path == path and problem in raised.value.problem
    assert str(raised.value).startswith(f"{path}: ")
    assert isinstance(raised.value, ValueError)  # gameai serve: one line, exit 2


def test_a_folder_whose_name_is_no_game_id_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _touch(tmp_path / ("x" * 65) / "npcs.toml")
    with caplog.at_level(logging.WARNING):
        assert read_models_directory(tmp_path).games == {}
    assert "is no game" in caplog.text


def test_game_ids_follow_the_hello_rule_and_are_folder_names() -> None:
    assert game_id_problem("arena") is None and game_id_problem("Space Race 2") is None
    assert game_id_problem("") is not None and game_id_problem("x" * 65) is not None
    assert game_id_problem("..") is not None and game_id_problem("a\\b") is not None


def test_the_default_set_is_the_default_game_with_the_options_replacing_parts(tmp_path: Path) -> None:
    shipped = served_games(RuntimeConfig())
    assert (
        shipped.default_game == "arena" and list(shipped.games) == ["platformer"] and shipped.replaced == ()
    )
    assert (
        shipped.default.behaviour is not None and shipped.default.behaviour.resolve() == SHIPPED / "behaviour"
    )
    options = served_games(
        RuntimeConfig(behaviour_model="", agents_dir=str(tmp_path), npcs=str(tmp_path / "cards.toml"))
    )
    assert options.default == GameModels("arena", None, tmp_path, tmp_path / "cards.toml")
    assert options.replaced == ("agents", "behaviour", "npcs")


def test_sessions_get_their_games_models_or_the_default_set(tmp_path: Path) -> None:
    _studio(tmp_path)
    _touch(tmp_path / "games.toml", 'default = "racer"\n')
    games = served_games(RuntimeConfig(models_dir=str(tmp_path)))
    assert games.default.game_id == "racer" and list(games.games) == ["puzzle"]
    assert games.models_game("puzzle") == "puzzle" and games.models_game("racer") == "racer"
    assert games.models_game("chess") is None  # the default set
    no_default = served_games(RuntimeConfig(models_dir=str(tmp_path / "puzzle" / "agents")))
    assert no_default.default == GameModels(None) and no_default.default_game is None


def test_a_models_dir_that_is_not_there_stops_the_start_unless_it_is_the_default(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"--models .*: no such directory"):
        served_games(RuntimeConfig(models_dir=str(tmp_path / "absent")))
    assert served_games(RuntimeConfig(models_dir="")).default == GameModels(None)


def test_model_keys_of_other_games_are_prefixed() -> None:
    assert model_key(None, "behaviour") == "behaviour"
    assert model_key("puzzle", "agent/solver") == "games/puzzle/agent/solver"
