"""Text metrics of generated replies: diversity, copying, well-formedness, condition adherence.

Pure Python on strings, so each is checked on known inputs in the tests:

- :func:`distinct_n`: unique n-grams / all n-grams over a set of replies (word level).
- :func:`copy_rate`: share of replies that equal a training reply (after :func:`normalise`).
- :func:`is_well_formed`: ended by the model, starts and ends like a sentence, no marker
  leak, no stutter.
- :func:`made_of_lines`: a reply is written lines put together whole (not garbled).
- :class:`NaiveBayesClassifier`: a multinomial naive Bayes over word uni- and bigrams,
  trained on the corpus to tell which persona (or behaviour) a reply fits.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Final

_WORD = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
_SENTENCE_END = re.compile(r"[.!?…][\"')\]]*$")
_SENTENCE_START = re.compile(r"^[\"'(\[]*[A-Z0-9]")
_STUTTER = re.compile(r"\b(\w+)(?:\W+\1\b){2,}", re.IGNORECASE)


def words(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens."""
    return _WORD.findall(text.lower())


def normalise(text: str) -> str:
    """Lower case, single spaces: the form in which replies are compared for copying."""
    return " ".join(text.lower().split())


def distinct_n(replies: Iterable[str], n: int) -> float:
    """Distinct-n: unique word n-grams divided by all word n-grams (0 when there are none)."""
    grams: list[tuple[str, ...]] = []
    for reply in replies:
        tokens = words(reply)
        grams.extend(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return len(set(grams)) / len(grams) if grams else 0.0


def copy_rate(replies: Sequence[str], training_replies: Iterable[str]) -> float:
    """Share of ``replies`` that appear verbatim (normalised) among ``training_replies``."""
    if not replies:
        return 0.0
    seen = {normalise(r) for r in training_replies}
    return sum(normalise(r) in seen for r in replies) / len(replies)


def is_well_formed(reply: str, ended: bool = True) -> bool:
    """A reply a game can show as it is.

    Args:
        reply: The generated text, end marker removed.
        ended: Whether the model emitted the end marker (False: cut at the token limit).

    Returns:
        True when it ended, is non-empty, starts with a capital letter or digit (after
        any opening quote), ends with ``.``, ``!``, ``?`` or ``…`` (before any closing quote),
        holds no ``<|`` or ``|>`` marker text and repeats no word three times running.
    """
    text = reply.strip()
    return (
        ended
        and bool(text)
        and _SENTENCE_START.search(text) is not None
        and _SENTENCE_END.search(text) is not None
        and "<|" not in text
        and "|>" not in text
        and _STUTTER.search(text) is None
    )


def made_of_lines(reply: str, lines: Iterable[str]) -> bool:
    """Whether ``reply`` is one or more of ``lines``, each whole, separated by spaces (case and
    spacing aside; a ``{slot}`` of a line matches any words). A chit-chat reply of our corpus
    is made of its voice's lines, so a reply that is not has garbled or invented text."""
    parts = sorted({" ".join(line.lower().split()) for line in lines if line.strip()}, key=len, reverse=True)
    if not parts:
        return False
    one = "|".join(re.sub(r"\\\{\w+\\\}", ".+?", re.escape(part)) for part in parts)
    return re.fullmatch(f"(?:(?:{one}) ?)+", " ".join(reply.lower().split())) is not None


def ngram_features(text: str) -> list[str]:
    """Word unigrams and bigrams of ``text`` (punctuation dropped)."""
    tokens = [t for t in words(text) if t[0].isalnum()]
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


class NaiveBayesClassifier:
    """Multinomial naive Bayes with add-``alpha`` smoothing over :func:`ngram_features`."""

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = alpha
        self.labels: list[str] = []
        self._log_prior: dict[str, float] = {}
        self._log_likelihood: dict[str, dict[str, float]] = {}
        self._log_unseen: dict[str, float] = {}
        self._vocabulary: set[str] = set()

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> NaiveBayesClassifier:
        """Count features per label; returns self.

        Raises:
            ValueError: If ``texts`` and ``labels`` differ in length or are empty.
        """
        if len(texts) != len(labels) or not texts:
            raise ValueError("need as many labels as texts, and at least one")
        counts: dict[str, Counter[str]] = {}
        for text, label in zip(texts, labels, strict=True):
            counts.setdefault(label, Counter()).update(ngram_features(text))
        vocabulary: set[str] = set().union(*counts.values())
        self._vocabulary = vocabulary
        label_totals = Counter(labels)
        self.labels = sorted(counts)
        for label in self.labels:
            total = sum(counts[label].values()) + self.alpha * (len(vocabulary) + 1)
            self._log_prior[label] = math.log(label_totals[label] / len(labels))
            self._log_likelihood[label] = {
                f: math.log((c + self.alpha) / total) for f, c in counts[label].items()
            }
            self._log_unseen[label] = math.log(self.alpha / total)
        return self

    def scores(self, text: str) -> dict[str, float]:
        """Log posterior (up to a constant) of each label; features never seen in training are ignored."""
        features = [f for f in ngram_features(text) if f in self._vocabulary]
        return {
            label: self._log_prior[label]
            + sum(self._log_likelihood[label].get(f, self._log_unseen[label]) for f in features)
            for label in self.labels
        }

    def predict(self, text: str) -> str:
        """The most likely label of ``text``."""
        scores = self.scores(text)
        return max(self.labels, key=scores.__getitem__)

    def accuracy(self, texts: Sequence[str], labels: Sequence[str]) -> float:
        """Share of ``texts`` predicted as their label."""
        if not texts:
            return 0.0
        return sum(self.predict(t) == y for t, y in zip(texts, labels, strict=True)) / len(texts)


#: "I don't know" in its many forms (written apart from the voice banks, for any model's replies).
ABSTAIN: Final = re.compile(
    r"\b(?:"
    r"(?:do not|don't|dont|doesn't|didn't|do n't) (?:know|recall|remember|have (?:that|an answer|any idea))"
    r"|no idea|not sure|never heard|no clue|can(?:'t|not|not) (?:say|tell|help|answer)|couldn't (?:say|tell)"
    r"|beats me|haven't heard|not aware|unknown to me|no (?:record|data|information|answer)|i wish i knew"
    r"|not something i know|ask (?:someone|somebody) else|out of my (?:depth|knowledge)|insufficient"
    r"|unable to (?:say|answer|tell|help)|nothing (?:about|on) (?:that|it)|wouldn't know|not in my"
    r"|know nothing|know nothin(?=')|(?:not|haven't) a clue|mystery to me|(?:beyond|outside) my knowledge"
    r"|no knowledge|no records|no matching data|no results|not found|answer unknown|bother knowing"
    r")\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?\b")
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]+\b")
_OPENER = re.compile(r"(?:^|(?<=[.!?]\s))[\"'(]*([A-Z][a-z]+)\b")


