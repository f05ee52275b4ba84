"""From a ``dialogue.request`` and its session to what the dialogue backend is given."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Final

from gameai.dialogue.npc_card import card_from_persona
from gameai.dialogue.types import DialogueContext, GenerationParams
from gameai.protocol.errors import ErrorCode
from gameai.protocol.messages import DialogueRequest, NpcCard
from gameai.services.base import RequestRefusedError
from gameai.session.state import Session

#: Recent session events put into a dialogue context.
CONTEXT_EVENTS: Final = 8


def resolve_card(request: DialogueRequest, session: Session, cards: Mapping[str, NpcCard]) -> NpcCard:
    """The card of the NPC a request is for, the first of:

    1. ``request.npc`` (the session then remembers it under ``request.npc_id``);
    2. the card the session remembers for ``request.npc_id``;
    3. the server's card named ``request.npc_id``;
    4. the server's card named ``request.persona`` (old clients sending ``"blacksmith"``);
    5. ``request.persona`` as a free-text description (:func:`card_from_persona`).

    Args:
        request: The request.
        session: Its session (remembers the cards its client gave).
        cards: The server's cards by card id (``gameai serve --npcs``).

    Raises:
        RequestRefusedError: ``missing_field`` when none of these gives a card.
    """
    if request.npc is not None:
        session.cards.remember(request.npc_id, request.npc)
        return request.npc
    card = session.cards.card(request.npc_id) or cards.get(request.npc_id)
    if card is not None:
        return card
    if request.persona is not None:
        named = cards.get(request.persona) or cards.get(request.persona.strip().lower())
        return named or card_from_persona(request.persona)
    raise RequestRefusedError(
        ErrorCode.MISSING_FIELD,
        f"dialogue.request for npc {request.npc_id!r} needs `npc` (a card), a `persona`, or an npc_id "
        "the server has a card for (welcome.npcs)",
    )


def build_dialogue_context(
    request: DialogueRequest,
    session: Session,
    cards: Mapping[str, NpcCard],
    behaviour_texts: Mapping[str, str] | None = None,
) -> DialogueContext:
    """The context of a reply: the request's fields plus what the session and the server know.

    The card is :func:`resolve_card`'s; the mood is the request's, else the card's. The
    request's events are added to the session's event log (once the card is found); the
    context gets the last :data:`CONTEXT_EVENTS` of it. The behaviour is the request's
    override, else the session's latest recognised behaviour (none while it is ``unknown``);
    what the NPC may say about it is the game's sentence for it (``behaviour_texts``, the NPC
    file's ``behaviours``), else the generic one.
    History is the session's memory of this NPC.

    Raises:
        RequestRefusedError: From :func:`resolve_card`.
    """
    card = resolve_card(request, session, cards)
    session.events.extend(request.events)
    behaviour = request.behaviour or (session.behaviour.known_label if session.behaviour else None)
    return DialogueContext(
        npc_id=request.npc_id,
        npc=card,
        player_line=request.player_line,
        behaviour=behaviour,
        behaviour_text=(behaviour_texts or {}).get(behaviour) if behaviour else None,
        mood=request.mood or card.mood,
        events=session.events.recent(CONTEXT_EVENTS),
        game_state=request.game_state,
        history=session.memory.history(request.npc_id),
    )


def alternative_seed(seed: int | None, alternative: int) -> int | None:
    """The sampling seed of one of a request's ``n`` alternatives.

    Alternative 0 keeps the request's seed (so ``n = 1`` samples exactly what it always did);
    alternative ``k`` > 0 gets a 32-bit hash of ``(seed, k)``, the same on every run. No seed
    stays no seed: every alternative then draws a fresh one.
    """
    if seed is None or alternative == 0:
        return seed
    digest = hashlib.blake2b(f"gameai-alternative:{seed}:{alternative}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def generation_params(
    request: DialogueRequest, default_max_new_tokens: int, alternative: int = 0
) -> GenerationParams:
    """Sampling settings of a reply: the request's, else :class:`GenerationParams`' defaults.

    Args:
        request: The request.
        default_max_new_tokens: ``max_new_tokens`` when the request gives none.
        alternative: Which of the request's ``n`` replies (its seed is :func:`alternative_seed`).
    """
    defaults = GenerationParams()
    return GenerationParams(
        max_new_tokens=request.max_new_tokens or default_max_new_tokens,
        temperature=request.temperature if request.temperature is not None else defaults.temperature,
        top_p=request.top_p if request.top_p is not None else defaults.top_p,
        seed=alternative_seed(request.seed, alternative),
        stop=request.stop,
    )
