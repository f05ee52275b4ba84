"""The platformer's link to the gameai service, through the pygame plugin.

Frames of the square of the world around the player
(:meth:`~demo_game.platformer.render.PlatformerRenderer.behaviour_view`) go out under the game
id ``platformer``; behaviour results (Skyline's own styles, from its own model:
``assets/platformer/behaviour``) and, where the service has a goblin agent for this game, the
goblins' actions come back. Events and level results are reported. The friendly NPCs are asked
by their card ids (``shopkeeper``, ``guide``: the service's cards for this game,
``assets/platformer/npcs.toml``) with the player's numbers as the game state, and their replies
stream back. Nothing here blocks the frame loop; while the service is away (or has no goblin
agent) the goblins stay scripted and the game plays on.

A service without Skyline's models serves it the default set (the arena's): its behaviour
model then answers ``unknown`` to these frames, and an agent is used only when its observation
and action spaces are the goblin's.
"""

from __future__ import annotations

import dataclasses
import statistics
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from demo_game.platformer import GAME_ID
from demo_game.platformer.game import PlatformerGame
from demo_game.platformer.sim import NPC_DECISION_TICKS, Control
from demo_game.platformer.sim.actions import ACTION_NVEC, goblin_controls
from demo_game.platformer.sim.observation import OBSERVATION_SIZE, observe
from demo_game.plugin_link import NpcTalk, PluginLink

if TYPE_CHECKING:
    from demo_game.platformer.game import GoblinController
    from demo_game.platformer.sim import PlatformerSimulation

QUIET_EVENTS = frozenset({"land"})
"""Events too frequent to report to the service."""


def goblin_npc_id(goblin: int) -> str:
    """The protocol NPC id of goblin ``goblin``."""
    return f"goblin-{goblin}"


@dataclasses.dataclass
class LinkStatus:
    """What the game knows of the service, for the HUD."""

    connection: str = "offline (local play)"
    online: bool = False
    behaviour: str | None = None
    """The recognised player behaviour, if any."""
    confidence: float = 0.0
    models: str = ""
    """Whose models the session got (this game's, or the default set's)."""
    goblins: str = "scripted"
    """Who drives the goblins: ``scripted`` or the served agent's name."""


class PlatformerServiceLink(PluginLink):
    """Connects one platformer game to a gameai service (or to none, for local play).

    Args:
        url: The service's websocket URL, or None to play offline.
        game_fps: The game's frame rate (frames are captured at the model's rate).
        token: Auth token, when the service wants one.
    """

    quiet_events = QUIET_EVENTS

    def __init__(self, url: str | None, game_fps: float, token: str | None = None) -> None:
        super().__init__(url, GAME_ID, game_fps, token)
        self._obs = np.zeros(OBSERVATION_SIZE, dtype=np.float32)

    @property
    def agent(self) -> str | None:
        """A served agent that can drive a goblin (the goblin's observation and actions), if any."""
        plugin = self.plugin
        welcome = None if plugin is None or not plugin.connected else plugin.client.welcome
        if welcome is None or "agents" not in welcome.services:
            return None
        fitting = [
            name
            for name, spec in welcome.agents.items()
            if spec.obs_dim == OBSERVATION_SIZE and tuple(spec.action_nvec) == ACTION_NVEC
        ]
        if welcome.default_agent in fitting:
            return welcome.default_agent
        return fitting[0] if fitting else None

    def request_goblin_actions(self, game: PlatformerGame) -> None:
        """Every few ticks, ask the served agent what each living goblin does next (one ``act.batch``)."""
        plugin, agent = self.plugin, self.agent
        if plugin is None or agent is None or game.tick % NPC_DECISION_TICKS:
            return
        state, rules = game.sim.state, game.sim.rules
        observations = {
            goblin_npc_id(goblin): observe(state, goblin, rules, self._obs).copy()
            for goblin, body in enumerate(state.goblins)
            if body.alive
        }
        if observations:
            plugin.request_actions(observations, agent=agent)

    def goblin_action(self, goblin: int) -> npt.NDArray[np.int64] | None:
        """The latest served action of goblin ``goblin`` while a fitting agent is reachable, else None."""
        return self.served_action(goblin_npc_id(goblin))

    def ask_friendly(self, game: PlatformerGame, slot: int, player_line: str) -> NpcTalk:
        """Ask friendly NPC ``slot`` of the current level to answer ``player_line``; never blocks.

        The request names the NPC by its card id and carries :meth:`game_state`; the reply
        streams into the returned talk (see :meth:`~demo_game.plugin_link.PluginLink.ask_npc`).

        Raises:
            IndexError: If the level has no friendly NPC ``slot``.
        """
        return self.ask_npc(game.friendlies[slot].card_id, player_line, game_state=self.game_state(game))

    @staticmethod
    def game_state(game: PlatformerGame) -> dict[str, Any]:
        """The player's numbers, for the dialogue context (NPCs answer "what's my score?" from
        them): hearts are sent as ``health`` of ``max_health``, so that the service notes low health."""
        state = game.sim.state
        return {
            "score": game.total_score,
            "health": game.hearts,
            "max_health": game.sim.rules.player_hearts,
            "gems": state.gems_collected,
            "gems_in_level": state.level.n_gems,
            "level": game.level_number,
            "time_left": f"{int(game.seconds_left)} seconds",
            "goblins_stomped": state.stomps,
        }

    def status(self) -> LinkStatus:
        """What the HUD shows about the service."""
        plugin = self.plugin
        if plugin is None:
            return LinkStatus()
        status = LinkStatus(connection=plugin.status_text, online=plugin.connected)
        welcome = plugin.client.welcome if plugin.connected else None
        if welcome is not None and welcome.game is not None:
            if welcome.game.models_game != GAME_ID:
                status.models = "default models (none of this game's)"
            elif welcome.behaviour is None:
                status.models = "this game's models (no behaviour model)"
            else:
                status.models = "this game's models"
        status.goblins = self.agent or "scripted"
        result = plugin.latest_behaviour
        if result is not None:
            status.behaviour = result.label
            status.confidence = max(result.probabilities.values(), default=0.0)
        return status

    def summary(self) -> dict[str, Any]:  # type: ignore[override]
        """What the service did for this run, for the printed summary (with the game id and the
        median behaviour latency)."""
        latency = self.behaviour_latency_ms
        return super().summary(
            game_id=GAME_ID,
            behaviour_latency_ms_p50=round(statistics.median(latency), 2) if latency else None,
        )


class ServedGoblin:
    """Drives a goblin with the served agent's actions; with the scripted goblin when there are none.

    Args:
        link: Where the actions come from.
        fallback: The controller used while no served action is at hand.
    """

    def __init__(self, link: PlatformerServiceLink, fallback: GoblinController) -> None:
        self.link = link
        self.fallback = fallback
        self.served_ticks = 0

    def __call__(self, sim: PlatformerSimulation, goblin: int) -> npt.NDArray[np.float64]:
        """The goblin's controls row for the next tick."""
        action = self.link.goblin_action(goblin)
        if action is None:
            return np.asarray(self.fallback(sim, goblin))
        controls = np.zeros(len(Control))
        controls[Control.MOVE_X], controls[Control.JUMP] = goblin_controls(action)
        self.served_ticks += 1
        return controls
