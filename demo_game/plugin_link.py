"""What the demo games' links to the gameai service share (light: imports no game simulation).

A :class:`PluginLink` owns the pygame plugin of one game: it starts it, sends the game's
frames, counts the behaviour results and served actions that come back, notices
disconnects and new sessions, reports events and results, asks friendly NPCs to talk
(:meth:`PluginLink.ask_npc`, each exchange an :class:`NpcTalk`), and closes. Each game's
link adds what its NPCs need (observations, actions, the game state they talk about) and
what its HUD shows.
"""

from __future__ import annotations

import dataclasses
import enum
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

from gameai.client.async_client import ClientConfig
from gameai.client.pygame_plugin import DialogueLine, GameAIPlugin, PluginConfig

if TYPE_CHECKING:
    import pygame

    from gameai.protocol.messages import Action

ENDING_EVENTS = frozenset({"win", "loss", "timeout"})
"""Events that end a match or level."""
MAX_TALKS = 64
"""Exchanges with friendly NPCs a link keeps for its summary, the latest ones."""


@dataclasses.dataclass
class NpcTalk:
    """One thing the player said to a friendly NPC, and the NPC's reply as it streams in."""

    npc_id: str
    """The NPC's card id on the service (``dialogue.request.npc_id``)."""
    player_line: str
    """What the player said (empty: the NPC speaks first)."""
    reply: DialogueLine
    """The reply so far; ``done`` once it is complete or failed (``error`` says why)."""


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class ReportedGame(Protocol):
    """What :meth:`PluginLink.report` reads of a game."""

    @property
    def over(self) -> bool: ...
    @property
    def outcome(self) -> enum.Enum: ...
    @property
    def score(self) -> int: ...
    @property
    def tick(self) -> int: ...
    @property
    def tick_rate(self) -> float: ...


