"""The NPC corpus: (prompt, reply) examples for cards, made up and shipped, from data files.

Inputs (all data files, nothing is a constant of the code):

- ``voices/*.txt``: one line bank per voice (``gruff``, ``cheerful``...): the ``speech`` texts
  that describe it, and its replies by intent, mood, behaviour and situation. A card speaks in
  the voice whose ``[speech ...]`` lines hold its ``speech`` text.
- ``lines/player.txt``: what players say, by intent.
- ``npcs.toml``: the shipped cards (the demo's NPCs), which get examples beside the made-up ones.

Each example is a card, a situation (mood, behaviour, events, game state, sometimes an earlier
turn) and one player line of an *intent*: ``fact`` (a question answered by a fact, a goal or
the description: the reply names that sentence's marker), ``topic`` (a question naming one word
of any sentence the card knows, whatever the sentence's form: "What about health packs?"; the
shipped cards' own facts are asked about this way), ``state`` (a question about the game state),
``abstain`` (a question of a kind the card knows about, on a subject it holds nothing on, often
sharing a word with one it does: the reply says the NPC does not know), and the chit-chat
intents of the player bank (``greeting`` ... ``silence``, where the NPC speaks first). The
prompt is rendered exactly as the service renders it
(:func:`gameai.dialogue.prompt.format_prompt`), relevant knowledge included.

The held-out split is made from the held-out half of every pool
(:mod:`~gameai.training.dialogue.corpus.pools`): unseen names, roles, subjects, question
phrasings, player lines and ``speech`` texts; the training split never holds any of them.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np

from gameai.dialogue.behaviour_text import generic_behaviour_text
from gameai.dialogue.npc_card import keywords, knowledge, load_npc_cards, state_sentences
from gameai.dialogue.prompt import (
    BEHAVIOUR_REF,
    END,
    FACTS,
    MOODS,
    UNKNOWN,
    clean_text,
    facts_in_prompt,
    format_prompt,
)
from gameai.dialogue.types import DialogueContext, DialogueTurn
from gameai.model_files import sha256_of
from gameai.protocol.messages import NpcCard
from gameai.training.dialogue.corpus.cards import (
    CardPools,
    GeneratedCard,
    KnownFact,
    draw_card,
    game_state,
    question_about,
    unanswerable_question,
)
from gameai.training.dialogue.corpus.lines import LineBank, load_banks
from gameai.training.dialogue.corpus.pools import split

#: What just happened to the player: situation -> event tag lists that signal it.
SITUATIONS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "none": ((),),
    "low_health": (("hurt", "low_health"), ("low_health",), ("hit", "hurt", "low_health")),
    "won": (("kill",), ("hit", "kill"), ("kill", "win"), ("win",)),
    "lost": (("death",), ("loss",), ("hurt", "death"), ("death", "loss")),
    "rich": (("pickup_coin", "rich"), ("rich",)),
    "idle_long": (("idle_long",),),
    "hurt": (("hurt",), ("hit", "hurt")),
    "healed": (("pickup_health",), ("hurt", "pickup_health")),
    "timeout": (("timeout",),),
}
SITUATION_WEIGHTS: Final = {"none": 4.0, **{s: 1.0 for s in SITUATIONS if s != "none"}}
_WORD: Final = re.compile(r"[A-Za-z][A-Za-z']+")

#: Intents and how often each is drawn.
INTENT_WEIGHTS: Final[dict[str, float]] = {
    "fact": 3.2,
    "topic": 1.2,
    "state": 1.0,
    "abstain": 1.8,
    "greeting": 0.5,
    "farewell": 0.3,
    "thanks": 0.3,
    "smalltalk": 0.4,
    "identity": 0.5,
    "insult": 0.3,
    "compliment": 0.3,
    "status": 0.6,
    "request": 0.3,
    "offscript": 0.2,
    "silence": 0.5,
    "lore": 0.3,
    "advice": 0.2,
}
#: Open questions no card field answers: the NPC declines them (lore: does not know; advice:
#: cannot help) rather than invent.
DECLINED_INTENTS: Final = {"lore": ("reply", "abstain"), "advice": ("reply", "request")}
#: Chit-chat intents: the reply comes from the voice bank's ``[reply INTENT]``.
CHAT_INTENTS: Final = (
    "greeting",
    "farewell",
    "thanks",
    "smalltalk",
    "identity",
    "insult",
    "compliment",
    "request",
    "offscript",
    "silence",
)


@dataclass(frozen=True)
class CorpusConfig:
    """How the corpus is generated."""

    train_examples: int = 60_000
    """Training examples."""
    heldout_examples: int = 1_500
    """Held-out examples (evaluation only)."""
    examples_per_card: int = 4
    """Examples drawn per made-up card before a new card is drawn."""
    shipped_card_share: float = 0.1
    """Share of training examples about the shipped cards (``npcs.toml``)."""
    seed: int = 0
    """Seed of the generation."""
    p_history: float = 0.2
    """Probability of one earlier turn."""
    p_opener: float = 0.45
    """Probability that a stated fact opens with the voice's ``[answer opener]``."""
    p_closer: float = 0.2
    """Probability that it closes with ``[answer closer]``."""
    p_mood: float = 0.3
    """Probability that a chit-chat reply opens with a mood line."""
    p_situation: float = 0.6
    """Probability that a chit-chat reply remarks on the situation (when there is one)."""
    p_behaviour: float = 0.2
    """Probability that a chit-chat reply remarks on a known behaviour (always for ``status``)."""
    p_no_behaviour: float = 0.15
    """Probability that no behaviour is recognised yet (the prompt's behaviour is ``unknown``)."""
    p_generic_behaviour: float = 0.3
    """Probability that a known behaviour comes as the generic sentence for its label (a game
    that described none), not as a described one."""
    p_casual: float = 0.2
    """Probability that the player's line is lower-cased and loses its final punctuation."""


