"""The pygame plugin on a real server: capture every k frames, expose results to the game."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pygame

from gameai.client.async_client import ClientConfig
from gameai.client.pygame_plugin import GameAIPlugin, PluginConfig
from gameai.client.threaded import ReconnectPolicy, ThreadedGameAIClient
from gameai.server.config import ServerConfig
from gameai.testing.servers import ServerThread, runtime_config_for


def test_plugin_captures_downscales_and_exposes_results(client_assets: Path) -> None:
    pygame.init()
    world = pygame.Surface((320, 240))
    with ServerThread(ServerConfig(port=0), runtime_config_for(client_assets)) as server:
        config = PluginConfig(client=ClientConfig(url=server.url, game_id="pygame"), game_fps=20.0)
        plugin = GameAIPlugin(config, ThreadedGameAIClient(config.client, ReconnectPolicy(0.05, 0.2)))
        assert plugin.status_text == "AI: connecting"
        plugin.start()
        deadline = time.monotonic() + 15
        while not plugin.connected and time.monotonic() < deadline:
            time.sleep(0.01)
        assert plugin.capture_interval() == 4  # 20 game fps / 5 model fps
        line = plugin.say("smith", "blacksmith", "Hello", max_new_tokens=6, seed=1)
        pair = plugin.say("scout", "scout", "Hello", max_new_tokens=6, seed=1, n=2)
        request = plugin.request_action("rival", np.zeros(8))
        together = plugin.request_actions({"goblin-0": np.zeros(8), "goblin-1": np.ones(8)})
        frame = 0
        while time.monotonic() < deadline and (
            plugin.latest_behaviour is None or not line.done or not pair.done or len(plugin.actions) < 3
        ):
            world.fill(((frame * 5) % 255, 40, 90))
            plugin.on_frame(world)
            frame += 1
            time.sleep(1 / 200)
        assert plugin.frames_captured == plugin.frame_count // 4
        assert plugin.latest_behaviour is not None
        assert line.done and line.error is None and line.finish_reason in ("stop", "length")
        assert pair.done and pair.error is None and len(pair.alternatives) == 2
        assert pair.text == pair.alternatives[0] and pair.alternatives[0] != pair.alternatives[1]
        action = plugin.action_for("rival")
        assert action is not None and action.id == request and len(action.action) == 3
        for npc_id in ("goblin-0", "goblin-1"):  # each NPC of the batch, as if asked alone
            batched = plugin.action_for(npc_id)
            assert batched is not None and batched.id == together and batched.npc_id == npc_id
            assert len(batched.action) == 3 and batched.latency_ms >= 0
        assert plugin.status_text.startswith("AI: connected")
        plugin.report_events(["kill"])
        plugin.report_match("loss", npc_id="rival")
        plugin.close()
