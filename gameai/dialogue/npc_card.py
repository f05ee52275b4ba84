"""NPC cards: loading the game's cards, and choosing what a card knows that a line asks about.

A card (:class:`~gameai.protocol.messages.NpcCard`) says who an NPC is and what it knows. The
NPC's *knowledge* is its facts, the sentences of its description, its goals (as "I want to
..." sentences) and the request's game state (as "your score is 12" sentences). A small model
cannot read fifty facts for every reply, so the prompt carries the few that share the most
words with the player's line (:func:`relevant_knowledge`): the model then answers from them,
or says it does not know when they do not hold the answer.

Card files (``gameai serve --npcs FILE``, and ``assets/dialogue/npcs.toml`` for the demo's
NPCs) are TOML or JSON: a table ``npcs`` of card id -> card, each card validated exactly like
``dialogue.request.npc``::

    [npcs.brann]
    name = "Brann"
    role = "blacksmith"
    traits = ["gruff", "honest"]
    speech = "short, blunt sentences"
    facts = ["A new shield costs 40 gold.", "The old mine is east of the village."]
"""

from __future__ import annotations

import json
import math
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from gameai.protocol.errors import ProtocolError
from gameai.protocol.fields import build_dataclass
from gameai.protocol.messages import NpcCard

#: Most cards one file may hold.
MAX_CARDS_PER_FILE: Final = 10_000
#: Most game-state entries turned into knowledge sentences.
MAX_STATE_SENTENCES: Final = 16
#: Knowledge sentences put into a prompt.
PROMPT_FACTS: Final = 3

_WORD: Final = re.compile(r"[a-z0-9]+")
_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")

#: Words that say nothing about what is asked.
STOPWORDS: Final = frozenset(
    [
        "a",
        "an",
        "the",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "i",
        "im",
        "i'm",
        "you",
        "your",
        "yours",
        "my",
        "mine",
        "me",
        "we",
        "us",
        "our",
        "it",
        "its",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "with",
        "by",
        "about",
        "as",
        "and",
        "or",
        "but",
        "not",
        "no",
        "do",
        "does",
        "did",
        "done",
        "can",
        "could",
        "would",
        "will",
        "shall",
        "should",
        "may",
        "might",
        "must",
        "have",
        "has",
        "had",
        "what",
        "whats",
        "where",
        "wheres",
        "when",
        "who",
        "whos",
        "whom",
        "whose",
        "which",
        "why",
        "how",
        "there",
        "here",
        "this",
        "that",
        "these",
        "those",
        "any",
        "anything",
        "some",
        "something",
        "someone",
        "anyone",
        "know",
        "knows",
        "tell",
        "me",
        "please",
        "hey",
        "hi",
        "hello",
        "oh",
        "so",
        "just",
        "then",
        "than",
        "very",
        "really",
        "also",
        "too",
        "if",
        "get",
        "got",
        "go",
        "going",
        "one",
        "thing",
        "things",
        "like",
        "let",
        "lets",
        "ll",
        "ve",
        "re",
        "d",
        "s",
        "t",
        "don",
        "doesn",
        "didn",
        "isn",
        "aren",
        "wasn",
        "y",
        "yes",
        "yeah",
        "ok",
        "okay",
    ]
)

#: Words folded onto one keyword, so that a question and a fact meet when they say it differently.
SYNONYMS: Final[dict[str, str]] = {
    "price": "cost",
    "costs": "cost",
    "much": "cost",
    "pay": "cost",
    "buy": "sell",
    "sale": "sell",
    "offer": "sell",
    "sells": "sell",
    "selling": "sell",
    "sold": "sell",
    "stock": "sell",
    "wares": "sell",
    "goods": "sell",
    "quest": "work",
    "quests": "work",
    "job": "work",
    "jobs": "work",
    "task": "work",
    "tasks": "work",
    "errand": "work",
    "needs": "work",
    "need": "work",
    "needed": "work",
    "want": "work",
    "wants": "work",
    "goal": "work",
    "goals": "work",
    "help": "work",
    "hand": "work",
    "hp": "health",
    "hitpoints": "health",
    "gold": "coins",
    "coin": "coins",
    "money": "coins",
    "points": "score",
    "opens": "open",
    "opened": "open",
    "opening": "open",
    "closes": "close",
    "closed": "close",
    "closing": "close",
    "leaves": "leave",
    "leaving": "leave",
    "left": "leave",
    "departs": "leave",
    "killed": "kill",
    "kills": "kill",
    "murdered": "kill",
    "murder": "kill",
    "stole": "steal",
    "stolen": "steal",
    "steals": "steal",
    "theft": "steal",
    "lives": "live",
    "living": "live",
    "runs": "run",
    "leads": "lead",
    "leader": "lead",
    "named": "name",
    "called": "name",
}


class CardFileError(ValueError):
    """A card file that cannot be read or holds an invalid card (the message says which)."""


def keywords(text: str) -> list[str]:
    """The words of ``text`` that say what it is about: lower case, stop words dropped,
    a plural ``s`` cut, synonyms folded (:data:`SYNONYMS`)."""
    words = _WORD.findall(text.lower().replace("'s ", " ").replace("'", ""))
    out: list[str] = []
    for word in words:
        if word in STOPWORDS:
            continue
        word = SYNONYMS.get(word, word)
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = SYNONYMS.get(word[:-1], word[:-1])
        out.append(word)
    return out


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?" else text + "."