@dataclass(frozen=True)
class Example:
    """One corpus example and what it was made from (the evaluation reads the latter)."""

    prompt: str
    reply: str
    """The NPC's reply, without the end marker; a stated fact is its marker (``<|f1|>``)."""
    intent: str
    player_line: str
    card: dict[str, Any]
    """The card, as ``dataclasses.asdict`` of :class:`~gameai.protocol.messages.NpcCard`."""
    card_id: str
    """The shipped card's id, or ``generated``."""
    voice: str
    mood: str
    behaviour: str
    """The behaviour's label, ``unknown`` when none is recognised."""
    situation: str
    game_state: dict[str, Any] = field(default_factory=dict)
    kind: str = ""
    """``fact``/``abstain``: the fact kind asked about (``location``, ``price``...)."""
    value: str = ""
    """``fact``/``state``: what a right answer contains."""
    topic: str = ""
    """``abstain``: the subject asked about."""
    behaviour_text: str = ""
    """The prompt's sentence about the behaviour ("" when none is recognised)."""


class Banks:
    """The voice banks and the player bank, with the training or held-out lines of each."""

    def __init__(self, voices: dict[str, LineBank], player: LineBank, heldout: bool) -> None:
        if not voices:
            raise ValueError("no voice banks: expected voices/*.txt line banks")
        self.voices = voices
        self.player = player
        self.heldout = heldout
        self.speech = {
            name: tuple(bank.get("speech", "heldout" if heldout else "train"))
            or tuple(bank.get("speech", "train"))
            for name, bank in voices.items()
        }
        missing = [name for name, texts in self.speech.items() if not texts]
        if missing:
            raise ValueError(f"voice banks without [speech train] lines: {missing}")

    def voice_of(self, speech: str) -> str:
        """The voice whose speech texts hold ``speech`` (case-insensitive), else ``calm`` or the first."""
        wanted = speech.strip().lower()
        for name, bank in self.voices.items():
            if any(wanted == s.lower() for s in bank.get("speech", "train") + bank.get("speech", "heldout")):
                return name
        return "calm" if "calm" in self.voices else sorted(self.voices)[0]

    def player_line(self, intent: str, rng: np.random.Generator) -> str:
        lines = split(tuple(self.player.get("player", intent)), self.heldout) or tuple(
            self.player.get("player", intent)
        )
        return str(lines[int(rng.integers(len(lines)))]) if lines else ""

    def line(self, voice: str, kind: str, key: str, rng: np.random.Generator, **slots: str) -> str:
        """A line of the voice's ``[kind key]`` with ``{name}``/``{role}``/``{topic}`` filled
        (lines with a slot not given are skipped); empty when there is none."""
        lines = [
            line
            for line in self.voices[voice].get(kind, key)
            if all(f"{{{s}}}" not in line or s in slots for s in ("name", "role", "topic"))
        ]
        if not lines:
            return ""
        text = lines[int(rng.integers(len(lines)))]
        for slot, value in slots.items():
            text = text.replace(f"{{{slot}}}", value)
        return text


