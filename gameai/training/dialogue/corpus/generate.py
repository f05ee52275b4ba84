"""Expand the written line banks into (prompt, reply) examples.

A *condition combination* is (persona, mood, behaviour, situation). Every combination
gets ``examples_per_combo`` examples that vary the player's intent and line, the event
tags that signal the situation, the reply's parts and their order, and sometimes an
earlier turn. A reply is built from up to three written parts of the persona's bank::

    [mood opener] [situation remark] <answer to the player's intent> [behaviour remark]

(the situation remark may also follow the answer). Asking "how am I doing?" (intent
``status``) always gets a behaviour remark. The held-out split is a random set of whole
combinations, so the model never sees those four values together in training.
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from gameai.dialogue.prompt import END, MOODS, UNKNOWN, format_fields
from gameai.model_files import sha256_of
from gameai.training.dialogue.corpus.lines import LineBank, load_banks
from gameai.vocabulary import BEHAVIOURS, PERSONAS

#: What just happened to the player, as the corpus groups it: situation -> event tag lists
#: that signal it (chosen at random per example). ``none`` has no events.
SITUATIONS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "none": ((),),
    "low_health": (("hurt", "low_health"), ("low_health",), ("hit", "hurt", "low_health")),
    "won": (("kill",), ("hit", "kill"), ("kill", "win"), ("win",)),
    "lost": (("death",), ("loss",), ("hurt", "death"), ("death", "loss")),
    "rich": (("pickup_coin", "rich"), ("rich",), ("kill", "pickup_coin", "rich")),
    "idle_long": (("idle_long",),),
    "hurt": (("hurt",), ("hit", "hurt")),
    "healed": (("pickup_health",), ("hurt", "pickup_health")),
    "timeout": (("timeout",),),
}
#: Events that carry no situation; sprinkled in front so the model learns to ignore them.
DISTRACTOR_EVENTS: Final = ("fire", "dash", "talk")

#: Player intents and how often each is drawn.
INTENT_WEIGHTS: Final[dict[str, float]] = {
    "greeting": 1.2,
    "farewell": 0.6,
    "thanks": 0.6,
    "smalltalk": 0.9,
    "identity": 0.8,
    "advice": 1.0,
    "lore": 0.9,
    "insult": 0.8,
    "compliment": 0.6,
    "request": 1.4,
    "status": 1.0,
    "offscript": 0.7,
    "silence": 0.8,
}

#: Behaviour values of a combination: the recognised ones plus "not recognised yet".
BEHAVIOUR_VALUES: Final[tuple[str, ...]] = (*BEHAVIOURS, UNKNOWN)


@dataclass(frozen=True)
class CorpusConfig:
    """How the corpus is expanded and split."""

    examples_per_combo: int = 16
    """Examples generated for each (persona, mood, behaviour, situation) combination."""
    heldout_fraction: float = 0.08
    """Share of whole combinations kept out of training."""
    seed: int = 0
    """Seed of the expansion and the split."""
    p_mood: float = 0.45
    """Probability that a reply opens with a mood line."""
    p_situation: float = 0.85
    """Probability that a reply remarks on the situation (when there is one)."""
    p_behaviour: float = 0.65
    """Probability that a reply remarks on a known behaviour (always for intent ``status``)."""
    p_history: float = 0.25
    """Probability that an example carries one earlier turn."""
    p_distractor: float = 0.3
    """Probability of an unrelated event tag in front of the situation's tags."""
    p_casual: float = 0.2
    """Probability that the player's line is lower-cased and loses its final punctuation."""


@dataclass(frozen=True)
class Example:
    """One corpus example: the prompt, the reply and the conditions it was made from."""

    prompt: str
    reply: str
    """The NPC's reply, without the end marker."""
    persona: str
    mood: str
    behaviour: str
    situation: str
    intent: str
    parts: tuple[str, ...]
    """Which parts the reply holds, in order: ``mood``, ``situation``, ``answer``, ``behaviour``."""

    @property
    def combo(self) -> str:
        """The condition combination, ``persona/mood/behaviour/situation``."""
        return combo_key(self.persona, self.mood, self.behaviour, self.situation)


def combo_key(persona: str, mood: str, behaviour: str, situation: str) -> str:
    """The ``persona/mood/behaviour/situation`` key of a condition combination."""
    return f"{persona}/{mood}/{behaviour}/{situation}"


def all_combos() -> list[tuple[str, str, str, str]]:
    """Every condition combination, in a fixed order."""
    return list(itertools.product(PERSONAS, MOODS, BEHAVIOUR_VALUES, SITUATIONS))


def split_combos(fraction: float, seed: int) -> tuple[set[str], set[str]]:
    """Draw the held-out combinations.

    Returns:
        ``(train keys, held-out keys)``, disjoint and covering :func:`all_combos`.
    """
    keys = [combo_key(*c) for c in all_combos()]
    rng = np.random.default_rng([seed, 1])
    n_heldout = round(len(keys) * fraction)
    heldout = {keys[i] for i in rng.permutation(len(keys))[:n_heldout]}
    return set(keys) - heldout, heldout