def state_sentences(game_state: Mapping[str, Any]) -> list[str]:
    """The game state as sentences about the player ("your score is 12.").

    Numbers, strings and booleans are kept, other values skipped; ``health`` with
    ``max_health`` becomes "your health is 30 of 100."; at most :data:`MAX_STATE_SENTENCES`.
    """
    sentences: list[str] = []
    for key, value in game_state.items():
        if len(sentences) >= MAX_STATE_SENTENCES:
            break
        if key == "max_health" and "health" in game_state:
            continue
        if isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, float):
            value = f"{value:g}"
        elif not isinstance(value, int | str) or not str(value).strip():
            continue
        name = " ".join(str(key).replace("_", " ").split())[:40]
        text = " ".join(str(value).split())[:60]
        if key == "health" and isinstance(game_state.get("max_health"), int | float):
            text = f"{text} of {game_state['max_health']:g}"
        sentences.append(f"your {name} is {text}.")
    return sentences


def knowledge(card: NpcCard, game_state: Mapping[str, Any] | None = None) -> list[str]:
    """Every sentence the NPC knows: its facts, its description's sentences, its goals, the
    game state's sentences (in that order, duplicates dropped)."""
    sentences = [_sentence(f) for f in card.facts]
    sentences += [_sentence(s) for s in _SENTENCE_END.split(card.description) if s.strip()]
    sentences += [_sentence(f"I want to {g[0].lower()}{g[1:]}") for g in card.goals if g.strip()]
    sentences += state_sentences(game_state or {})
    return list(dict.fromkeys(s for s in sentences if s))


def relevant_knowledge(line: str, sentences: list[str], k: int = PROMPT_FACTS) -> list[str]:
    """The (at most ``k``) sentences that share a keyword with ``line``, best first.

    The score of a sentence is the sum, over the keywords it shares with ``line``, of
    ``log(1 + n / df)`` where ``df`` is how many of the ``n`` sentences hold the keyword (a word
    every sentence holds counts little). Ties keep the sentences' order. A sentence that shares
    nothing is never shown: a line that matches no knowledge reaches the model with no facts,
    and the model says it does not know.
    """
    if not sentences:
        return []
    asked = set(keywords(line))
    words = [set(keywords(s)) for s in sentences]
    df: dict[str, int] = {}
    for ws in words:
        for word in ws:
            df[word] = df.get(word, 0) + 1
    n = len(sentences)
    scores = [sum(math.log1p(n / df[w]) for w in ws & asked) for ws in words]
    order = sorted((i for i in range(n) if scores[i] > 0), key=lambda i: (-scores[i], i))
    return [sentences[i] for i in order[:k]]


def card_from_persona(persona: str) -> NpcCard:
    """The card of a free-text persona: no name, the text as its description."""
    return NpcCard(name="", description=" ".join(persona.split())[:1000])


def parse_card(value: Any, where: str = "npc") -> NpcCard:
    """Validate one card (a JSON-like mapping) exactly like ``dialogue.request.npc``.

    Raises:
        ProtocolError: What is wrong and where (``npc.facts[3]: ...``).
    """
    card = build_dataclass(NpcCard, value, where)
    assert isinstance(card, NpcCard)
    return card


def read_card_file(path: Path) -> Any:
    """The parsed content of an NPC file (JSON when its suffix is ``.json``, else TOML).

    Raises:
        CardFileError: The file cannot be read or is not valid JSON or TOML.
    """
    try:
        raw = path.read_bytes()
        return json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise CardFileError(f"cannot read NPC cards {path}: {exc.strerror or exc}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise CardFileError(
            f"NPC cards {path} is not valid {path.suffix.lstrip('.') or 'TOML'}: {exc}"
        ) from exc


def load_npc_cards(path: str | Path) -> dict[str, NpcCard]:
    """Read a card file (TOML or JSON; see the module docstring).

    Returns:
        Card id -> card, in the file's order.

    Raises:
        CardFileError: The file is missing, unreadable, not a table of cards, or a card is
            invalid (the message names the file and the card).
    """
    path = Path(path)
    data = read_card_file(path)
    npcs = data.get("npcs") if isinstance(data, dict) else None
    if not isinstance(npcs, dict):
        raise CardFileError(f"NPC cards {path}: expected a table 'npcs' of card id -> card")
    if len(npcs) > MAX_CARDS_PER_FILE:
        raise CardFileError(f"NPC cards {path}: {len(npcs)} cards, at most {MAX_CARDS_PER_FILE}")
    cards: dict[str, NpcCard] = {}
    for card_id, value in npcs.items():
        if not 1 <= len(card_id) <= 64:
            raise CardFileError(f"NPC cards {path}: card id {card_id[:70]!r} must be 1-64 characters")
        try:
            cards[card_id] = parse_card(value, f"npcs.{card_id}")
        except ProtocolError as exc:
            raise CardFileError(f"NPC cards {path}: {exc}") from exc
    return cards
