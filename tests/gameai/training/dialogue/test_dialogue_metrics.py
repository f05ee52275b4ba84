"""Eval metrics computed on known inputs."""

import pytest

from gameai.training.dialogue.metrics import (
    NaiveBayesClassifier,
    copy_rate,
    distinct_n,
    is_well_formed,
    ngram_features,
    normalise,
)


def test_distinct_n_counts_unique_over_all() -> None:
    # "a b a b": unigrams a,b,a,b -> 2/4; bigrams ab, ba, ab -> 2/3.
    assert distinct_n(["a b a b"], 1) == pytest.approx(0.5)
    assert distinct_n(["a b a b"], 2) == pytest.approx(2 / 3)
    # Across replies: "x y" and "x z" -> unigrams x,y,x,z -> 3/4; bigrams xy, xz -> 1.
    assert distinct_n(["x y", "x z"], 1) == pytest.approx(0.75)
    assert distinct_n(["x y", "x z"], 2) == pytest.approx(1.0)
    assert distinct_n([], 2) == 0.0
    assert distinct_n(["Hi. Hi!"], 1) == pytest.approx(3 / 4)  # hi . hi !


def test_copy_rate_normalises_case_and_spaces() -> None:
    training = ["Hello there.", "Mind the sparks."]
    assert (
        copy_rate(["hello  THERE.", "Something new.", "Mind the sparks.", "Mind the sparks"], training) == 0.5
    )
    assert copy_rate([], training) == 0.0
    assert normalise("  A  b\n") == "a b"


@pytest.mark.parametrize(
    ("reply", "ended", "expected"),
    [
        ("Welcome to my forge, traveller.", True, True),
        ('"Careful," she said. "The road is long!"', True, True),
        ("Is that all?", True, True),
        ("Welcome to my forge, traveller.", False, False),  # cut at the token limit
        ("", True, False),
        ("welcome to my forge.", True, False),  # no capital
        ("Welcome to my forge", True, False),  # no end punctuation
        ("Welcome <|npc|> forge.", True, False),  # marker leak
        ("No no no, not that.", True, False),  # stutter
        ("Left, right, swing. Left, right, swing.", True, True),  # repetition is not stutter
    ],
)
def test_is_well_formed(reply: str, ended: bool, expected: bool) -> None:
    assert is_well_formed(reply, ended) is expected


def test_ngram_features_are_words_and_bigrams() -> None:
    assert ngram_features("Hot iron, hot!") == ["hot", "iron", "hot", "hot iron", "iron hot"]


def test_naive_bayes_learns_and_predicts_known_labels() -> None:
    texts = [
        "the forge is hot",
        "sharp steel blade",
        "anvil and hammer",
        "herbs and tea",
        "a warm salve",
        "rest and tea",
    ]
    labels = ["smith", "smith", "smith", "healer", "healer", "healer"]
    classifier = NaiveBayesClassifier().fit(texts, labels)
    assert classifier.labels == ["healer", "smith"]
    assert classifier.predict("my blade needs the hammer") == "smith"
    assert classifier.predict("some tea for the pain") == "healer"
    assert classifier.accuracy(texts, labels) == 1.0
    assert classifier.accuracy(["hammer", "tea"], ["healer", "smith"]) == 0.0
    with pytest.raises(ValueError):
        NaiveBayesClassifier().fit(["a"], [])


def test_naive_bayes_prior_decides_unseen_text() -> None:
    classifier = NaiveBayesClassifier().fit(["a", "b", "c"], ["x", "x", "y"])
    assert classifier.predict("never seen words") == "x"