def abstains(reply: str) -> bool:
    """Whether the reply says, in some form, that the speaker does not know (:data:`ABSTAIN`)."""
    return ABSTAIN.search(reply) is not None


def invented(reply: str, sources: str, ordinary: frozenset[str] = frozenset()) -> list[str]:
    """Names and numbers in ``reply`` that ``sources`` (the card, the game state, the player's
    line and the earlier turns, as one text) does not hold.

    Counted: every number, and every capitalised word that does not open a sentence (a name or
    a place), compared case-insensitively with the words of ``sources``; "I" is not counted. A
    capitalised word that opens a sentence is counted too when it is in neither ``sources`` nor
    ``ordinary`` (lower-case words that are not names, e.g. every word of the voice banks and
    player lines); with no ``ordinary`` words, sentence openers are not counted.
    """
    known = set(words(sources)) | {n.replace(",", "") for n in _NUMBER.findall(sources)}
    text = reply.strip()
    found = [n for n in _NUMBER.findall(text) if n not in known and n.replace(",", "") not in known]
    found += [w for w in _CAPITALISED.findall(text) if w.lower() not in known and w != "I"]
    if ordinary:
        openers = _OPENER.findall(text)
        found += [w for w in openers if w.lower() not in known and w.lower() not in ordinary and w != "I"]
    return found