def _weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array(list(weights.values()))
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _sentence_case(text: str) -> str:
    return text[:1].upper() + text[1:]


class ExampleWriter:
    """Builds examples for cards (see the module docstring)."""

    def __init__(self, banks: Banks, card_pools: CardPools, config: CorpusConfig) -> None:
        self.banks = banks
        self.pools = card_pools
        self.config = config

    def _casual(self, line: str, rng: np.random.Generator) -> str:
        return line.lower().rstrip(".!?") if line and rng.random() < self.config.p_casual else line

    def _behaviour(self, rng: np.random.Generator) -> tuple[str, str]:
        """A recognised behaviour: (label, the prompt's sentence about it), or (``unknown``, "")."""
        c = self.config
        if rng.random() < c.p_no_behaviour:
            return UNKNOWN, ""
        label, text = self.pools.behaviour_texts[int(rng.integers(len(self.pools.behaviour_texts)))]
        return label, generic_behaviour_text(label) if rng.random() < c.p_generic_behaviour else text

    def _stated(self, voice: str, marker: str, rng: np.random.Generator) -> str:
        """A reply stating the fact behind ``marker`` (the model names the marker; the service
        expands it into the sentence)."""
        c = self.config
        parts = [marker]
        if rng.random() < c.p_opener:
            parts.insert(0, self.banks.line(voice, "answer", "opener", rng))
        if rng.random() < c.p_closer:
            parts.append(self.banks.line(voice, "answer", "closer", rng))
        return " ".join(p for p in parts if p)

    def _chat_reply(
        self,
        voice: str,
        card: NpcCard,
        intent: str,
        mood: str | None,
        behaviour: str,
        situation: str,
        rng: np.random.Generator,
    ) -> str:
        c = self.config
        slots = {"name": card.name, "role": card.role} if card.name and card.role else {}
        if intent == "status":  # the behaviour's sentence, pointed at; "can't tell yet" without one
            if behaviour == UNKNOWN:
                return self.banks.line(voice, "behaviour", UNKNOWN, rng)
            return self._stated(voice, BEHAVIOUR_REF, rng)
        parts = [self.banks.line(voice, "reply", intent, rng, **slots)]
        if behaviour != UNKNOWN and rng.random() < c.p_behaviour:
            parts.append(BEHAVIOUR_REF)
        if situation != "none" and rng.random() < c.p_situation:
            first = intent in ("silence", "farewell") or rng.random() < 0.5
            parts.insert(0 if first else 1, self.banks.line(voice, "event", situation, rng))
        if mood and rng.random() < c.p_mood and len(parts) < 3:
            parts.insert(0, self.banks.line(voice, "mood", mood, rng))
        return " ".join(p for p in parts if p)

    def example(
        self, generated: GeneratedCard, card_id: str, rng: np.random.Generator, intent: str | None = None
    ) -> Example | None:
        """One example about ``generated`` (its intent drawn unless given); None when the
        drawn intent does not fit the card (no fact to ask about)."""
        card, voice = generated.card, generated.voice
        intent = intent or _weighted(rng, INTENT_WEIGHTS)
        situation = _weighted(rng, SITUATION_WEIGHTS)
        behaviour, behaviour_text = self._behaviour(rng)
        request_mood = MOODS[int(rng.integers(len(MOODS)))] if rng.random() < 0.4 else None
        state = game_state(self.pools, rng)
        events = list(SITUATIONS[situation][int(rng.integers(len(SITUATIONS[situation])))])
        kind = value = topic = answer = reply = ""
        if intent == "fact":
            facts = [f for f in generated.facts if f.kind != "sell" or card_id == "generated"]
            if not facts:
                return None
            fact: KnownFact = facts[int(rng.integers(len(facts)))]
            player = question_about(self.pools, fact, rng)
            kind, value = fact.kind, fact.value
            answer = fact.text
        elif intent == "topic":
            sentences = knowledge(card)
            if not sentences:
                return None
            sentence = sentences[int(rng.integers(len(sentences)))]
            content = [w for w in _WORD.findall(sentence) if len(w) > 3 and keywords(w) and not w.isdigit()]
            if not content:
                return None
            word = content[int(rng.integers(len(content)))]
            phrasings = self.pools.questions["topic"]
            player = phrasings[int(rng.integers(len(phrasings)))].format(s=word.lower(), S=word.capitalize())
            kind, value, answer = "topic", sentence.rstrip("."), sentence
        elif intent == "state":
            if not state or rng.random() < 0.15:
                state[
                    self.pools.state_keys[int(rng.integers(len(self.pools.state_keys)))].replace(" ", "_")
                ] = int(rng.integers(0, 300))
            askable = [k for k in state if k != "max_health"]
            key = askable[int(rng.integers(len(askable)))]
            asked = key.replace("_", " ")
            phrasings = self.pools.questions["state"]
            player = phrasings[int(rng.integers(len(phrasings)))].format(s=asked)
            sentence = next(s for s in state_sentences(state) if s.startswith(f"your {asked} is "))
            kind, value = "state", sentence.removeprefix(f"your {asked} is ").rstrip(".")
            answer = sentence
        elif intent == "abstain":
            missing = [k for k in ("work", "sell") if not any(f.kind == k for f in generated.facts)]
            if missing and rng.random() < 0.15:
                kind = missing[int(rng.integers(len(missing)))]
                phrasings = self.pools.questions[kind]
                player, topic = phrasings[int(rng.integers(len(phrasings)))], ""
            elif rng.random() < 0.2:
                asked_key = self.pools.state_keys[int(rng.integers(len(self.pools.state_keys)))]
                state.pop(asked_key.replace(" ", "_"), None)
                if asked_key == "health":
                    state.pop("max_health", None)
                phrasings = self.pools.questions["state"]
                player, kind, topic = (
                    phrasings[int(rng.integers(len(phrasings)))].format(s=asked_key),
                    "state",
                    f"your {asked_key}",
                )
            else:
                question = unanswerable_question(self.pools, generated, rng)
                if question is None:
                    return None
                player, kind, topic = question
            with_topic = rng.random() < 0.5 and kind != "state" and bool(topic)
            reply = self.banks.line(
                voice, "reply", "abstain", rng, **({"topic": topic} if with_topic else {})
            )
        elif intent in DECLINED_INTENTS:
            player = self.banks.player_line(intent, rng)
            reply = self.banks.line(voice, *DECLINED_INTENTS[intent], rng)
        else:
            player = "" if intent == "silence" else self.banks.player_line(intent, rng)
            mood = request_mood or card.mood
            reply = self._chat_reply(voice, card, intent, mood, behaviour, situation, rng)
        player = self._casual(player, rng)
        history: tuple[DialogueTurn, ...] = ()
        if rng.random() < self.config.p_history:
            earlier = "greeting" if rng.random() < 0.6 else "smalltalk"
            history = (
                DialogueTurn(
                    self.banks.player_line(earlier, rng), self.banks.line(voice, "reply", earlier, rng)
                ),
            )
        context = DialogueContext(
            npc_id=card_id,
            npc=card,
            player_line=player,
            behaviour=None if behaviour == UNKNOWN else behaviour,
            behaviour_text=behaviour_text or None,
            mood=request_mood,
            events=tuple(events),
            game_state=state,
            history=history,
        )
        prompt = format_prompt(context)
        if answer:
            shown = [clean_text(f, 160) for f in facts_in_prompt(prompt)]
            if clean_text(answer, 160) in shown:
                reply = self._stated(voice, FACTS[shown.index(clean_text(answer, 160))], rng)
            else:  # the prompt does not show the answer: the honest reply is not knowing
                intent, topic, value = "abstain", "", ""
                reply = self.banks.line(voice, "reply", "abstain", rng)
        return Example(
            prompt=prompt,
            reply=reply,
            intent=intent,
            player_line=player,
            card=asdict(card),
            card_id=card_id,
            voice=voice,
            mood=request_mood or card.mood or "unknown",
            behaviour=behaviour,
            situation=situation,
            game_state=state,
            kind=kind,
            behaviour_text=behaviour_text,
            value=value,
            topic=topic,
        )


