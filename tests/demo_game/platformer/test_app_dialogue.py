"""Talking to Skyline's friendly NPCs: requests by card id, streamed replies, failures shown.

The service is a child ``gameai serve`` whose models directory holds the platformer's shipped
NPC cards (``assets/platformer/npcs.toml``) and a tiny random dialogue model (the wiring is
checked, not the replies' sense); the offline case has no service behind its URL.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

from demo_game.config import DemoConfig
from demo_game.platformer import GAME_ID
from demo_game.platformer.app import (
    AUTOPILOT_QUESTIONS,
    BUBBLE_ABOVE_FEET,
    GREETING,
    QUESTIONS,
    PlatformerApp,
)
from demo_game.platformer.game import PlatformerGame
from demo_game.platformer.service_link import PlatformerServiceLink
from gameai.paths import resolve_path
from gameai.protocol.messages import DialogueDelta
from gameai.server.process import ServerProcess, free_port
from gameai.testing.tiny_models import write_tiny_dialogue_model

CARDS = ("shopkeeper", "guide")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("platformer-dialogue")
    (root / "models" / GAME_ID).mkdir(parents=True)
    shutil.copy(resolve_path("assets/platformer/npcs.toml"), root / "models" / GAME_ID / "npcs.toml")
    write_tiny_dialogue_model(root / "dialogue", "gameai")
    args = ["--models", str(root / "models"), "--dialogue-model", str(root / "dialogue"), "--device", "cpu"]
    with ServerProcess(args) as process:
        yield process


def _config(tmp_path: Path, realtime: bool, seconds: float = 0) -> DemoConfig:
    return DemoConfig(game="platformer", headless=True, autopilot="collector", seconds=seconds, seed=2,
                      screenshot_dir=str(tmp_path), screenshot_every=60, realtime=realtime)  # fmt: skip


def test_the_autopilot_gets_streamed_replies_from_odo_and_lark(
    service: ServerProcess, tmp_path: Path
) -> None:
    app = PlatformerApp(_config(tmp_path, realtime=True), server_url=service.url)
    assert app.link.plugin is not None
    client = app.link.plugin.client
    requests: list[dict[str, Any]] = []
    deltas: Counter[str] = Counter()
    request_dialogue, poll = client.request_dialogue, client.poll

    def recording_request(
        npc_id: str, persona: str | None = None, player_line: str = "", **options: Any
    ) -> str:
        request_id = request_dialogue(npc_id, persona, player_line, **options)
        requests.append({"id": request_id, "npc_id": npc_id, "persona": persona, "player_line": player_line,
                         **options})  # fmt: skip
        return request_id

    def counting_poll(max_items: int | None = None) -> list[Any]:
        events = poll(max_items)
        deltas.update(e.id for e in events if isinstance(e, DialogueDelta))
        return events

    client.request_dialogue = recording_request  # type: ignore[method-assign]
    client.poll = counting_poll  # type: ignore[method-assign]

    def streamed_reply() -> bool:
        return any(
            t.reply.done and not t.reply.error and t.reply.text.strip() and deltas[t.reply.id] > 1
            for t in app.link.talks
        )

    app.start()
    try:
        deadline = time.monotonic() + 15
        while not app.link.plugin.connected and time.monotonic() < deadline:
            time.sleep(0.05)  # the autopilot reaches Odo in about 2 s: be connected by then
        welcome = client.welcome
        assert welcome is not None and welcome.game is not None
        assert client.config.game_id == GAME_ID and welcome.game.models_game == GAME_ID
        assert welcome.npcs == CARDS, "a platformer session gets Odo's and Lark's cards"
        deadline = time.monotonic() + 20
        while not streamed_reply() and time.monotonic() < deadline:
            app.frame()
        assert streamed_reply(), [
            (t.npc_id, t.player_line, t.reply, deltas[t.reply.id]) for t in app.link.talks
        ]
    finally:
        summary = app.finish()

    assert requests and requests[0]["npc_id"] == "shopkeeper" and requests[0]["player_line"] == GREETING
    for request in requests:
        assert request["npc_id"] in CARDS and request["persona"] is None, "asked by card id"
        state = request["game_state"]
        assert state["health"] == 3 and state["max_health"] == 3 and state["level"] == 1
        assert {"score", "gems", "time_left"} <= set(state)
    lines = summary["service"]["dialogue_lines"]
    answered = [line for line in lines if line["error"] is None and line["text"].strip()]
    assert answered and all(line["npc"] in CARDS for line in lines)
    assert {line["player"] for line in lines} <= {GREETING, *AUTOPILOT_QUESTIONS.values()}
    assert summary["service"]["errors"] == []


def _anchor_block(app: PlatformerApp, slot: int, surface: pygame.Surface) -> np.ndarray:
    """The window's pixels just above where slot ``slot``'s bubble tail points."""
    npc = app.game.friendlies[slot]
    scale = app.renderer.scale
    x = round((npc.x - app.renderer.camera_left(app.game.sim.state)) * scale)
    y = round((npc.y - BUBBLE_ABOVE_FEET) * scale)
    return pygame.surfarray.array3d(surface)[x - 30 : x + 30, y - 36 : y - 14]


def test_with_the_service_offline_the_bubble_says_so_and_the_game_goes_on(tmp_path: Path) -> None:
    app = PlatformerApp(_config(tmp_path, realtime=False, seconds=8),
                        server_url=f"ws://127.0.0.1:{free_port()}/")  # fmt: skip
    started = time.monotonic()
    app.start()
    try:
        while not app.link.talks and app.frames < 300:
            app.frame()
        assert app.link.talks, "the autopilot greets Odo by the start"
        talk = app.link.talks[0]
        assert (
            talk.npc_id == "shopkeeper"
            and talk.reply.done
            and talk.reply.error == "the AI service is offline"
        )
        app.frame()
        bubble = _anchor_block(app, 0, app.window)
        assert (bubble != _anchor_block(app, 0, app.world_surface)).any(axis=-1).mean() > 0.3, "a bubble"
        while app.frame():
            pass
    finally:
        summary = app.finish()
    assert time.monotonic() - started < 25, "nothing waits on the service"
    assert summary["frames"] == 240 and not summary["service"]["connected_at_end"]
    lines = summary["service"]["dialogue_lines"]
    assert [line["npc"] for line in lines[:2]] == ["shopkeeper", "shopkeeper"], "greeted, then asked"
    assert all(line["error"] == "the AI service is offline" and line["text"] == "" for line in lines)


def test_without_a_service_the_npcs_cannot_answer_and_nothing_is_sent() -> None:
    link = PlatformerServiceLink(None, game_fps=30)
    game = PlatformerGame(seed=0)
    talk = link.ask_friendly(game, 1, "How do I beat goblins?")
    assert talk.npc_id == "guide" and talk.reply.done and talk.reply.error == "no AI service (local play)"
    assert link.summary()["dialogue_lines"] == [
        {
            "npc": "guide",
            "player": "How do I beat goblins?",
            "text": "",
            "error": "no AI service (local play)",
        }
    ]
    state = link.game_state(game)
    assert state["health"] == 3 and state["gems_in_level"] == game.sim.state.level.n_gems
    link.close()


def test_a_person_greets_with_e_and_asks_a_suggested_question_with_tab(tmp_path: Path) -> None:
    app = PlatformerApp(_config(tmp_path, realtime=False))  # no service: the replies fail at once
    app.autopilot = None  # a person plays
    app.start()
    try:
        odo = app.game.friendlies[0]
        app.game.sim.state.player.body.x = odo.x - 20
        for event in (
            pygame.event.Event(pygame.KEYDOWN, key=pygame.K_e),
            pygame.event.Event(pygame.TEXTINPUT, text="e"),  # the E's own text: not typed in the box
            pygame.event.Event(pygame.KEYDOWN, key=pygame.K_TAB),
        ):
            pygame.event.post(event)
        app.frame()
        assert app.chat.active and app.chat.text == QUESTIONS[0]
        assert [(t.npc_id, t.player_line) for t in app.link.talks] == [("shopkeeper", GREETING)]
        assert app.game.totals["talk"] == 1, "the game's own talk event"
        box = pygame.surfarray.array3d(app.window)[200:1080, 660:700]
        assert (box != pygame.surfarray.array3d(app.world_surface)[200:1080, 660:700]).any(), "the box"
        x = app.game.player_position[0]
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_RETURN))
        app.frame()
        assert not app.chat.active and app.game.player_position[0] == x, "typing, the player stood still"
        assert [t.player_line for t in app.link.talks] == [GREETING, QUESTIONS[0]]
        assert all(t.reply.error == "no AI service (local play)" for t in app.link.talks)
    finally:
        app.finish()
