"""From a ``dialogue.request`` and its session to what the dialogue backend is given."""

from __future__ import annotations

import hashlib
from typing import Final

from gameai.dialogue.types import DialogueContext, GenerationParams
from gameai.protocol.messages import DialogueRequest
from gameai.session.state import Session

#: Recent session events put into a dialogue context.
CONTEXT_EVENTS: Final = 8


def build_dialogue_context(request: DialogueRequest, session: Session) -> DialogueContext:
    """The context of a reply: the request's fields plus what the session knows.

    The request's events are added to the session's event log first; the context gets
    the last :data:`CONTEXT_EVENTS` of it. The behaviour is the request's override, else
    the session's latest recognised behaviour. History is the session's memory of this NPC.
    """
    session.events.extend(request.events)
    behaviour = request.behaviour or (session.behaviour.label if session.behaviour else None)
    return DialogueContext(
        npc_id=request.npc_id,
        persona=request.persona,
        player_line=request.player_line,
        behaviour=behaviour,
        mood=request.mood,
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
