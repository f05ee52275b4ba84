"""A pygame plugin on top of :class:`~gameai.client.threaded.ThreadedGameAIClient`.

A game adds three calls to its loop and reads the results from attributes::

    plugin = GameAIPlugin(PluginConfig(client=ClientConfig(game_id="arena"), game_fps=60))
    plugin.start()
    while running:
        ...render the world onto world_surface, then the HUD...
        plugin.on_frame(world_surface)          # captures every k frames, drains results
        if plugin.latest_behaviour: hud.show(plugin.latest_behaviour.label)
        line = plugin.say("blacksmith", player_line="Hello!")   # DialogueLine, fills in over frames
        plugin.request_action("rival", observation)             # then plugin.action_for("rival")
    plugin.close()

Capturing: every ``k`` game frames (``k = round(game_fps / sample_fps)`` unless
``capture_every`` is set), the world surface is downscaled on the client with
:func:`~gameai.client.frames.downscale_frame` to the size the behaviour model takes
(from ``welcome.behaviour``) and sent as raw RGB. Nothing here ever blocks the frame.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from gameai.client.async_client import ClientConfig
from gameai.client.frames import downscale_frame
from gameai.client.threaded import ConnectionChanged, ConnectionState, RequestLost, ThreadedGameAIClient
from gameai.protocol.messages import (
    Action,
    ActionBatch,
    BehaviourResult,
    DialogueDelta,
    DialogueDone,
    Error,
    NpcCard,
)

if TYPE_CHECKING:
    import pygame


@dataclass(frozen=True)
class PluginConfig:
    """How the plugin connects and captures."""

    client: ClientConfig = field(default_factory=ClientConfig)
    """Connection settings."""
    game_fps: float = 60.0
    """The game's frame rate, used to derive the capture interval."""
    capture_every: int = 0
    """Capture every this many frames; 0 derives it from game_fps and the model's sample_fps."""


@dataclass
class DialogueLine:
    """An NPC reply as it streams in (updated by :meth:`GameAIPlugin.update`)."""

    id: str
    """The request id."""
    npc_id: str
    """Who speaks."""
    text: str = ""
    """The reply so far (alternative 0's when several were asked for)."""
    done: bool = False
    """True once the reply is complete (every alternative), cancelled or failed."""
    finish_reason: str | None = None
    """``stop``, ``length`` or ``cancelled`` when done normally (alternative 0's)."""
    error: str | None = None
    """Why it failed, if it did."""
    alternatives: list[str] = field(default_factory=lambda: [""])
    """Each alternative's text so far (one per alternative asked for, ``n``); the first is :attr:`text`."""
    _ended: set[int] = field(default_factory=set, repr=False)

    def on_delta(self, delta: DialogueDelta) -> None:
        """Append a delta to its alternative."""
        alternative = delta.alternative or 0
        if alternative < len(self.alternatives):
            self.alternatives[alternative] += delta.text
            self.text = self.alternatives[0]

    def on_done(self, done: DialogueDone) -> None:
        """An alternative ended; the line is done once all have."""
        alternative = done.alternative or 0
        if alternative < len(self.alternatives):
            self.alternatives[alternative] = done.text
            self._ended.add(alternative)
        if alternative == 0:
            self.text, self.finish_reason = done.text, done.finish_reason
        self.done = len(self._ended) >= len(self.alternatives)


