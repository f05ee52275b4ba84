"""The server serves any game: it never imports the demo game or its environments."""

from __future__ import annotations

import subprocess
import sys


def test_server_and_clients_import_neither_envs_nor_demo_game() -> None:
    code = (
        "import sys; import gameai.server.app, gameai.commands.serve, gameai.client.pygame_plugin, "
        "gameai.bench.serve; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('envs', 'demo_game')))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]"
