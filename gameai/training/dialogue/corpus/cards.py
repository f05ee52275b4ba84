"""Made-up NPC cards and the questions whose answers are, or are not, in them.

:func:`draw_card` makes a card from :mod:`~gameai.training.dialogue.corpus.pools`: a name, a
role, traits, a voice (its ``speech`` text from the voice's line bank), a mood, 2-9 facts of
the kinds below (some in the description instead of the fact list), goals. Each fact keeps its
structure (:class:`KnownFact`) so that a question can be asked about it (:func:`question_about`)
and so that a question about something the card does *not* hold can be asked too
(:func:`unanswerable_question`): about a subject of the same kind, often sharing a word with
one the card has ("the old well" when the card knows "the old mine").

Kinds: ``location`` (the old mine is east of the village), ``price`` (a new shield costs 40
gold), ``who`` (Captain Orlen stole the crown), ``when`` (the market opens at dawn), ``count``
(there are 12 wolves in the north woods), ``name`` (the mayor is called Aldric), ``sell`` (I
sell swords and rope), ``work`` (a goal: I want to find someone to clear the old mine) and
``state`` (the game state: your score is 12).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from gameai.dialogue.prompt import MOODS
from gameai.protocol.messages import NpcCard
from gameai.training.dialogue.corpus import pools
from gameai.training.dialogue.corpus.pools import split

Rng = np.random.Generator

#: Share of training subjects' words that are made up (:meth:`CardPools.word`).
PSEUDO_WORD_SHARE: Final = 0.35

#: Fact kinds a card's fact list draws from, and how often.
FACT_KINDS: Final[dict[str, float]] = {
    "location": 1.4,
    "price": 1.2,
    "who": 1.0,
    "when": 1.0,
    "count": 0.7,
    "name": 1.0,
    "sell": 0.5,
}


@dataclass(frozen=True)
class KnownFact:
    """A fact with its structure: what it is about and the value that answers a question."""

    kind: str
    subject: str
    """What a question names (``the old mine``, ``a new shield``, ``stole the crown``)."""
    value: str
    """What the answer must contain (``east of the village``, ``40 gold``, ``Captain Orlen``)."""
    text: str
    """The sentence on the card."""
    verb: str = ""
    """``when``: the base verb (``open``); ``count``: the place (``the north woods``)."""


@dataclass(frozen=True)
class GeneratedCard:
    """A made-up card with the structure of its facts."""

    card: NpcCard
    voice: str
    """The voice bank its ``speech`` came from."""
    facts: tuple[KnownFact, ...]
    """Its facts (those in the description too), goals as ``work`` facts."""


def _pick(rng: Rng, items: tuple[Any, ...] | list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class CardPools:
    """The training or the held-out half of every pool."""

    def __init__(self, heldout: bool) -> None:
        self.heldout = heldout
        s = lambda pool: split(pool, heldout)  # noqa: E731
        self.roles = s(pools.ROLES)
        self.traits = pools.TRAITS
        self.place_adjectives = s(pools.PLACE_ADJECTIVES)
        self.place_nouns = s(pools.PLACE_NOUNS)
        self.landmarks = s(pools.LANDMARKS)
        self.terrains = s(pools.TERRAINS)
        self.item_adjectives = s(pools.ITEM_ADJECTIVES)
        self.items = s(pools.ITEMS)
        self.currencies = pools.CURRENCIES
        self.deed_verbs = s(pools.DEED_VERBS)
        self.deed_objects = s(pools.DEED_OBJECTS)
        self.when_events = s(pools.WHEN_EVENTS)
        self.times = s(pools.TIMES)
        self.creatures = s(pools.CREATURES)
        self.title_roles = s(pools.TITLE_ROLES)
        self.wares = s(pools.WARES)
        self.state_keys = s(pools.GAME_STATE_KEYS)
        self.questions = {kind: s(phrasings) for kind, phrasings in pools.QUESTIONS.items()}
        self.behaviour_texts = s(pools.BEHAVIOUR_TEXTS)

    def word(self, rng: Rng, pool: tuple[str, ...], prefix: str = "", suffix: str = "") -> str:
        """An entry of ``pool``, or in training, a third of the time, a made-up word
        (``prefix + word + suffix``): subjects made of words the model has never seen teach it to
        match what the player asks with what the card says, whatever the words."""
        if not self.heldout and rng.random() < PSEUDO_WORD_SHARE:
            return prefix + pools.pseudo_word(rng) + suffix
        return pool[0] if len(pool) == 1 else str(_pick(rng, pool))

    def name(self, rng: Rng) -> str:
        """A syllable name of this half (held-out names by hash)."""
        while True:
            name = _pick(rng, pools.NAME_STARTS) + _pick(rng, pools.NAME_ENDS)
            if pools.is_heldout_name(name) == self.heldout:
                return name

    def person(self, rng: Rng) -> str:
        """A name, sometimes with a title."""
        name = self.name(rng)
        return f"{_pick(rng, pools.TITLES)} {name}" if rng.random() < 0.3 else name

    def place(self, rng: Rng) -> str:
        return f"the {self.word(rng, self.place_adjectives)} {self.word(rng, self.place_nouns)}"

    def where(self, rng: Rng) -> str:
        """Where something is (``east of the village``)."""
        form = int(rng.integers(6))
        if form == 0:
            return f"{_pick(rng, pools.DIRECTIONS)} of the {_pick(rng, self.landmarks)}"
        if form == 1:
            return f"in the {self.name(rng)} {_pick(rng, self.terrains)}"
        if form == 2:
            return f"behind the {_pick(rng, self.landmarks)}"
        if form == 3:
            return f"past the {_pick(rng, self.landmarks)}"
        if form == 4:
            return f"on the {_pick(rng, pools.ORDINALS)} floor of the {_pick(rng, self.landmarks)}"
        return f"near the {_pick(rng, pools.DIRECTIONS)} {_pick(rng, ('gate', 'road', 'wall', 'dock'))}"

    def subject(self, kind: str, rng: Rng) -> tuple[str, str]:
        """A subject of ``kind`` and its second part (``when``: base verb; ``count``: place)."""
        if kind == "location":
            return self.place(rng), ""
        if kind == "price":
            adjective = self.word(rng, self.item_adjectives)
            return f"{'an' if adjective[0] in 'aeiou' else 'a'} {adjective} {self.word(rng, self.items)}", ""
        if kind == "who":
            return f"{_pick(rng, self.deed_verbs)} {self.word(rng, self.deed_objects, 'the ')}", ""
        if kind == "when":
            subject, third, base = _pick(rng, self.when_events)
            subject = self.word(rng, (subject,), "the ")
            return f"{subject}|{third}", base
        if kind == "count":
            return _pick(
                rng, self.creatures
            ), f"the {_pick(rng, pools.DIRECTIONS)} {_pick(rng, self.place_nouns)}"
        if kind == "name":
            return self.word(rng, self.title_roles, "the "), ""
        raise ValueError(kind)

    def fact(self, kind: str, rng: Rng, subject: tuple[str, str] | None = None) -> KnownFact:
        """A fact of ``kind`` (about ``subject`` when given)."""
        if kind == "sell":
            wares = list(rng.choice(len(self.wares), size=int(rng.integers(1, 4)), replace=False))
            names = list(dict.fromkeys(self.word(rng, (self.wares[i],), suffix="s") for i in wares))
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            return KnownFact("sell", "", names[0], f"I sell {listed}.")
        s, extra = subject or self.subject(kind, rng)
        if kind == "location":
            where = self.where(rng)
            text = _cap(f"{s} is {where}.") if rng.random() < 0.7 else f"You can find {s} {where}."
            return KnownFact(kind, s, where, text)
        if kind == "price":
            price = f"{int(rng.integers(2, 500))} {_pick(rng, self.currencies)}"
            return KnownFact(kind, s, price, _cap(f"{s} costs {price}."))
        if kind == "who":
            person = self.person(rng)
            return KnownFact(kind, s, person, f"{person} {s}.")
        if kind == "when":
            subject_text, third = s.split("|")
            time = _pick(rng, self.times)
            return KnownFact(kind, subject_text, time, _cap(f"{subject_text} {third} {time}."), verb=extra)
        if kind == "count":
            n = str(int(rng.integers(2, 60)))
            return KnownFact(kind, s, n, f"There are {n} {s} in {extra}.", verb=extra)
        if kind == "name":
            person = self.person(rng)
            verb = "is called" if rng.random() < 0.5 else "is"
            return KnownFact(kind, s, person, _cap(f"{s} {verb} {person}."))
        raise ValueError(kind)

    def goal(self, rng: Rng) -> str:
        """A goal (``find someone to clear the old mine``)."""
        template: str = _pick(rng, pools.GOALS)
        return template.format(
            place=f"{_pick(rng, self.place_adjectives)} {_pick(rng, self.place_nouns)}",
            object=_pick(rng, self.deed_objects),
            deed=f"{_pick(rng, self.deed_verbs)} {_pick(rng, self.deed_objects)}",
            ware=_pick(rng, self.wares),
            item=_pick(rng, self.items),
            creature=_pick(rng, self.creatures),
        )


def draw_card(card_pools: CardPools, voices: dict[str, tuple[str, ...]], rng: Rng) -> GeneratedCard:
    """A made-up card (see the module docstring).

    Args:
        card_pools: The pools' training or held-out half.
        voices: Voice name -> the ``speech`` texts it may be described with.
        rng: Randomness.
    """
    voice = _pick(rng, sorted(voices))
    name, role = card_pools.name(rng), _pick(rng, card_pools.roles)
    traits = tuple(
        card_pools.traits[i]
        for i in rng.choice(len(card_pools.traits), int(rng.integers(1, 4)), replace=False)
    )
    kinds = list(FACT_KINDS)
    weights = np.array(list(FACT_KINDS.values()))
    facts: list[KnownFact] = []
    subjects: set[str] = set()
    for _ in range(int(rng.integers(2, 10))):
        kind = kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))]
        if kind == "sell" and any(f.kind == "sell" for f in facts):
            continue
        fact = card_pools.fact(kind, rng)
        if (fact.kind, fact.subject) in subjects or (
            kind != "sell" and fact.subject in {f.subject for f in facts}
        ):
            continue
        subjects.add((fact.kind, fact.subject))  # type: ignore[arg-type]
        facts.append(fact)
    goals = [card_pools.goal(rng) for _ in range(int(rng.choice(3, p=[0.45, 0.4, 0.15])))]
    work = [KnownFact("work", "", goal, f"I want to {goal}.") for goal in dict.fromkeys(goals)]
    in_description = [f for f in facts if rng.random() < 0.2]
    description = ""
    if rng.random() < 0.5 or in_description:
        article = "an" if role[0] in "aeiou" else "a"
        description = f"{name} is {article} {' and '.join(traits[:2])} {role}."
        description = " ".join([description, *(f.text for f in in_description)])
    card = NpcCard(
        name=name,
        role=role,
        description=description,
        traits=traits,
        speech=_pick(rng, voices[voice]),
        facts=tuple(f.text for f in facts if f not in in_description),
        goals=tuple(dict.fromkeys(goals)),
        mood=_pick(rng, MOODS) if rng.random() < 0.5 else None,
    )
    return GeneratedCard(card, voice, tuple(facts) + tuple(work))


def question_about(card_pools: CardPools, fact: KnownFact, rng: Rng) -> str:
    """A player's question whose answer is ``fact``."""
    phrasing: str = _pick(rng, card_pools.questions[fact.kind])
    if fact.kind == "when":
        return phrasing.format(s=fact.subject, v=fact.verb)
    if fact.kind == "count":
        return phrasing.format(s=fact.subject, p=fact.verb)
    return phrasing.format(s=fact.subject)


