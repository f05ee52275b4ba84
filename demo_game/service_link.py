"""The demo game's link to the gameai service, through the pygame plugin.

Frames of the arena surface go out; behaviour results, NPC replies and the enemies'
actions come back. Nothing here blocks the frame loop: requests are queued by the
plugin's background thread and the game always uses the latest answer it has. When
the service is unreachable (or a model is unavailable) the game keeps playing with
scripted enemies, and :meth:`ServiceLink.status` says so.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from demo_game.game import ArenaGame
from demo_game.hud import ServiceStatus
from demo_game.plugin_link import NpcTalk, PluginLink
from demo_game.sim import ActorField, ArenaField
from demo_game.sim.rules import NPC_DECISION_TICKS

if TYPE_CHECKING:
    import pygame

    from demo_game.sim import ArenaSimulation
    from gameai.protocol.messages import Action

LOW_HEALTH = 0.35
"""Below this share of health the player counts as low on health in dialogue context."""


def enemy_npc_id(actor: int) -> str:
    """The protocol NPC id of enemy actor ``actor``."""
    return f"enemy-{actor}"


class ServiceLink(PluginLink):
    """Connects one demo game to a gameai service (or to none, for local play).

    Args:
        url: The service's websocket URL, or None to play offline.
        game_fps: The game's frame rate (frames are captured at the model's rate).
        token: Auth token, when the service wants one.
    """

    quiet_events = frozenset({"fire"})

    def __init__(self, url: str | None, game_fps: float, token: str | None = None) -> None:
        super().__init__(url, "gameai-arena-demo", game_fps, token)
        self.difficulty: float | None = None
        """The difficulty the latest served action was played at."""
        self.action_latency_ms: list[float] = []
        self.rtt_ms: list[float] = []
        from demo_game.sim.observation import OBSERVATION_SIZE

        self._obs = np.zeros((1, OBSERVATION_SIZE), dtype=np.float32)

    # ------------------------------------------------------------------ per frame
    def on_frame(self, arena_surface: pygame.Surface) -> None:
        """Send the arena surface (every k frames) and take in what the service sent."""
        super().on_frame(arena_surface)
        plugin = self.plugin
        if (
            plugin is not None
            and self.online
            and plugin.client.rtt_ms is not None
            and plugin.frame_count % 30 == 0
        ):
            self.rtt_ms.append(plugin.client.rtt_ms)

    def _took_action(self, action: Action) -> None:
        self.action_latency_ms.append(action.latency_ms)
        self.difficulty = action.difficulty

    @property
    def agent(self) -> str | None:
        """The served agent that drives the enemies, if one is ready."""
        plugin = self.plugin
        welcome = None if plugin is None or not plugin.connected else plugin.client.welcome
        if welcome is None or "agents" not in welcome.services or welcome.default_agent is None:
            return None
        info = welcome.models.get(f"agent/{welcome.default_agent}")
        return welcome.default_agent if info is None or info.status == "ready" else None

    def request_enemy_actions(self, game: ArenaGame) -> None:
        """Every few ticks, ask the served agent what each living enemy does next (one ``act.batch``)."""
        plugin = self.plugin
        agent = self.agent
        if plugin is None or agent is None or game.tick % NPC_DECISION_TICKS:
            return
        from demo_game.sim.observation import observe  # the observation the agent was trained on

        sim = game.sim
        s = sim.state
        difficulty = np.array([0.5 if self.difficulty is None else self.difficulty])
        alive = np.ones(1, dtype=np.bool_)
        observations = {}
        for actor in range(1, s.actors.shape[1]):
            if s.actors[0, actor, ActorField.ALIVE] < 0.5:
                continue
            observe(actor, difficulty, self._obs, s.arena, s.actors, s.bullets, s.pickups, sim.rules, alive)
            observations[enemy_npc_id(actor)] = self._obs[0].copy()
        if observations:
            plugin.request_actions(observations, agent=agent)

    def enemy_action(self, actor: int) -> npt.NDArray[np.int64] | None:
        """The latest served action of enemy ``actor`` while the agent is reachable, else None."""
        return self.served_action(enemy_npc_id(actor))

    # ------------------------------------------------------------------ dialogue
    def ask_friendly(self, game: ArenaGame, npc_id: str, player_line: str) -> NpcTalk | None:
        """Ask friendly NPC ``npc_id`` to answer ``player_line``; never blocks.

        The request carries :meth:`dialogue_events` and :meth:`game_state`; the reply streams
        into the returned talk (see :meth:`~demo_game.plugin_link.PluginLink.ask_npc`).

        Args:
            game: The match the NPC talks about.
            npc_id: The NPC's card id on the service (``assets/dialogue/npcs.toml``).
            player_line: What the player said.

        Returns:
            The exchange, or None while the service is unreachable (the arena's NPCs then stay silent).
        """
        if self.plugin is None or not self.plugin.connected:
            return None
        return self.ask_npc(
            npc_id, player_line, events=self.dialogue_events(game), game_state=self.game_state(game)
        )

    @staticmethod
    def dialogue_events(game: ArenaGame) -> list[str]:
        """Recent events and conditions the NPC should know about, most recent last."""
        recent: list[str] = []
        for event in list(game.events)[-40:]:
            if event.name not in {"fire", "start"} and event.name not in recent[-3:]:
                recent.append(event.name)
        player = game.sim.state.actors[0, 0]
        if player[ActorField.HEALTH] < LOW_HEALTH * game.sim.config.rules.player_health:
            recent.append("low_health")
        if game.results and game.results[-1] == "win":
            recent.append("won_fight")
        if game.sim.state.arena[0, ArenaField.PICKUPS_COIN] >= 5:
            recent.append("collected_lot")
        return recent[-8:]

    @staticmethod
    def game_state(game: ArenaGame) -> dict[str, Any]:
        """The player's numbers in this match, for the dialogue context (NPCs answer "what's my
        score?" from them)."""
        actors = game.sim.state.actors[0]
        arena = game.sim.state.arena[0]
        return {
            "score": game.score,
            "health": int(actors[0, ActorField.HEALTH]),
            "max_health": int(game.sim.config.rules.player_health),
            "coins": int(arena[ArenaField.PICKUPS_COIN]),
            "health_packs": int(arena[ArenaField.PICKUPS_HEALTH]),
            "enemies_left": int((actors[1:, ActorField.ALIVE] > 0.5).sum()),
            "seconds_left": round(game.seconds_left),
        }

    # ------------------------------------------------------------------ reports
    def status(self) -> ServiceStatus:
        """What the HUD shows about the service."""
        plugin = self.plugin
        if plugin is None:
            return ServiceStatus()
        status = ServiceStatus(connection=plugin.status_text, online=plugin.connected)
        if plugin.connected:
            status.latency_ms = plugin.client.rtt_ms
            status.difficulty = self.difficulty
            welcome = plugin.client.welcome
            if welcome is not None:
                for key, info in sorted(welcome.models.items()):
                    if info.status != "ready":
                        status.notes.append(f"{key}: unavailable")
                if self.agent is None:
                    status.notes.append("enemies: scripted (no agent)")
        result = plugin.latest_behaviour
        if result is not None:
            status.behaviour = result.label
            status.probabilities = dict(result.probabilities)
            status.confidence = max(result.probabilities.values(), default=0.0)
        return status

    def summary(self) -> dict[str, Any]:  # type: ignore[override]
        """What the service did for this run, for the printed summary (with latency percentiles)."""

        def percentiles(values: list[float]) -> dict[str, float] | None:
            if not values:
                return None
            ordered = sorted(values)
            return {
                "p50": round(statistics.median(ordered), 2),
                "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2),
            }

        return super().summary(
            rtt_ms=percentiles(self.rtt_ms),
            behaviour_latency_ms=percentiles(self.behaviour_latency_ms),
            action_latency_ms=percentiles(self.action_latency_ms),
        )


class ServedEnemy:
    """Drives enemy ``actor`` with the served agent's actions; scripted when there are none.

    Args:
        link: Where the actions come from.
        fallback: The scripted controller used while no served action is at hand.
    """

    def __init__(self, link: ServiceLink, fallback: Any) -> None:
        self.link = link
        self.fallback = fallback
        self.served_ticks = 0
        self._no_noise = np.zeros(1)

    def __call__(self, sim: ArenaSimulation, actor: int) -> npt.NDArray[np.float64]:
        """The enemy's controls for the next tick."""
        action = self.link.enemy_action(actor)
        if action is None:
            return np.asarray(self.fallback(sim, actor))
        from demo_game.sim.actions import apply_actions

        s = sim.state
        apply_actions(actor, action.reshape(1, 3), self._no_noise, sim.controls, s.arena, s.keys, s.actors)
        self.served_ticks += 1
        controls: npt.NDArray[np.float64] = sim.controls[0, actor].copy()  # apply_actions sets TALK to 0
        return controls
