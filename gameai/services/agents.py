"""The agents service: ``act`` -> ``action`` (``act.batch`` -> ``action.batch`` for several NPCs
at once) from RL actors, at the session's difficulty.

:meth:`AgentsService.load` loads, for every game of the models directory
(:mod:`~gameai.services.game_models`) and for the default set (``gameai serve --agents-dir``,
else the default game's), every sub-directory of the game's agents directory
(``actor.safetensors`` + ``actor.json``) as one agent named after it; one that fails to load is
``unavailable`` with the reason and the others are served. A session gets the agents of its
``hello.game_id``, or the default set's. An ``act`` without ``difficulty`` is played at what the
session's difficulty controller says (``match.result`` messages move it). An ``act`` without
``agent`` goes to :attr:`~gameai.runtime.config.RuntimeConfig.default_agent` (``gameai serve
--default-agent``, default set only), or, when that is not set, to the first agent by name. The
log says where each agent came from.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from gameai.agents.actor import ActorConfig, load_actor
from gameai.agents.numpy_actor import small_enough
from gameai.compute_threads import limit_numpy_blas_threads, share_torch_threads
from gameai.model_files import ModelLoadError
from gameai.observability.metrics import ServiceMetrics
from gameai.protocol.errors import ErrorCode
from gameai.protocol.messages import (
    Act,
    ActBatch,
    Action,
    ActionBatch,
    ActionItem,
    ActItem,
    AgentSpec,
    Hello,
    Message,
    ModelInfo,
)
from gameai.runtime.batching import (
    BatchingConfig,
    BatchingWorker,
    ModelOutputError,
    ModelTimeoutError,
    OverloadedError,
    WorkerStoppedError,
)
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.inline import InlineBatcher, ModelRunner
from gameai.runtime.models import ActRequest, AgentPolicy, NumpyAgentPolicy
from gameai.services.base import (
    RequestJob,
    RequestRefusedError,
    Service,
    SessionContext,
    SessionService,
    with_health,
)
from gameai.services.game_models import ServedGames, model_key, served_games

logger = logging.getLogger(__name__)

ActionValues = tuple[int | float, ...]
"""One action: ints for a discrete action, floats for a Box one."""


@dataclass
class ServedAgent:
    """One agent being served."""

    name: str
    config: ActorConfig
    worker: ModelRunner[ActRequest, ActionValues]
    """Runs the actor: on the event loop (small actors, numpy) or on a worker thread (torch)."""

    @property
    def spec(self) -> AgentSpec:
        """What ``act`` takes and returns (``welcome.agents[name]``)."""
        config = self.config
        return AgentSpec(
            obs_dim=config.obs_dim,
            action_space=config.action_space,
            action_nvec=config.action_nvec,
            action_low=config.action_low,
            action_high=config.action_high,
            difficulty_input=config.difficulty_input,
            handicap=config.handicap_in_use,
        )


class AgentsService(Service):
    """Serves ``act`` requests (see the module docstring).

    Args:
        agents: The default set's ready agents by name.
        infos: Every agent's status (``agent/<name>``, or ``agent`` when none was found).
        default_agent: The agent an ``act`` without ``agent`` gets (empty: the first by name).
        games: Every other game's agents, each served like the default set's, by game id.
    """

    name: ClassVar[str] = "agents"
    message_types: ClassVar[tuple[type[Message], ...]] = (Act, ActBatch)
    request_types: ClassVar[tuple[type[Message], ...]] = (Act, ActBatch)

    def __init__(
        self,
        agents: Mapping[str, ServedAgent],
        infos: Mapping[str, ModelInfo],
        default_agent: str = "",
        games: Mapping[str, AgentsService] | None = None,
    ) -> None:
        self.agents = dict(agents)
        self.infos = dict(infos)
        self.games: dict[str, AgentsService] = dict(games or {})
        if default_agent and default_agent not in self.agents and f"agent/{default_agent}" not in self.infos:
            raise ValueError(
                f"--default-agent {default_agent!r}: no such agent (agents: {sorted(self.agents) or 'none'})"
            )
        self._default_agent = default_agent

    @classmethod
    def load(
        cls,
        config: RuntimeConfig,
        device: torch.device,
        metrics: ServiceMetrics | None,
        games: ServedGames | None = None,
    ) -> AgentsService:
        """Load the agents of the default set and of every game (failures are reported and logged).

        Args:
            config: Batching and where agents run.
            device: Where torch agents run.
            metrics: Where workers record their metrics.
            games: The served games (default: :func:`~gameai.services.game_models.served_games`).

        Raises:
            ValueError: If ``config.default_agent`` names no agent directory.
        """
        games = games if games is not None else served_games(config)
        service = cls._load_game(config, device, metrics, games.default.agents, games.default.default_agent)
        for game_id, game in games.games.items():
            service.games[game_id] = cls._load_game(config, device, metrics, game.agents, game_id=game_id)
        return service

    @classmethod
    def _load_game(
        cls,
        config: RuntimeConfig,
        device: torch.device,
        metrics: ServiceMetrics | None,
        root: Path | None,
        default_agent: str = "",
        game_id: str | None = None,
    ) -> AgentsService:
        """Load every agent directory under ``root`` (None: no agents) of one game.

        Args:
            config: Batching and where agents run.
            device: Where torch agents run.
            metrics: Where workers record their metrics.
            root: The game's agents directory.
            default_agent: The agent an ``act`` without ``agent`` gets (empty: the first by name).
            game_id: The game, for its workers' metric labels (None: the default set).

        Raises:
            ValueError: If ``default_agent`` names no agent directory.
        """
        if root is None:
            if default_agent:
                raise ValueError(f"--default-agent {default_agent!r} but no --agents-dir")
            return cls({}, {})
        directories = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        if not directories:
            info = ModelInfo(
                service="agent", status="unavailable", reason=f"{root}: no agent directories found"
            )
            logger.warning("agents: %s", info.reason)
            return cls({}, {"agent": info}, default_agent)
        batching = BatchingConfig(config.agent_max_batch, config.agent_max_wait_ms, config.model_max_queue)
        agents: dict[str, ServedAgent] = {}
        infos: dict[str, ModelInfo] = {}
        for directory in directories:
            key = f"agent/{directory.name}"
            try:
                actor = load_actor(directory, device)
            except ModelLoadError as exc:
                infos[key] = ModelInfo(
                    service="agent", status="unavailable", name=directory.name, reason=str(exc)
                )
                logger.warning("agent %r not served: %s", directory.name, exc)
                continue
            inline = device.type == "cpu" and small_enough(actor.config, config.agent_inline_max_params)
            logger.info(
                "agent %r loaded from %s: %s action %s, %d observation values, difficulty %s; runs %s",
                actor.name,
                actor.directory,
                actor.config.action_space,
                list(actor.config.action_nvec) or [actor.config.action_low, actor.config.action_high],
                actor.config.obs_dim,
                "input" if actor.config.difficulty_input else "handicap only",
                "in numpy on the event loop" if inline else f"with torch on a worker thread ({device})",
            )
            worker: ModelRunner[ActRequest, ActionValues]
            label = model_key(game_id, key)
            if inline:
                limit_numpy_blas_threads(1)
                worker = InlineBatcher(
                    label, NumpyAgentPolicy(actor), config.agent_max_batch, config.model_max_queue, metrics
                )
            else:
                worker = BatchingWorker(
                    label,
                    AgentPolicy(actor),
                    batching,
                    metrics,
                    deadline_s=config.model_deadline_s,
                    thread_setup=share_torch_threads,
                )
            agents[actor.name] = ServedAgent(actor.name, actor.config, worker)
            infos[key] = ModelInfo(
                service="agent",
                status="ready",
                name=actor.name,
                version=actor.version,
                random_init=bool(actor.metadata.get("random_init", False)),
            )
        service = cls(agents, infos, default_agent)
        if service.default_agent is not None:
            whose = "" if game_id is None else f" of game {game_id!r}"
            logger.info("agents: an act%s without agent goes to %r", whose, service.default_agent)
        return service

    @property
    def default_agent(self) -> str | None:
        """The agent an ``act`` without ``agent`` gets: ``--default-agent``, else the first by name."""
        if self._default_agent:
            return self._default_agent
        return min(self.agents) if self.agents else None

    def of_game(self, game_id: str) -> AgentsService:
        """The agents a session of ``game_id`` gets: its game's, else the default set (this one)."""
        return self.games.get(game_id, self)

    def _own_models(self) -> dict[str, ModelInfo]:
        """This set's agents' statuses, each unavailable while it does not answer or keeps failing."""
        infos = dict(self.infos)
        for name, agent in self.agents.items():
            infos[f"agent/{name}"] = with_health(infos[f"agent/{name}"], agent.worker.health_problem)
        return infos

    def models(self) -> Mapping[str, ModelInfo]:
        """``agent/<name>`` per agent directory of the default set (``agent`` when there was none),
        and ``games/<game_id>/agent/<name>`` per other game's; an agent that does not answer, or
        keeps failing, is unavailable meanwhile."""
        infos = self._own_models()
        for game_id, game in self.games.items():
            infos.update({model_key(game_id, key): info for key, info in game._own_models().items()})
        return infos

    def session_models(self, hello: Hello) -> Mapping[str, ModelInfo]:
        """``agent/<name>`` per agent directory of the session's game (``agent`` when none)."""
        return self.of_game(hello.game_id)._own_models()

    def welcome_fields(self, hello: Hello) -> Mapping[str, Any]:
        """``welcome.agents`` and ``welcome.default_agent`` of the session's game."""
        agents = self.of_game(hello.game_id)
        return {
            "agents": {name: agent.spec for name, agent in agents.agents.items()},
            "default_agent": agents.default_agent,
        }

    def open_session(self, context: SessionContext) -> SessionService:
        """The session's ``act`` handler, with its game's agents."""
        return AgentsSession(self.of_game(context.session.hello.game_id), context)

    def _every_agent(self) -> list[ServedAgent]:
        return [
            *self.agents.values(),
            *(agent for game in self.games.values() for agent in game.agents.values()),
        ]

    def start(self) -> None:
        """Start every agent's worker, of every game."""
        for agent in self._every_agent():
            agent.worker.start()

    async def stop(self) -> None:
        """Finish queued observations and stop the workers."""
        for agent in self._every_agent():
            await agent.worker.stop()


