"""The dialogue service: ``dialogue.request`` -> NPC replies streamed token by token.

:meth:`DialogueService.load` loads the Hugging Face causal LM directory named by
:attr:`~gameai.runtime.config.RuntimeConfig.dialogue_model` (or serves a backend given to it);
a model that cannot load leaves the service ``unavailable`` with the reason; every game shares
it. The NPC cards are per game (:mod:`~gameai.services.game_models`): a session gets the cards
of its ``hello.game_id``, or the default set's (``gameai serve --npcs``, else the default game's;
:meth:`DialogueService.load_cards`), listed in its ``welcome.npcs``; each request's card is
:func:`~gameai.services.dialogue_context.resolve_card`'s. The same file's ``behaviours`` say
what NPCs may say about each of the game's behaviour classes
(:mod:`~gameai.dialogue.behaviour_text`). Each reply is streamed as
``dialogue.delta`` messages and ends with one ``dialogue.done`` per alternative;
``dialogue.cancel`` stops a request's replies.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import torch

from gameai.dialogue.behaviour_text import load_behaviour_texts
from gameai.dialogue.npc_card import load_npc_cards
from gameai.dialogue.types import DialogueBackend, DialogueTurn
from gameai.model_files import ModelLoadError
from gameai.observability.metrics import ServiceMetrics
from gameai.paths import resolve_path
from gameai.protocol.errors import ErrorCode
from gameai.protocol.messages import (
    DialogueCancel,
    DialogueDelta,
    DialogueDone,
    DialogueRequest,
    Hello,
    Message,
    ModelInfo,
    NpcCard,
)
from gameai.runtime.batching import OverloadedError, WorkerStoppedError
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.dialogue import DialogueStream, DialogueWorker
from gameai.services.base import RequestJob, RequestRefusedError, Service, SessionContext, SessionService
from gameai.services.dialogue_context import build_dialogue_context, generation_params
from gameai.services.game_models import GameModels, ServedGames, served_games

logger = logging.getLogger(__name__)


def _game_cards(game: GameModels) -> dict[str, NpcCard]:
    """The NPC cards of one game's card file (none when it has none).

    Raises:
        CardFileError: The file is missing or invalid.
    """
    if game.npcs is None:
        return {}
    cards = load_npc_cards(game.npcs)
    whose = "the default set" if game.game_id is None else f"game {game.game_id!r}"
    names = ", ".join(cards) or "none"
    logger.info("dialogue: %s: %d NPC cards from %s: %s", whose, len(cards), game.npcs, names)
    return cards


def _game_behaviour_texts(game: GameModels) -> dict[str, str]:
    """The ``behaviours`` of one game's NPC file (none when it has no file or no table).

    Raises:
        BehaviourTextError: The table is invalid.
    """
    return {} if game.npcs is None else load_behaviour_texts(game.npcs)


class DialogueService(Service):
    """Serves ``dialogue.request`` and ``dialogue.cancel`` (see the module docstring).

    Args:
        info: The model's status.
        worker: The worker generating replies (None when unavailable).
        cards: The default set's NPC cards by card id (``welcome.npcs``).
        game_cards: Every other game's NPC cards, by game id then card id.
        behaviour_texts: Each game's behaviour sentences, by game id (None: the default set's)
            then behaviour label (:meth:`load_behaviour_texts`).
    """

    name: ClassVar[str] = "dialogue"
    message_types: ClassVar[tuple[type[Message], ...]] = (DialogueRequest, DialogueCancel)
    request_types: ClassVar[tuple[type[Message], ...]] = (DialogueRequest,)

    def __init__(
        self,
        info: ModelInfo,
        worker: DialogueWorker | None = None,
        cards: Mapping[str, NpcCard] | None = None,
        game_cards: Mapping[str, Mapping[str, NpcCard]] | None = None,
        behaviour_texts: Mapping[str | None, Mapping[str, str]] | None = None,
    ) -> None:
        self.info = info
        self.worker = worker
        self.cards: dict[str, NpcCard] = dict(cards or {})
        self.game_cards: dict[str, dict[str, NpcCard]] = {
            game_id: dict(game) for game_id, game in (game_cards or {}).items()
        }
        self.behaviour_texts: dict[str | None, dict[str, str]] = {
            game_id: dict(texts) for game_id, texts in (behaviour_texts or {}).items()
        }

    @staticmethod
    def load_cards(config: RuntimeConfig, games: ServedGames | None = None) -> dict[str, NpcCard]:
        """The default set's NPC cards: ``config.npcs``, else the default game's (none when empty).

        Args:
            config: The options.
            games: The served games (default: :func:`~gameai.services.game_models.served_games`).

        Raises:
            CardFileError: The file is missing or invalid.
        """
        return _game_cards(games.default if games is not None else served_games(config).default)

    @staticmethod
    def load_game_cards(games: ServedGames) -> dict[str, dict[str, NpcCard]]:
        """Every game's NPC cards but the default set's, by game id (empty for a game without).

        Raises:
            CardFileError: A card file is invalid.
        """
        return {game_id: _game_cards(game) for game_id, game in games.games.items()}

    @staticmethod
    def load_behaviour_texts(games: ServedGames) -> dict[str | None, dict[str, str]]:
        """Every game's behaviour sentences (its NPC file's ``behaviours``), by game id; the
        default set's under None.

        Raises:
            BehaviourTextError: A table is invalid.
        """
        texts: dict[str | None, dict[str, str]] = {None: _game_behaviour_texts(games.default)}
        texts.update((game_id, _game_behaviour_texts(game)) for game_id, game in games.games.items())
        return texts

    def cards_of(self, game_id: str) -> dict[str, NpcCard]:
        """The NPC cards a session of ``game_id`` gets: its game's, else the default set's."""
        return self.game_cards.get(game_id, self.cards)

    def behaviour_texts_of(self, game_id: str) -> dict[str, str]:
        """The behaviour sentences a session of ``game_id`` gets: from the same NPC file as its cards."""
        key = game_id if game_id in self.game_cards else None
        return self.behaviour_texts.get(key, {})

    @classmethod
    def load(
        cls,
        config: RuntimeConfig,
        device: torch.device,
        metrics: ServiceMetrics | None,
        backend: DialogueBackend | None = None,
        cards: Mapping[str, NpcCard] | None = None,
        game_cards: Mapping[str, Mapping[str, NpcCard]] | None = None,
        behaviour_texts: Mapping[str | None, Mapping[str, str]] | None = None,
    ) -> DialogueService:
        """Load ``config.dialogue_model`` (or serve ``backend``); failures are reported, never raised.

        Args:
            config: The model, the NPC card file and batching.
            device: Where the model runs.
            metrics: Where the worker records its metrics.
            backend: Serve this backend instead of loading ``config.dialogue_model``.
            cards: The default set's NPC cards (default: :meth:`load_cards`, which may raise
                :class:`~gameai.dialogue.npc_card.CardFileError`).
            game_cards: Every other game's NPC cards, by game id (default: none).
            behaviour_texts: Each game's behaviour sentences (default: the default set's when
                the cards are loaded here, else none: every label gets the generic sentence).
        """
        if cards is None:
            cards = cls.load_cards(config)
            if behaviour_texts is None:  # from the same file as the cards
                behaviour_texts = {None: _game_behaviour_texts(served_games(config).default)}
        if backend is None:
            if not config.dialogue_model:
                return cls(
                    ModelInfo(service="dialogue", status="unavailable", reason="disabled"),
                    cards=cards,
                    game_cards=game_cards,
                    behaviour_texts=behaviour_texts,
                )
            from gameai.dialogue.hf_backend import HuggingFaceBackend

            try:
                backend = HuggingFaceBackend.load(
                    resolve_path(config.dialogue_model), device, config.dialogue_forward == "auto"
                )
            except ModelLoadError as exc:
                info = ModelInfo(service="dialogue", status="unavailable", reason=str(exc))
                return cls(info, cards=cards, game_cards=game_cards, behaviour_texts=behaviour_texts)
            logger.info(
                "dialogue model %s: %s forward pass (dialogue_forward %s)",
                backend.name,
                backend.forward_pass_name,
                config.dialogue_forward,
            )
        worker = DialogueWorker(
            "dialogue",
            backend,
            config.dialogue_concurrency,
            config.dialogue_max_queue,
            metrics,
            max_batch=config.dialogue_max_batch,
        )
        return cls(
            ModelInfo(service="dialogue", status="ready", name=backend.name, version=backend.version),
            worker,
            cards,
            game_cards,
            behaviour_texts,
        )

    def models(self) -> Mapping[str, ModelInfo]:
        """``dialogue``: the model's status."""
        return {"dialogue": self.info}

    def welcome_fields(self, hello: Hello) -> Mapping[str, Any]:
        """``welcome.npcs``: the ids of the NPC cards of the session's game."""
        return {"npcs": tuple(self.cards_of(hello.game_id))}

    def open_session(self, context: SessionContext) -> SessionService:
        """The session's dialogue requests."""
        return DialogueSession(self, context)

    def start(self) -> None:
        """Start the worker's threads."""
        if self.worker is not None:
            self.worker.start()

    async def stop(self) -> None:
        """Cancel the replies in flight and stop the worker."""
        if self.worker is not None:
            await self.worker.stop()