def shipped_generated(cards: dict[str, NpcCard], banks: Banks) -> dict[str, GeneratedCard]:
    """The shipped cards as :class:`GeneratedCard` (their facts as text only: ``fact`` questions
    are not generated for them; their goals are ``work`` facts)."""
    out = {}
    for card_id, card in cards.items():
        work = tuple(
            KnownFact("work", "", g, s)
            for g, s in zip(card.goals, knowledge(NpcCard(name=card.name, goals=card.goals)), strict=False)
        )
        out[card_id] = GeneratedCard(card, banks.voice_of(card.speech), work)
    return out


def generate(
    voices: dict[str, LineBank], player: LineBank, shipped: dict[str, NpcCard], config: CorpusConfig
) -> tuple[list[Example], list[Example]]:
    """The training and held-out examples. Deterministic for a given config and files."""
    splits = []
    for heldout, count in ((False, config.train_examples), (True, config.heldout_examples)):
        banks = Banks(voices, player, heldout)
        writer = ExampleWriter(banks, CardPools(heldout), config)
        rng = np.random.default_rng([config.seed, 3, int(heldout)])
        shipped_cards = shipped_generated(shipped, banks) if not heldout else {}
        examples: list[Example] = []
        generated = None
        while len(examples) < count:
            if shipped_cards and rng.random() < config.shipped_card_share:
                card_id = sorted(shipped_cards)[int(rng.integers(len(shipped_cards)))]
                example = writer.example(shipped_cards[card_id], card_id, rng)
            else:
                if generated is None or rng.random() < 1 / config.examples_per_card:
                    generated = draw_card(CardPools(heldout), banks.speech, rng)
                example = writer.example(generated, "generated", rng)
            if example is not None and example.reply:
                examples.append(example)
        splits.append(examples)
    return splits[0], splits[1]


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    """Write rows as gzipped JSON lines (a fixed mtime, so the bytes are reproducible)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        for row in rows:
            gz.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Read rows written by :func:`write_jsonl`."""
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            yield json.loads(line)


