"""The NPC corpus: the data files hold what the generator reads, the held-out split is honest,
facts are answered from the prompt, and a new data file is not silently ignored."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from gameai.dialogue.behaviour_text import load_behaviour_texts
from gameai.dialogue.npc_card import load_npc_cards
from gameai.dialogue.prompt import (
    BEHAVIOUR_REF,
    FACTS,
    MOODS,
    PLAYER,
    behaviour_in_prompt,
    expand_references,
    facts_in_prompt,
)
from gameai.model_files import sha256_of
from gameai.training.dialogue.corpus.generate import (
    CHAT_INTENTS,
    DECLINED_INTENTS,
    SITUATIONS,
    Banks,
    CorpusConfig,
    Example,
    build_corpus,
    generate,
    load_examples,
)
from gameai.training.dialogue.corpus.lines import LineBank, load_banks, parse_lines
from gameai.training.dialogue.corpus.pools import QUESTIONS, split
from gameai.training.dialogue.metrics import abstains

ASSETS = Path(__file__).parents[4] / "assets" / "dialogue"
SMALL = CorpusConfig(train_examples=600, heldout_examples=200)

#: The sections of a voice bank the generator reads: (kind, key) -> whether the generator
#: also reads it without ``{name}``/``{role}``/``{topic}`` filled (then it needs a line with no slot).
VOICE_SECTIONS: dict[tuple[str, str], bool] = {
    ("speech", "train"): False,
    ("speech", "heldout"): False,
    **{("reply", intent): intent in ("greeting", "smalltalk", "request") for intent in CHAT_INTENTS},
    ("reply", "abstain"): True,
    ("answer", "opener"): True,
    ("answer", "closer"): True,
    **{("mood", mood): True for mood in MOODS},
    ("behaviour", "unknown"): True,
    **{("event", situation): True for situation in SITUATIONS if situation != "none"},
}
SLOT = re.compile(r"\{(\w+)\}")


def _behaviour_texts(game: str) -> dict[str, str]:
    return load_behaviour_texts(ASSETS.parent / game / "npcs.toml")


def read_assets(assets: Path = ASSETS) -> tuple[dict[str, LineBank], LineBank, dict]:
    return (
        load_banks(assets / "voices"),
        load_banks(assets / "lines")["player"],
        load_npc_cards(assets / "npcs.toml"),
    )


@pytest.fixture(scope="module")
def corpus() -> tuple[list[Example], list[Example]]:
    return generate(*read_assets(), SMALL)


def test_parse_lines_sections_slots_and_errors() -> None:
    bank = parse_lines("# c\n[slot item]\naxe\n\n[reply greeting]\nHi, {item}.\n[player silence]\n", "x")
    assert bank.get("reply", "greeting") == ["Hi, {item}."]
    assert bank.get("player", "silence") == []
    assert bank.keys("reply") == ["greeting"]
    assert bank.fill("Hi, {item}.", np.random.default_rng(0)) == "Hi, axe."
    with pytest.raises(ValueError, match="before any"):
        parse_lines("orphan\n", "x")
    with pytest.raises(ValueError, match="bad section"):
        parse_lines("[just one]word\n", "x")


def test_every_voice_bank_has_the_sections_the_generator_reads() -> None:
    voices = load_banks(ASSETS / "voices")
    assert len(voices) >= 8
    for name, bank in voices.items():
        for (kind, key), read_without_slots in VOICE_SECTIONS.items():
            lines = bank.get(kind, key)
            assert lines, f"{name}.txt has no [{kind} {key}]"
            if read_without_slots:
                assert any(not SLOT.search(line) for line in lines), f"{name}.txt [{kind} {key}]"
        abstain = bank.get("reply", "abstain")
        assert any("{topic}" in line for line in abstain), f"{name}.txt: no [reply abstain] about a {{topic}}"
        for (kind, key), lines in bank.sections.items():
            for line in lines:
                assert not re.search(r"\d", line), f"{name}.txt [{kind} {key}] {line!r}: a digit"
                assert set(SLOT.findall(line)) <= {"name", "role", "topic"}, (name, kind, key, line)


def test_speech_texts_are_split_and_shipped_cards_speak_a_voice() -> None:
    voices, player, shipped = read_assets()
    train = {s.lower() for bank in voices.values() for s in bank.get("speech", "train")}
    heldout = {s.lower() for bank in voices.values() for s in bank.get("speech", "heldout")}
    assert heldout and not train & heldout
    banks = Banks(voices, player, heldout=False)
    for card_id, card in shipped.items():
        voice = banks.voice_of(card.speech)
        assert card.speech in voices[voice].get("speech", "train"), (card_id, card.speech)


def test_player_bank_has_a_heldout_part_for_every_intent_it_is_asked_for() -> None:
    player = load_banks(ASSETS / "lines")["player"]
    for intent in [*CHAT_INTENTS, *DECLINED_INTENTS]:
        if intent == "silence":
            continue
        lines = tuple(player.get("player", intent))
        # Fewer than five lines leave no held-out part: the held-out split would reuse training lines.
        assert split(lines, heldout=True), f"[player {intent}] has {len(lines)} lines, needs 5+"


def _template(example: Example) -> str:
    """The question phrasing (``Where is {s}?``) a fact or abstain question was made from."""
    line = example.player_line.rstrip(".!?").lower()
    matches = []
    for template in QUESTIONS[example.kind]:
        pattern = re.escape(template.rstrip(".!?").lower())
        for slot in ("s", "v", "p"):
            pattern = pattern.replace(re.escape("{" + slot + "}"), ".+")
        if re.fullmatch(pattern, line):
            matches.append(template)
    assert matches, (example.kind, example.player_line)
    return max(matches, key=len)  # "Who do you think {s}?" over "Who {s}?"


def test_heldout_split_shares_no_name_role_speech_phrasing_or_player_line(
    corpus: tuple[list[Example], list[Example]],
) -> None:
    train, heldout = corpus
    assert len(train) == SMALL.train_examples and len(heldout) == SMALL.heldout_examples
    generated = [e for e in train if e.card_id == "generated"]
    for field in ("name", "role", "speech"):
        seen = {e.card[field] for e in train}
        new = {e.card[field] for e in heldout}
        assert new and not seen & new, field
        assert len({e.card[field] for e in generated}) > 3, field
    asked = ("fact", "abstain")
    train_templates = {(e.kind, _template(e)) for e in train if e.intent in asked and e.kind in QUESTIONS}
    heldout_templates = {(e.kind, _template(e)) for e in heldout if e.intent in asked and e.kind in QUESTIONS}
    assert heldout_templates and not train_templates & heldout_templates
    for kind, template in heldout_templates:
        assert template in split(QUESTIONS[kind], heldout=True)
    said = lambda examples: {  # noqa: E731
        e.player_line.lower().rstrip(".!?") for e in examples if e.intent not in (*asked, "state")
    }
    assert said(heldout) and not (said(heldout) - {""}) & said(train)


def test_how_am_i_doing_points_at_the_behaviour_sentence_of_the_prompt(
    corpus: tuple[list[Example], list[Example]],
) -> None:
    train, heldout = corpus
    for examples in (train, heldout):
        status = [e for e in examples if e.intent == "status"]
        known = [e for e in status if e.behaviour != "unknown"]
        assert known and any(e.behaviour == "unknown" for e in examples)  # some with none recognised yet
        for e in examples:
            assert behaviour_in_prompt(e.prompt) == e.behaviour_text
            assert (BEHAVIOUR_REF in e.reply) <= bool(e.behaviour_text), e  # never pointing at nothing
        assert all(BEHAVIOUR_REF in e.reply for e in known)
        assert not any(BEHAVIOUR_REF in e.reply for e in examples if e.behaviour == "unknown")
        remarks = [e for e in examples if e.intent in CHAT_INTENTS and BEHAVIOUR_REF in e.reply]
        assert remarks, "chit-chat remarks on the behaviour too"
    sentences = lambda examples: {e.behaviour_text for e in examples if e.behaviour_text}  # noqa: E731
    assert sentences(heldout) and not sentences(heldout) & sentences(train)
    shipped = {text for game in ("dialogue", "platformer") for text in _behaviour_texts(game).values()}
    assert not shipped & (sentences(train) | sentences(heldout)), "the games' sentences stay apart"


def test_facts_and_state_are_answered_from_the_prompt(corpus: tuple[list[Example], list[Example]]) -> None:
    train, heldout = corpus
    answered = [e for e in train + heldout if e.intent in ("fact", "state", "topic")]
    assert {e.kind for e in answered} >= {
        "location",
        "price",
        "who",
        "when",
        "count",
        "name",
        "work",
        "state",
        "topic",
    }
    missing = [(e.kind, e.player_line, e.value) for e in answered if e.value not in e.prompt]
    assert not missing, f"{len(missing)} answers not in the prompt, e.g. {missing[:3]}"
    for e in answered:
        assert any(marker in e.reply for marker in FACTS), e.reply  # the model points, never retypes
        stated = expand_references(e.reply, facts_in_prompt(e.prompt))
        assert e.value and e.value.lower() in stated.lower(), (e.value, stated)
        assert not abstains(stated), stated
    chat = [e for e in train if e.intent not in ("fact", "state", "topic")]
    assert not any(marker in e.reply for e in chat for marker in FACTS)


def test_abstain_replies_say_so_about_what_the_card_does_not_hold(
    corpus: tuple[list[Example], list[Example]],
) -> None:
    train, heldout = corpus
    unanswerable = [e for e in train + heldout if e.intent == "abstain"]
    assert len(unanswerable) > 50
    for e in unanswerable:
        assert abstains(e.reply), e.reply
        assert not e.value
        if e.topic and e.kind != "state":
            known = " ".join([*e.card["facts"], e.card["description"]]).lower()
            assert e.topic.lower() not in known, (e.topic, known)
        if e.kind == "work":
            assert not e.card["goals"], e.card
        if e.kind == "sell":
            assert not any("I sell " in text for text in [*e.card["facts"], e.card["description"]])
        if e.kind == "state":
            asked = e.topic.removeprefix("your ")
            assert asked.replace(" ", "_") not in e.game_state
            assert f"your {asked} is " not in e.prompt.split(PLAYER)[0]
    for e in train + heldout:
        if e.intent == "lore":
            assert abstains(e.reply), e.reply


def test_shipped_cards_are_trained_on_and_never_held_out(corpus: tuple[list[Example], list[Example]]) -> None:
    train, heldout = corpus
    shipped = load_npc_cards(ASSETS / "npcs.toml")
    assert shipped
    assert {e.card_id for e in train} == {*shipped, "generated"}
    assert {e.card_id for e in heldout} == {"generated"}
    names = {card.name for card in shipped.values()}
    assert not names & {e.card["name"] for e in heldout}
    for e in train:
        if e.card_id != "generated":
            assert f"<|name|>{shipped[e.card_id].name}<|role|>" in e.prompt


def test_generate_is_deterministic_for_a_seed(corpus: tuple[list[Example], list[Example]]) -> None:
    small = CorpusConfig(train_examples=100, heldout_examples=40)
    first = generate(*read_assets(), small)
    assert first == generate(*read_assets(), small)
    other = generate(*read_assets(), CorpusConfig(train_examples=100, heldout_examples=40, seed=1))
    assert [e.prompt for e in first[0]] != [e.prompt for e in other[0]]
    # The first examples of a larger run are the same: the size only says where to stop.
    assert first[0] == corpus[0][:100]


def test_build_corpus_writes_the_files_with_the_manifest_hashes(tmp_path: Path) -> None:
    config = CorpusConfig(train_examples=120, heldout_examples=40)
    manifest = build_corpus(ASSETS, tmp_path / "work", tmp_path / "shipped", config)
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["train.jsonl.gz"]
    assert sorted(p.name for p in (tmp_path / "shipped").iterdir()) == ["heldout.jsonl.gz", "manifest.json"]
    assert json.loads((tmp_path / "shipped" / "manifest.json").read_text()) == manifest
    assert manifest["sha256"] == {
        "train.jsonl.gz": sha256_of(tmp_path / "work" / "train.jsonl.gz"),
        "heldout.jsonl.gz": sha256_of(tmp_path / "shipped" / "heldout.jsonl.gz"),
    }
    assert manifest["train_examples"] == len(load_examples(tmp_path / "work" / "train.jsonl.gz")) == 120
    assert manifest["heldout_examples"] == len(load_examples(tmp_path / "shipped" / "heldout.jsonl.gz")) == 40
    assert manifest["voices"] == sorted(p.stem for p in (ASSETS / "voices").glob("*.txt"))
    assert manifest["shipped_cards"] == sorted(load_npc_cards(ASSETS / "npcs.toml"))
    again = build_corpus(ASSETS, tmp_path / "work2", tmp_path / "shipped2", config)
    assert again["sha256"] == manifest["sha256"]  # reproducible bytes


def test_a_new_voice_file_is_spoken(tmp_path: Path) -> None:
    assets = tmp_path / "assets"
    shutil.copytree(ASSETS / "voices", assets / "voices")
    (assets / "lines").mkdir()
    shutil.copy(ASSETS / "lines" / "player.txt", assets / "lines" / "player.txt")
    shutil.copy(ASSETS / "npcs.toml", assets / "npcs.toml")
    calm = (ASSETS / "voices" / "calm.txt").read_text()
    new_speech = "[speech train]\nwhispers every word\nhushed and secretive\n\n"
    new_speech += "[speech heldout]\nbarely audible murmurs\n\n"
    rest = "[mood cheerful]" + calm.split("[mood cheerful]", 1)[1]  # calm's lines, a new name and speech
    (assets / "voices" / "whisper.txt").write_text(new_speech + rest)

    manifest = build_corpus(assets, tmp_path / "work", tmp_path / "shipped", SMALL)
    assert manifest["voices"] == sorted([*(p.stem for p in (ASSETS / "voices").glob("*.txt")), "whisper"])
    train = load_examples(tmp_path / "work" / "train.jsonl.gz")
    heldout = load_examples(tmp_path / "shipped" / "heldout.jsonl.gz")
    spoken = [e for e in train if e.voice == "whisper"]
    assert spoken and {e.card["speech"] for e in spoken} <= {"whispers every word", "hushed and secretive"}
    assert any(e.voice == "whisper" and e.card["speech"] == "barely audible murmurs" for e in heldout)