class DialogueSession(SessionService):
    """One session's dialogue requests: streams replies, cancels them, remembers turns.

    Args:
        service: The dialogue model.
        context: The session and its client.
    """

    def __init__(self, service: DialogueService, context: SessionContext) -> None:
        self.service = service
        self.context = context
        self.streams: dict[str, tuple[DialogueStream, ...]] = {}
        """Dialogue streams in flight (one per alternative), by request id."""
        self.cards = service.cards_of(context.session.hello.game_id)
        """The NPC cards of the session's game, by card id."""
        self.behaviour_texts = service.behaviour_texts_of(context.session.hello.game_id)
        """What its NPCs may say about each of the game's behaviour classes, by label."""
        self._latency = context.metrics.request_latency_seconds.labels("dialogue")

    def handle(self, message: Message, received_at: float) -> RequestJob | None:
        """Start a request's replies (returns the job streaming them) or cancel one."""
        if isinstance(message, DialogueCancel):
            streams = self.streams.get(message.id)
            if streams is None:
                raise RequestRefusedError(ErrorCode.UNKNOWN_REQUEST, "no dialogue in flight with this id")
            for stream in streams:
                stream.cancel()
            return None
        assert isinstance(message, DialogueRequest)
        return self._start(message, received_at)

    async def drain(self, grace_s: float) -> None:
        """Cancel every reply in flight (each ends with ``dialogue.done``, ``cancelled``)."""
        self._cancel_all()

    async def close(self) -> None:
        """Cancel every reply in flight."""
        self._cancel_all()

    def _cancel_all(self) -> None:
        for streams in self.streams.values():
            for stream in streams:
                stream.cancel()

    def _start(self, request: DialogueRequest, received_at: float) -> RequestJob:
        worker = self.service.worker
        if worker is None:
            raise RequestRefusedError(
                ErrorCode.MODEL_UNAVAILABLE, f"dialogue model unavailable: {self.service.info.reason}"
            )
        settings = self.context.settings
        session = self.context.session
        params = generation_params(request, settings.default_max_new_tokens)
        if params.max_new_tokens > settings.max_new_tokens:
            raise RequestRefusedError(
                ErrorCode.OUT_OF_RANGE,
                f"dialogue.request.max_new_tokens: must be <= {settings.max_new_tokens}, "
                f"got {params.max_new_tokens}",
            )
        context = build_dialogue_context(request, session, self.cards, self.behaviour_texts)
        streams: list[DialogueStream] = []
        try:
            for alternative in range(request.n):
                params = generation_params(request, settings.default_max_new_tokens, alternative)
                streams.append(worker.submit(context, params, session.session_id))
        except (OverloadedError, WorkerStoppedError) as exc:
            for stream in streams:
                stream.cancel()
            if isinstance(exc, WorkerStoppedError):
                raise RequestRefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down") from None
            raise RequestRefusedError(ErrorCode.OVERLOADED, f"dialogue model busy: {exc}") from None
        self.streams[request.id] = tuple(streams)
        return self._stream(request, tuple(streams), received_at)

    async def _stream(
        self, request: DialogueRequest, streams: tuple[DialogueStream, ...], received_at: float
    ) -> None:
        """Stream every alternative at once; each ends with its own ``dialogue.done``.

        A failing alternative cancels the others and the request ends in one ``error``.
        The NPC remembers alternative 0's reply (unless cancelled).
        """
        try:
            async with asyncio.TaskGroup() as group:
                tasks = [
                    group.create_task(
                        self._stream_alternative(
                            request, index if request.n > 1 else None, stream, received_at
                        )
                    )
                    for index, stream in enumerate(streams)
                ]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None  # the backend's error, as for a single reply
        finally:
            self.streams.pop(request.id, None)
            for stream in streams:
                if not stream.finished_at:
                    stream.cancel()
        first = tasks[0].result()
        if first.finish_reason != "cancelled":
            self.context.session.memory.remember(
                request.npc_id, DialogueTurn(request.player_line, first.text)
            )

    async def _stream_alternative(
        self, request: DialogueRequest, alternative: int | None, stream: DialogueStream, received_at: float
    ) -> DialogueDone:
        """Forward one reply's deltas, then send and return its ``dialogue.done``."""
        send = self.context.send
        pieces: list[str] = []
        async for text in stream:
            await send(DialogueDelta(id=request.id, index=len(pieces), text=text, alternative=alternative))
            pieces.append(text)
        now = time.perf_counter()
        duration = now - received_at
        first = (stream.first_delta_at - received_at) * 1000.0 if stream.first_delta_at is not None else None
        generation_time = now - (stream.first_delta_at or stream.submitted)
        done = DialogueDone(
            id=request.id,
            text="".join(pieces),
            tokens=stream.tokens,
            finish_reason=stream.finish_reason or "stop",
            first_token_ms=round(first, 3) if first is not None else None,
            duration_ms=round(duration * 1000.0, 3),
            tokens_per_s=round(stream.tokens / generation_time, 2) if generation_time > 0 else 0.0,
            alternative=alternative,
        )
        await send(done)
        self._latency.observe(duration)
        return done