def _choice(rng: np.random.Generator, items: list[str] | tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


class ExampleWriter:
    """Builds examples from the line banks (``banks["player"]`` and one bank per persona)."""

    def __init__(self, banks: dict[str, LineBank], config: CorpusConfig) -> None:
        missing = [p for p in ("player", *PERSONAS) if p not in banks]
        if missing:
            raise ValueError(f"line banks missing: {missing}")
        self.banks = banks
        self.config = config
        self._intents = list(INTENT_WEIGHTS)
        weights = np.array(list(INTENT_WEIGHTS.values()))
        self._intent_p = weights / weights.sum()

    def player_line(self, persona: str, intent: str, rng: np.random.Generator) -> str:
        """A player line of ``intent``; persona-specific lines first for requests."""
        bank = self.banks[persona]
        lines = bank.get("player", intent) + self.banks["player"].get("player", intent)
        if not lines:
            return ""
        line = bank.fill(_choice(rng, lines), rng)
        if rng.random() < self.config.p_casual:
            line = line.lower().rstrip(".!?")
        return line

    def part(self, persona: str, kind: str, key: str, rng: np.random.Generator) -> str:
        """One written part of the persona's bank with its slots filled."""
        bank = self.banks[persona]
        return bank.fill(_choice(rng, bank.get(kind, key)), rng)

    def reply(
        self, persona: str, mood: str, behaviour: str, situation: str, intent: str, rng: np.random.Generator
    ) -> tuple[str, tuple[str, ...]]:
        """Compose a reply and name its parts (see the module docstring)."""
        c = self.config
        answer = self.part(persona, "reply", intent, rng)
        parts: list[tuple[str, str]] = [("answer", answer)]
        known = behaviour != UNKNOWN
        if intent == "status" or (known and rng.random() < c.p_behaviour):
            parts.append(("behaviour", self.part(persona, "behaviour", behaviour, rng)))
        if situation != "none" and rng.random() < c.p_situation:
            remark = ("situation", self.part(persona, "event", situation, rng))
            # Silence and farewells read best with the answer last; otherwise either order.
            first = intent in ("silence", "farewell") or rng.random() < 0.5
            parts.insert(0 if first else 1, remark)
        if rng.random() < c.p_mood and len(parts) < 3 and intent != "status":
            parts.insert(0, ("mood", self.part(persona, "mood", mood, rng)))
        return " ".join(text for _, text in parts), tuple(name for name, _ in parts)

    def events(self, situation: str, rng: np.random.Generator) -> list[str]:
        """Event tags that signal ``situation``, sometimes after an unrelated one."""
        options = SITUATIONS[situation]
        tags = list(options[int(rng.integers(len(options)))])
        if rng.random() < self.config.p_distractor:
            tags.insert(0, _choice(rng, DISTRACTOR_EVENTS))
        return tags

    def example(
        self, persona: str, mood: str, behaviour: str, situation: str, rng: np.random.Generator
    ) -> Example:
        """One example of the combination."""
        intent = self._intents[int(rng.choice(len(self._intents), p=self._intent_p))]
        history: list[tuple[str, str]] = []
        if rng.random() < self.config.p_history:
            earlier = "greeting" if rng.random() < 0.6 else _choice(rng, ("smalltalk", "identity", "lore"))
            history.append(
                (self.player_line(persona, earlier, rng), self.part(persona, "reply", earlier, rng))
            )
        player = self.player_line(persona, intent, rng)
        reply, parts = self.reply(persona, mood, behaviour, situation, intent, rng)
        prompt = format_fields(
            persona,
            mood,
            behaviour if behaviour != UNKNOWN else None,
            self.events(situation, rng),
            player,
            history,
        )
        return Example(prompt, reply, persona, mood, behaviour, situation, intent, parts)


def generate(banks: dict[str, LineBank], config: CorpusConfig) -> tuple[list[Example], list[Example]]:
    """Expand the banks into the training and held-out examples.

    Duplicate (prompt, reply) pairs are dropped. Deterministic for a given config.
    """
    writer = ExampleWriter(banks, config)
    _, heldout_keys = split_combos(config.heldout_fraction, config.seed)
    train: list[Example] = []
    heldout: list[Example] = []
    seen: set[tuple[str, str]] = set()
    for index, (persona, mood, behaviour, situation) in enumerate(all_combos()):
        rng = np.random.default_rng([config.seed, 2, index])
        target = heldout if combo_key(persona, mood, behaviour, situation) in heldout_keys else train
        for _ in range(config.examples_per_combo):
            example = writer.example(persona, mood, behaviour, situation, rng)
            if (example.prompt, example.reply) not in seen:
                seen.add((example.prompt, example.reply))
                target.append(example)
    return train, heldout


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


def example_row(example: Example) -> dict[str, Any]:
    """An example as a JSON row (``reply`` without the end marker)."""
    return asdict(example)


def load_examples(path: Path) -> list[Example]:
    """Read examples written by :func:`build_corpus`."""
    return [Example(**{**row, "parts": tuple(row["parts"])}) for row in read_jsonl(path)]


def build_corpus(lines_dir: Path, out_dir: Path, config: CorpusConfig) -> dict[str, Any]:
    """Generate the corpus into ``out_dir`` (``train.jsonl.gz``, ``heldout.jsonl.gz``, ``manifest.json``).

    Returns:
        The manifest: config, counts, held-out combinations and file hashes.
    """
    train, heldout = generate(load_banks(lines_dir), config)
    write_jsonl(out_dir / "train.jsonl.gz", map(example_row, train))
    write_jsonl(out_dir / "heldout.jsonl.gz", map(example_row, heldout))
    replies = {e.reply for e in train}
    manifest = {
        "config": asdict(config),
        "end_token": END,
        "train_examples": len(train),
        "heldout_examples": len(heldout),
        "train_distinct_replies": len(replies),
        "heldout_replies_seen_in_train": sum(e.reply in replies for e in heldout) / max(len(heldout), 1),
        "heldout_combos": sorted({e.combo for e in heldout}),
        "sha256": {name: sha256_of(out_dir / name) for name in ("train.jsonl.gz", "heldout.jsonl.gz")},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest
