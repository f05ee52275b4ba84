"""The layering the README and docs/architecture.md describe, checked on the import graph.

Every ``import`` in ``gameai``, ``envs`` and ``demo_game`` counts, wherever it stands: at the
top of a module, inside a function, or under ``TYPE_CHECKING``. Each module belongs to one
room (a package, or ``demo_game.sim`` apart from the demo apps); rooms stand in layers, and
an import may only point to a room of a lower layer or to the same room.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("gameai", "envs", "demo_game")

#: Rooms from the top down; a room may import only rooms further down (and itself).
#: Rooms on one line are side by side: neither imports the other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("gameai.cli",),
    ("gameai.commands",),
    ("gameai.bench",),
    ("gameai.training",),
    ("gameai.testing",),
    ("envs", "demo_game"),  # Gymnasium envs | the demo apps (loop, HUD, the link to the service)
    # the arena | the platformer drawn with pygame (the envs render with them too)
    ("demo_game.render", "demo_game.platformer.render"),
    # the games: simulation, the NPCs' view and actions, scripted players (arena | platformer)
    ("demo_game.sim", "demo_game.platformer.sim"),
    ("demo_game.style_space", "demo_game.colour"),  # what both games share: styles (numpy), the colour type
    ("gameai.client",),
    ("gameai.server",),
    ("gameai.services",),
    ("gameai.runtime",),
    ("gameai.session",),
    ("gameai.agents", "gameai.behaviour", "gameai.dialogue"),
    ("gameai.protocol",),
    (
        "gameai.compute_threads",
        "gameai.config_args",
        "gameai.errors",
        "gameai.event_loops",
        "gameai.model_files",
        "gameai.observability",
        "gameai.paths",
        "gameai.vocabulary",
    ),
    ("gameai",),  # the package itself: its version
)

#: What serving (the server, its services, the runtime, the inference code) never loads.
NEVER_SERVED = ("envs", "demo_game", "gameai.training", "stable_baselines3", "gymnasium")
SERVING = (
    "gameai.server",
    "gameai.services",
    "gameai.runtime",
    "gameai.session",
    "gameai.agents",
    "gameai.behaviour",
    "gameai.dialogue",
    "gameai.protocol",
    "gameai.client",
)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> Iterator[str]:
    """Every module ``path`` imports (absolute names; relative imports resolved)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _room(module: str) -> str | None:
    """The most specific room a module belongs to (None: outside the project)."""
    rooms = [room for layer in LAYERS for room in layer]
    matches = [room for room in rooms if module == room or module.startswith(room + ".")]
    return max(matches, key=len) if matches else None


def _layer(room: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if room in layer)


def _graph() -> dict[str, set[str]]:
    """Module -> the project modules (or third-party packages) it imports."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            graph[_module_name(path)] = set(_imports(path))
    return graph


def test_every_module_has_a_room() -> None:
    homeless = [module for module in _graph() if _room(module) is None]
    assert not homeless, f"modules in no room of LAYERS: {homeless}"


def test_imports_point_down_the_layers() -> None:
    upward = []
    for module, imported in _graph().items():
        source = _room(module)
        assert source is not None
        for name in imported:
            target = _room(name)
            if target is None or target == source or name == "gameai":
                continue
            if _layer(target) <= _layer(source):
                upward.append(f"{module} ({source}) imports {name} ({target})")
    assert not upward, "imports that point up or sideways:\n" + "\n".join(sorted(set(upward)))


def test_no_cycles_between_modules_of_a_room() -> None:
    """Inside a room modules may import each other, but not in a circle."""
    graph = _graph()
    edges = {
        module: {name for name in imported if name in graph and name != module}
        for module, imported in graph.items()
    }
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for name in sorted(edges[module]):
            if state.get(name) == 1:
                cycles.append([*path[path.index(name) :], name] if name in path else [module, name])
            elif name not in state:
                visit(name, [*path, name])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_serving_never_imports_training_or_the_demo_games() -> None:
    offending = [
        f"{module} imports {name}"
        for module, imported in _graph().items()
        if module.startswith(SERVING)
        for name in imported
        if name.startswith(NEVER_SERVED)
        and (name in NEVER_SERVED or name.startswith(tuple(f"{n}." for n in NEVER_SERVED)))
    ]
    assert not offending, "\n".join(sorted(offending))
