"""Eval metrics computed on known inputs."""

import pytest

from gameai.training.dialogue.metrics import (
    NaiveBayesClassifier,
    abstains,
    copy_rate,
    distinct_n,
    invented,
    is_well_formed,
    made_of_lines,
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


@pytest.mark.parametrize(
    "reply",
    [
        "I don't know.",
        "Honestly, I have no idea.",
        "Never heard of the old mine.",
        "Can't say. Ask someone else.",
        "I'm afraid I do not know.",
        "Not a clue, and that's that.",
        "That is beyond my knowledge, I'm afraid.",
        "No records on the silent lair. Answer unknown.",
        "Blimey, I know nothin' of the sunken vault.",
        "Gosh, that's a mystery to me too!",
        "Insufficient data. Unable to answer that.",
    ],
)
def test_abstains_finds_i_do_not_know_in_its_forms(reply: str) -> None:
    assert abstains(reply)
    assert abstains(reply.upper())


@pytest.mark.parametrize(
    "reply",
    [
        "The old mine is east of the village.",
        "A new shield costs 40 gold.",
        "I know the way. Follow the river north.",
        "Knowledge is power, friend.",
        "Hmph. You again.",
        "Nobody knows the forge like I do.",
        "",
    ],
)
def test_abstains_is_false_for_answers_and_chat(reply: str) -> None:
    assert not abstains(reply)


def test_invented_finds_made_up_names_and_numbers_only() -> None:
    sources = "Brann is the blacksmith. A new shield costs 40 gold. your score is 1,200. Where is Orlen?"
    assert invented("A new shield costs 40 gold, says Brann.", sources) == []
    assert invented("Your score is 1200, and Orlen is in the hills.", sources) == []
    assert invented("A new shield costs 45 gold.", sources) == ["45"]
    assert invented("Your health is 2.5 of 10.", "your health is 2.5 of 10.") == []
    assert invented("Your health is 2.6 of 10.", "your health is 2.5 of 10.") == ["2.6"]
    assert invented("Ask Captain Velmar about it.", sources) == ["Captain", "Velmar"]
    assert invented("Ask brann. Velmar knows more.", sources) == []  # sentence start: not counted
    assert invented("Shields are cheap. Swords are not! Maybe ask me later? Sure.", sources) == []
    assert invented("I sold 3 swords to Quinra.", sources) == ["3", "Quinra"]
    assert invented("", sources) == []


def test_made_of_lines_takes_whole_lines_in_any_order_and_nothing_else() -> None:
    lines = ["Hmph. Ask someone else.", "Hello, {name}.", "Aye."]
    assert made_of_lines("Hmph. Ask someone else.", lines)
    assert made_of_lines("aye.  HMPH. ask someone else.", lines)  # order, case and spaces aside
    assert made_of_lines("Hello, Brann the smith. Aye.", lines)  # a slot matches any words
    assert not made_of_lines("Hmph. Ask someone.", lines)  # a line cut short
    assert not made_of_lines("Aye. I'm Ithven.", lines)  # a line with made-up text after it
    assert not made_of_lines("", lines) and not made_of_lines("Aye.", [])