class GameAIPlugin:
    """The game-facing side of gameai (see the module docstring).

    Args:
        config: Connection and capture settings.
        client: The client to use (default: a new :class:`ThreadedGameAIClient`).
    """

    def __init__(
        self, config: PluginConfig = PluginConfig(), client: ThreadedGameAIClient | None = None
    ) -> None:
        self.config = config
        self.client = client or ThreadedGameAIClient(config.client)
        self.latest_behaviour: BehaviourResult | None = None
        self.lines: dict[str, DialogueLine] = {}
        self.actions: dict[str, Action] = {}
        """The latest action per NPC id."""
        self.errors: deque[Error] = deque(maxlen=20)
        """The latest errors from the server."""
        self.frame_count = 0
        self.frames_captured = 0
        self._requests: dict[str, str] = {}

    def start(self) -> None:
        """Start connecting in the background."""
        self.client.start()

    def close(self) -> None:
        """Disconnect and stop the background thread."""
        self.client.close()

    @property
    def connected(self) -> bool:
        """Whether the service is reachable now."""
        return self.client.connected

    @property
    def status_text(self) -> str:
        """A short line for the HUD, e.g. ``"AI: connected, 2.1 ms"``."""
        state = self.client.state
        if state is ConnectionState.CONNECTED:
            rtt = self.client.rtt_ms
            return "AI: connected" + (f", {rtt:.1f} ms" if rtt is not None else "")
        return f"AI: {state.value}"

    def capture_interval(self) -> int | None:
        """Capture every this many frames (None while no behaviour model is reachable)."""
        welcome = self.client.welcome
        if welcome is None or welcome.behaviour is None or "behaviour" not in welcome.services:
            return None
        if self.config.capture_every > 0:
            return self.config.capture_every
        return max(1, round(self.config.game_fps / welcome.behaviour.sample_fps))

    def on_frame(self, world: pygame.Surface | np.ndarray) -> None:
        """Call once per rendered frame with the world surface (not the HUD); never blocks."""
        self.frame_count += 1
        self.update()
        interval = self.capture_interval()
        welcome = self.client.welcome
        if interval is None or welcome is None or welcome.behaviour is None or self.frame_count % interval:
            return
        spec = welcome.behaviour
        if self.client.send_frame(downscale_frame(world, (spec.width, spec.height))):
            self.frames_captured += 1

    def update(self) -> None:
        """Apply everything the server sent since the last call (on_frame calls it)."""
        for event in self.client.poll():
            if isinstance(event, BehaviourResult):
                self.latest_behaviour = event
            elif isinstance(event, DialogueDelta):
                line = self.lines.get(event.id)
                if line is not None:
                    line.on_delta(event)
            elif isinstance(event, DialogueDone):
                line = self.lines.get(event.id)
                if line is not None:
                    line.on_done(event)
            elif isinstance(event, Action):
                self.actions[event.npc_id] = event
            elif isinstance(event, ActionBatch):
                for item in event.actions:
                    self.actions[item.npc_id] = Action(
                        id=event.id,
                        npc_id=item.npc_id,
                        agent=item.agent,
                        action=item.action,
                        difficulty=item.difficulty,
                        latency_ms=event.latency_ms,
                    )
            elif isinstance(event, Error):
                self.errors.append(event)
                self._fail(event.id, f"{event.code.value}: {event.message}")
            elif isinstance(event, RequestLost):
                self._fail(event.id, event.reason)
            elif isinstance(event, ConnectionChanged) and event.state is not ConnectionState.CONNECTED:
                self.latest_behaviour = None

    def _fail(self, request_id: str | None, reason: str) -> None:
        line = self.lines.get(request_id or "")
        if line is not None and not line.done:
            line.done, line.error = True, reason

    def say(
        self,
        npc_id: str,
        persona: str | None = None,
        player_line: str = "",
        npc: NpcCard | Mapping[str, Any] | None = None,
        **options: Any,
    ) -> DialogueLine:
        """Ask an NPC to speak; the returned line fills in over the next frames.

        Args:
            npc_id: The NPC (a card id of ``welcome.npcs``, e.g. ``blacksmith``, or the game's own id).
            persona: A card id of the server, or a free-text description (optional).
            player_line: What the player said.
            npc: The NPC's card (see :meth:`~gameai.client.async_client.GameAIClient.dialogue`).
            **options: Other ``dialogue.request`` fields (mood, events, game_state, seed, n...).
        """
        request_id = self.client.request_dialogue(npc_id, persona, player_line, npc=npc, **options)
        line = DialogueLine(id=request_id, npc_id=npc_id, alternatives=[""] * int(options.get("n", 1)))
        self.lines[request_id] = line
        if len(self.lines) > 64:
            for old in [key for key, value in self.lines.items() if value.done][: len(self.lines) - 64]:
                del self.lines[old]
        return line

    def request_action(
        self,
        npc_id: str,
        observation: np.ndarray | list[float] | tuple[float, ...],
        difficulty: float | None = None,
        agent: str | None = None,
    ) -> str:
        """Ask for an NPC's next action; read it later with :meth:`action_for`."""
        return self.client.act(npc_id, observation, difficulty, agent)

    def request_actions(
        self,
        observations: Mapping[str, np.ndarray | list[float] | tuple[float, ...]],
        difficulty: float | None = None,
        agent: str | None = None,
    ) -> str:
        """Ask for several NPCs' next actions in one message; read each later with :meth:`action_for`."""
        return self.client.act_batch(observations, difficulty, agent)

    def action_for(self, npc_id: str) -> Action | None:
        """The latest action received for this NPC."""
        return self.actions.get(npc_id)

    def report_match(self, outcome: Literal["win", "loss", "draw"], **fields: Any) -> None:
        """Report a finished match (npc_id, player_score, npc_score, duration_s optional)."""
        self.client.match_result(outcome, **fields)

    def report_events(self, events: list[str] | tuple[str, ...]) -> None:
        """Report game events (``gameai.vocabulary.EVENTS`` for the demo game)."""
        if events:
            self.client.events(events)