class AgentsSession(SessionService):
    """One session's ``act`` and ``act.batch`` requests.

    Args:
        service: The agents of the session's game.
        context: The session and its client.
    """

    def __init__(self, service: AgentsService, context: SessionContext) -> None:
        self.service = service
        self.context = context
        self._latency = context.metrics.request_latency_seconds.labels("agents")

    def handle(self, message: Message, received_at: float) -> RequestJob | None:
        """Submit the observations of an ``act`` or ``act.batch``; the job sends the answer.

        Every item of a batch is checked before any is submitted: one bad item refuses the
        whole batch, its error naming the item (``acts[2]: ...``).
        """
        if isinstance(message, ActBatch):
            return self._handle_batch(message, received_at)
        assert isinstance(message, Act)
        agent, observation, difficulty = self._check(message)
        future = self._submit(agent, observation, difficulty)
        return self._reply(message, agent.name, difficulty, future, received_at)

    def _handle_batch(self, message: ActBatch, received_at: float) -> RequestJob:
        checked = []
        for index, item in enumerate(message.acts):
            try:
                checked.append(self._check(item))
            except RequestRefusedError as refused:
                raise RequestRefusedError(refused.code, f"acts[{index}]: {refused.message}") from None
        futures: list[asyncio.Future[ActionValues]] = []
        for index, (agent, observation, difficulty) in enumerate(checked):
            try:
                futures.append(self._submit(agent, observation, difficulty))
            except RequestRefusedError as refused:
                for future in futures:  # their actions are not wanted any more
                    future.add_done_callback(_retrieve)
                raise RequestRefusedError(refused.code, f"acts[{index}]: {refused.message}") from None
        return self._reply_batch(message, checked, futures, received_at)

    def _check(self, request: Act | ActItem) -> tuple[ServedAgent, np.ndarray, float]:
        """The request's agent, its observation as float32 ``(obs_dim,)`` and its difficulty.

        Raises:
            RequestRefusedError: For an unknown or unavailable agent, or an observation of the
                wrong length or beyond float32.
        """
        agent = self._agent(request.agent)
        if len(request.observation) != agent.config.obs_dim:
            raise RequestRefusedError(
                ErrorCode.BAD_OBSERVATION,
                f"agent {agent.name!r} takes {agent.config.obs_dim} observation values, "
                f"got {len(request.observation)}",
            )
        difficulty = request.difficulty
        if difficulty is None:
            difficulty = self.context.session.difficulty.difficulty(request.npc_id)
        with np.errstate(over="ignore"):
            observation = np.asarray(request.observation, dtype=np.float32)
        if not np.all(np.isfinite(observation)):
            raise RequestRefusedError(
                ErrorCode.BAD_OBSERVATION,
                "observation values must fit a 32-bit float (|x| < 3.4e38); "
                f"value {int(np.argmin(np.isfinite(observation)))} does not",
            )
        return agent, observation, difficulty

    @staticmethod
    def _submit(
        agent: ServedAgent, observation: np.ndarray, difficulty: float
    ) -> asyncio.Future[ActionValues]:
        try:
            return agent.worker.submit(ActRequest(observation, difficulty))
        except OverloadedError as exc:
            raise RequestRefusedError(ErrorCode.OVERLOADED, f"agent {agent.name!r} busy: {exc}") from None
        except WorkerStoppedError:
            raise RequestRefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down") from None

    def _agent(self, requested: str | None) -> ServedAgent:
        service = self.service
        name = requested or service.default_agent
        if name is None:
            info = service.infos.get("agent")
            raise RequestRefusedError(
                ErrorCode.MODEL_UNAVAILABLE,
                f"no agent available: {info.reason if info else 'none loaded'}",
            )
        agent = service.agents.get(name)
        if agent is not None:
            return agent
        info = service.infos.get(f"agent/{name}")
        if info is not None:
            raise RequestRefusedError(
                ErrorCode.MODEL_UNAVAILABLE, f"agent {name!r} unavailable: {info.reason}"
            )
        raise RequestRefusedError(
            ErrorCode.UNKNOWN_AGENT, f"no agent {name[:64]!r}; agents: {sorted(service.agents)}"
        )

    async def _reply(
        self,
        request: Act,
        agent: str,
        difficulty: float,
        future: asyncio.Future[ActionValues],
        received_at: float,
    ) -> None:
        try:
            action = await future
        except (ModelTimeoutError, ModelOutputError) as exc:
            raise RequestRefusedError(ErrorCode.INTERNAL_ERROR, str(exc)) from None
        latency = time.perf_counter() - received_at
        await self.context.send(
            Action(
                id=request.id,
                npc_id=request.npc_id,
                agent=agent,
                action=action,
                difficulty=difficulty,
                latency_ms=round(latency * 1000.0, 3),
            )
        )
        self._latency.observe(latency)

    async def _reply_batch(
        self,
        request: ActBatch,
        checked: list[tuple[ServedAgent, np.ndarray, float]],
        futures: list[asyncio.Future[ActionValues]],
        received_at: float,
    ) -> None:
        try:
            actions = [await future for future in futures]  # one turn of the loop for inline agents
        except (ModelTimeoutError, ModelOutputError) as exc:
            for future in futures:
                future.add_done_callback(_retrieve)
            raise RequestRefusedError(ErrorCode.INTERNAL_ERROR, str(exc)) from None
        latency = time.perf_counter() - received_at
        items = tuple(
            ActionItem(npc_id=item.npc_id, agent=agent.name, action=action, difficulty=difficulty)
            for item, (agent, _, difficulty), action in zip(request.acts, checked, actions, strict=True)
        )
        await self.context.send(
            ActionBatch(id=request.id, actions=items, latency_ms=round(latency * 1000.0, 3))
        )
        self._latency.observe(latency)


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Take a dropped future's outcome, so that asyncio does not log it as never retrieved."""
    if not future.cancelled():
        future.exception()
