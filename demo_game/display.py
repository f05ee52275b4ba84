"""Whether the demo games can open a window (light: imports no pygame)."""

from __future__ import annotations

import os
import sys


def display_available() -> bool:
    """Whether a window can be opened (False on a server without a display)."""
    if os.environ.get("SDL_VIDEODRIVER") in {"dummy", "offscreen"}:
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