def load_examples(path: Path) -> list[Example]:
    """Read examples written by :func:`build_corpus`."""
    return [Example(**row) for row in read_jsonl(path)]


def build_corpus(
    assets_dir: Path, train_dir: Path, heldout_dir: Path, config: CorpusConfig
) -> dict[str, Any]:
    """Generate the corpus: ``train.jsonl.gz`` into ``train_dir``, ``heldout.jsonl.gz`` and
    ``manifest.json`` into ``heldout_dir``.

    Args:
        assets_dir: Holds ``voices/``, ``lines/player.txt`` and ``npcs.toml``.
        train_dir: Where the (large, reproducible) training split goes.
        heldout_dir: Where the held-out split and the manifest go (shipped with the model).
        config: The generation config.

    Returns:
        The manifest: config, counts, shares of intents, file hashes.
    """
    voices = load_banks(assets_dir / "voices")
    player = load_banks(assets_dir / "lines")["player"]
    npcs_file = assets_dir / "npcs.toml"
    shipped = load_npc_cards(npcs_file) if npcs_file.exists() else {}
    train, heldout = generate(voices, player, shipped, config)
    write_jsonl(train_dir / "train.jsonl.gz", map(asdict, train))
    write_jsonl(heldout_dir / "heldout.jsonl.gz", map(asdict, heldout))
    train_replies = {e.reply for e in train}
    manifest = {
        "config": asdict(config),
        "end_token": END,
        "voices": sorted(voices),
        "shipped_cards": sorted(shipped),
        "train_examples": len(train),
        "heldout_examples": len(heldout),
        "train_intents": {i: sum(e.intent == i for e in train) for i in INTENT_WEIGHTS},
        "heldout_intents": {i: sum(e.intent == i for e in heldout) for i in INTENT_WEIGHTS},
        "train_distinct_replies": len(train_replies),
        "heldout_replies_seen_in_train": sum(e.reply in train_replies for e in heldout)
        / max(len(heldout), 1),
        "sha256": {
            "train.jsonl.gz": sha256_of(train_dir / "train.jsonl.gz"),
            "heldout.jsonl.gz": sha256_of(heldout_dir / "heldout.jsonl.gz"),
        },
    }
    (heldout_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