class PluginLink:
    """Connects one demo game to a gameai service (or to none, for local play).

    Args:
        url: The service's websocket URL, or None to play offline.
        game_id: The game id the frames go out under.
        game_fps: The game's frame rate (frames are captured at the model's rate).
        token: Auth token, when the service wants one.
    """

    quiet_events: frozenset[str] = frozenset()
    """Events too frequent to report to the service."""

    def __init__(self, url: str | None, game_id: str, game_fps: float, token: str | None = None) -> None:
        self.url = url
        self.plugin: GameAIPlugin | None = None
        if url is not None:
            client = ClientConfig(url=url, game_id=game_id, token=token)
            self.plugin = GameAIPlugin(PluginConfig(client=client, game_fps=game_fps))
            self.plugin.start()
        self.labels: Counter[str] = Counter()
        """Behaviour labels received, counted."""
        self.behaviour_latency_ms: list[float] = []
        self.actions_received = 0
        self.disconnects = 0
        """Times the link went from online to offline, as seen frame by frame."""
        self.online = False
        """Whether the service was reachable at the last frame."""
        self.sessions: list[str] = []
        """Session ids of the service sessions this game has had, oldest first."""
        self.talks: deque[NpcTalk] = deque(maxlen=MAX_TALKS)
        """The exchanges with friendly NPCs (:meth:`ask_npc`), oldest first: the latest :data:`MAX_TALKS`."""
        self._seen_behaviour = -1
        self._seen_actions: dict[str, str] = {}

    @property
    def agent(self) -> str | None:
        """The served agent that drives this game's NPCs, if one is ready (none here)."""
        return None

    # ------------------------------------------------------------------ per frame
    def on_frame(self, surface: pygame.Surface) -> None:
        """Send the game's surface (every k frames) and take in what the service sent."""
        plugin = self.plugin
        if plugin is None:
            return
        plugin.on_frame(surface)
        online = plugin.connected
        if self.online and not online:
            self.disconnects += 1
        self.online = online
        welcome = plugin.client.welcome
        if online and welcome is not None and (not self.sessions or self.sessions[-1] != welcome.session_id):
            self.sessions.append(welcome.session_id)
        result = plugin.latest_behaviour
        if result is not None and result.seq != self._seen_behaviour:
            self._seen_behaviour = result.seq
            self.labels[result.label] += 1
            self.behaviour_latency_ms.append(result.latency_ms)
        for npc_id, action in plugin.actions.items():
            if self._seen_actions.get(npc_id) != action.id:
                self._seen_actions[npc_id] = action.id
                self.actions_received += 1
                self._took_action(action)

    def _took_action(self, action: Action) -> None:
        """Called once for each new served action, after it is counted."""

    def served_action(self, npc_id: str) -> npt.NDArray[np.int64] | None:
        """The latest served action of NPC ``npc_id`` while the agent is reachable, else None."""
        if self.plugin is None or self.agent is None:
            return None
        action = self.plugin.action_for(npc_id)
        return None if action is None else np.asarray(action.action, dtype=np.int64)

    # ------------------------------------------------------------------ dialogue
    def dialogue_unavailable(self) -> str | None:
        """Why a friendly NPC cannot be asked now (a few words for its speech bubble), or None."""
        plugin = self.plugin
        if plugin is None:
            return "no AI service (local play)"
        welcome = plugin.client.welcome
        if not plugin.connected or welcome is None:
            return "the AI service is offline"
        if "dialogue" not in welcome.services:
            return "the AI service has no dialogue"
        info = welcome.models.get("dialogue")
        if info is not None and info.status != "ready":
            return f"dialogue unavailable ({info.reason or info.status})"
        return None

    def ask_npc(
        self,
        npc_id: str,
        player_line: str,
        *,
        events: Iterable[str] = (),
        game_state: Mapping[str, Any] | None = None,
    ) -> NpcTalk:
        """Ask friendly NPC ``npc_id`` to answer ``player_line``; never blocks.

        The reply streams into the returned talk's ``reply`` as :meth:`on_frame` runs, and always
        ends: complete, or failed with ``error`` set (an error from the service, a lost
        connection, or no answer within the client's ``request_timeout_s``). When the service
        cannot be asked (:meth:`dialogue_unavailable`), nothing is sent and the reply has
        already failed, saying why. An unfinished reply of the same NPC is cancelled.

        Args:
            npc_id: The NPC's card id on the service (``welcome.npcs``); a service without
                that card gets it as a persona too.
            player_line: What the player said (empty: the NPC speaks first).
            events: Events and conditions the NPC should know of, beyond those reported.
            game_state: The player's numbers the NPC may answer from (``dialogue.request.game_state``).

        Returns:
            The exchange, also appended to :attr:`talks`.
        """
        plugin = self.plugin
        reason = self.dialogue_unavailable()
        if plugin is None or reason is not None:
            reply = DialogueLine(id="", npc_id=npc_id, done=True, error=reason)
        else:
            for talk in self.talks:
                if talk.npc_id == npc_id and not talk.reply.done and talk.reply.id:
                    plugin.client.cancel_dialogue(talk.reply.id)
            welcome = plugin.client.welcome
            known = welcome is not None and npc_id in welcome.npcs
            reply = plugin.say(
                npc_id,
                None if known else npc_id,
                player_line,
                events=list(events),
                game_state=dict(game_state or {}),
            )
        talk = NpcTalk(npc_id, player_line, reply)
        self.talks.append(talk)
        return talk

    def summary(self, **figures: Any) -> dict[str, Any]:
        """What the service did for this run, for the printed summary: what every game's link
        counts, then the game's own ``figures``, then the service's errors."""
        plugin = self.plugin
        return {
            "url": self.url,
            "connected_at_end": bool(plugin and plugin.connected),
            "disconnects": self.disconnects,
            "sessions": len(self.sessions),
            "frames_sent": plugin.frames_captured if plugin else 0,
            "behaviour_results": sum(self.labels.values()),
            "behaviour_labels": dict(self.labels.most_common()),
            "agent": self.agent,
            "actions_served": self.actions_received,
            "dialogue_lines": self.dialogue_summary(),
            **figures,
            "errors": [f"{e.code.value}: {e.message}" for e in plugin.errors] if plugin else [],
        }

    def dialogue_summary(self) -> list[dict[str, Any]]:
        """Each exchange with a friendly NPC (the latest :data:`MAX_TALKS`), for the printed summary."""
        return [
            {"npc": t.npc_id, "player": t.player_line, "text": t.reply.text, "error": t.reply.error}
            for t in self.talks
        ]

    # ------------------------------------------------------------------ reports
    def report(self, events: Iterable[_Named], game: ReportedGame) -> None:
        """Send this tick's events, and the result when the match (or level) just ended."""
        plugin = self.plugin
        if plugin is None or not plugin.connected:
            return
        events = list(events)
        plugin.report_events([e.name for e in events if e.name not in self.quiet_events])
        if game.over and any(e.name in ENDING_EVENTS for e in events):
            outcome: Literal["win", "loss", "draw"] = "draw"
            if game.outcome.name == "WIN":
                outcome = "win"
            elif game.outcome.name == "LOSS":
                outcome = "loss"
            plugin.report_match(
                outcome, player_score=float(game.score), duration_s=game.tick / game.tick_rate
            )

    def close(self) -> None:
        """Disconnect."""
        if self.plugin is not None:
            self.plugin.close()
