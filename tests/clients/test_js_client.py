"""The JavaScript client (clients/js/): its Node tests and its headless-Chromium end-to-end page.

Both run Node's test runner on files under ``clients/js/test/``; those tests start their own
``gameai serve`` (random-initialised models, CPU) with this interpreter's ``gameai``. Each test
here skips, saying why, when Node >= 20 (or Chromium, for the page) is missing; ``.ci/run``
installs both from Debian packages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLIENT = ROOT / "clients" / "js"
NODE_TESTS = ["test/frames.test.js", "test/client.test.js", "test/server.test.js"]
BROWSER_TESTS = ["test/e2e/browser.test.js"]
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _node() -> str:
    """The node executable (>= 20), or skip saying why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "JS client tests need Node >= 20: no `node` on PATH (.ci/run installs the Debian package nodejs)"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    match = re.match(r"v(\d+)\.(\d+)", version)
    if match is None or (int(match[1]), int(match[2])) < (20, 10):
        pytest.skip(f"JS client tests need Node >= 20.10 (a WebSocket), found {version}")
    return node


def _run_node_tests(node: str, files: list[str], timeout_s: float) -> None:
    """Run Node's test runner on ``files`` and fail with its report unless every test passed."""
    gameai = Path(sys.executable).with_name("gameai")
    env = {
        **os.environ,
        "GAMEAI_PYTHON": sys.executable,
        "GAMEAI_BIN": str(gameai),
        "SDL_VIDEODRIVER": "dummy",
        "NODE_NO_WARNINGS": "1",
    }
    command = [node, "--experimental-websocket", "--test", "--test-reporter=tap", *files]
    try:
        result = subprocess.run(
            command, cwd=CLIENT, env=env, capture_output=True, text=True, timeout=timeout_s
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"node tests ran over {timeout_s} s:\n{exc.stdout}\n{exc.stderr}")
    report = result.stdout + result.stderr
    skipped = re.findall(r"^ok \d+ - (.*) # SKIP(.*)$", report, re.MULTILINE)
    assert result.returncode == 0, f"node tests failed (exit {result.returncode}):\n{report[-20000:]}"
    assert "# fail 0" in report, report[-20000:]
    if skipped:
        pytest.fail(f"node skipped tests it should run here: {skipped}")


def test_js_client_node() -> None:
    """Frames byte for byte against Python, smoothscale against pygame, the client against two servers."""
    _run_node_tests(_node(), NODE_TESTS, timeout_s=120)


def test_js_client_in_headless_chromium() -> None:
    """The example canvas game attaches from a page on another origin and plays."""
    node = _node()
    chromium = os.environ.get("CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if chromium is None:
        pytest.skip(
            "the browser test needs Chromium: no chromium on PATH (.ci/run installs the Debian package)"
        )
    _run_node_tests(node, BROWSER_TESTS, timeout_s=120)
