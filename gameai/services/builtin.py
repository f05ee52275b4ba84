"""The built-in services (behaviour, dialogue, agents), loaded from a :class:`RuntimeConfig`.

The games come first (:func:`~gameai.services.game_models.served_games`: the models directory
and the options); then each service loads every game's models independently: a model that is
missing or corrupt is logged with the reason and listed as ``unavailable`` (``welcome.models``,
``/healthz``); the other services are served regardless.
"""

from __future__ import annotations

import logging

import torch

from gameai.dialogue.types import DialogueBackend
from gameai.observability.metrics import ServiceMetrics
from gameai.runtime.config import RuntimeConfig
from gameai.runtime.device import cpu_inference_threads, select_device
from gameai.services.agents import AgentsService
from gameai.services.behaviour import BehaviourService
from gameai.services.dialogue import DialogueService
from gameai.services.game_models import served_games
from gameai.services.registry import ServiceRegistry

logger = logging.getLogger(__name__)


def load_services(
    config: RuntimeConfig,
    metrics: ServiceMetrics | None = None,
    dialogue_backend: DialogueBackend | None = None,
) -> ServiceRegistry:
    """Load the built-in services' models (blocking: call before serving).

    Args:
        config: Model paths, device and batching.
        metrics: Where workers record their metrics.
        dialogue_backend: Serve this backend instead of loading ``config.dialogue_model``
            (for embedding gameai with a backend of one's own).

    Returns:
        The registry of the three services, not started (the server starts it).

    Raises:
        ValueError: If the device preference cannot be satisfied, a behaviour setting is
            invalid for a model, ``games.toml`` is malformed
            (:class:`~gameai.services.game_models.GamesManifestError`), or an NPC card file
            cannot be read or holds an invalid card (:class:`~gameai.dialogue.npc_card.CardFileError`).
        FileNotFoundError: If ``config.models_dir`` names no directory.
    """
    device = select_device(config.device)
    threads = config.torch_threads or (cpu_inference_threads() if device.type == "cpu" else 0)
    if threads > 0:
        torch.set_num_threads(threads)
    games = served_games(config)
    # A bad card file stops the start before any model loads.
    cards = DialogueService.load_cards(config, games)
    game_cards = DialogueService.load_game_cards(games)
    behaviour_texts = DialogueService.load_behaviour_texts(games)
    games.log()
    behaviour = BehaviourService.load(config, device, metrics, threads, games)
    dialogue = DialogueService.load(
        config, device, metrics, dialogue_backend, cards, game_cards, behaviour_texts
    )
    agents = AgentsService.load(config, device, metrics, games)
    behaviour.wait_ready()  # its child processes started first and loaded meanwhile
    registry = ServiceRegistry([behaviour, dialogue, agents], games)
    for key, info in registry.models.items():
        if metrics is not None:
            metrics.model_up.labels(key).set(1 if info.status == "ready" else 0)
        if info.status == "ready":
            logger.info("model %s ready: %s %s on %s", key, info.name, info.version, device)
        else:
            logger.warning("model %s unavailable: %s", key, info.reason)
    return registry