def unanswerable_question(
    card_pools: CardPools, generated: GeneratedCard, rng: Rng
) -> tuple[str, str, str] | None:
    """A question of a kind the card has facts of, about a subject it holds nothing on.

    Half of the time the subject shares a word with one the card knows. Returns
    ``(question, kind, topic)`` (topic: the subject, for an "I don't know about X" reply),
    or None when no such question was found.
    """
    kinds = sorted({f.kind for f in generated.facts if f.kind in FACT_KINDS and f.kind != "sell"})
    if not kinds:
        kinds = ["location", "price", "who"]
    kind = _pick(rng, kinds)
    known = {f.subject for f in generated.facts if f.kind == kind}
    for _ in range(20):
        s, extra = card_pools.subject(kind, rng)
        subject = s.split("|")[0]
        if kind == "count":
            known_places = {f.verb for f in generated.facts if f.kind == "count" and f.subject == subject}
            if extra in known_places:
                continue
        elif subject in known:
            continue
        phrasing: str = _pick(rng, card_pools.questions[kind])
        if kind == "when":
            return phrasing.format(s=subject, v=extra), kind, subject
        if kind == "count":
            return phrasing.format(s=subject, p=extra), kind, f"{subject} in {extra}"
        return phrasing.format(s=subject), kind, subject
    return None


def game_state(card_pools: CardPools, rng: Rng) -> dict[str, Any]:
    """A random game state of 0-5 entries (health with max_health sometimes)."""
    n = min(int(rng.integers(0, 6)), len(card_pools.state_keys))
    keys = [card_pools.state_keys[i] for i in rng.choice(len(card_pools.state_keys), n, replace=False)]
    state: dict[str, Any] = {}
    for key in keys:
        state[key.replace(" ", "_")] = int(rng.integers(0, 300))
        if key == "health" and rng.random() < 0.6:
            state["max_health"] = int(rng.choice([100, 200, 50, 10]))
            state["health"] = int(rng.integers(0, state["max_health"] + 1))
    return state
