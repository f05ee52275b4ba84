"""The shipped model in assets/dialogue/model: loads offline, answers from a card's facts, says
it does not know otherwise, deterministic.

Two kinds of cases: held-out examples of the corpus (cards, roles, subjects and question
phrasings the training split never holds), and questions written here, apart from the corpus
templates, to the demo's own cards (``assets/dialogue/npcs.toml``), whose text facts the corpus
never asks about.
"""

import json
import threading
from pathlib import Path

import pytest
import torch

from gameai.dialogue.behaviour_text import load_behaviour_texts
from gameai.dialogue.hf_backend import MODEL_CARD_FILE, HuggingFaceBackend
from gameai.dialogue.npc_card import load_npc_cards
from gameai.dialogue.prompt import END
from gameai.dialogue.types import DialogueContext, GenerationParams
from gameai.protocol.messages import NpcCard
from gameai.training.dialogue.corpus.generate import Example, load_examples
from gameai.training.dialogue.evaluate import (
    card_figures,
    generate_reply,
    load_dialogue_model,
    stratified_sample,
)
from gameai.training.dialogue.metrics import abstains, is_well_formed

ASSETS = Path(__file__).parents[4] / "assets" / "dialogue"
MODEL = ASSETS / "model"

#: Questions to the demo's cards, written apart from the corpus: (card id, line, what the reply must hold).
DEMO_QUESTIONS = [
    ("blacksmith", "How long does a match go on for?", "one minute"),
    ("blacksmith", "How many hits does it take to beat an enemy?", "six"),
    ("healer", "How much health does a health pack give me?", "25"),
    ("healer", "What's the most health I can have?", "100"),
    ("scout", "Where do the enemies start?", "right"),
    ("scout", "What layouts does the arena have?", "pillars"),
    ("rival", "How many points is a coin worth?", "10"),
    ("rival", "What happens if time runs out?", "draw"),
]
#: Questions none of the demo's cards can answer.
DEMO_UNANSWERABLE = [
    ("blacksmith", "Where is the dragon's lair?"),
    ("healer", "Who killed the king?"),
    ("scout", "How much does a horse cost?"),
    ("rival", "When does the ferry leave?"),
]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="module")
def loaded() -> tuple[torch.nn.Module, object]:
    return load_dialogue_model(MODEL, torch.device("cpu"))


@pytest.fixture(scope="module")
def heldout() -> list[Example]:
    return load_examples(ASSETS / "corpus" / "heldout.jsonl.gz")


@pytest.fixture(scope="module")
def backend() -> HuggingFaceBackend:
    return HuggingFaceBackend.load(MODEL, device="cpu")


def reply_of(backend: HuggingFaceBackend, context: DialogueContext, seed: int = 0) -> str:
    params = GenerationParams(max_new_tokens=48, temperature=0.0, seed=seed)
    return "".join(backend.stream(context, params, threading.Event())).strip()


def test_shipped_files_are_transformers_format_half_precision_and_small() -> None:
    names = {p.name for p in MODEL.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", MODEL_CARD_FILE} <= names
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in names)
    card = json.loads((MODEL / MODEL_CARD_FILE).read_text())
    assert card["eos_token"] == END and card["weights_dtype"] == "float16"
    assert (MODEL / "model.safetensors").stat().st_size < 15_000_000


def test_heldout_cards_are_answered_from_their_facts(loaded: tuple, heldout: list[Example]) -> None:
    model, tokenizer = loaded
    sample = [
        e
        for e in stratified_sample(heldout, 160, seed=1)
        if e.intent in ("fact", "state", "topic", "abstain")
    ]
    replies = [
        generate_reply(model, tokenizer, e.prompt, seed=i, temperature=0.8).text for i, e in enumerate(sample)
    ]
    figures = card_figures(sample, replies)
    # Measured 0.96 / 0.53 / 0.01 at 0.5 and 0.95 / 0.55 / 0.03 at 0.8 (gameai eval dialogue, 300
    # samples); the issue asks 0.90 / - / 0.05.
    assert figures["fact_accuracy"] >= 0.8, figures
    assert figures["abstention"] >= 0.4, figures
    assert figures["invention_rate"] <= 0.1, figures


def test_demo_cards_answer_questions_written_apart_from_the_corpus(backend: HuggingFaceBackend) -> None:
    cards = load_npc_cards(ASSETS / "npcs.toml")
    right = []
    for card_id, line, expected in DEMO_QUESTIONS:
        reply = reply_of(backend, DialogueContext(npc_id=card_id, npc=cards[card_id], player_line=line))
        right.append(expected in reply.lower())
    assert sum(right) >= 6, list(zip(DEMO_QUESTIONS, right, strict=True))


def test_demo_cards_say_they_do_not_know_rather_than_invent(backend: HuggingFaceBackend) -> None:
    cards = load_npc_cards(ASSETS / "npcs.toml")
    replies = [
        reply_of(backend, DialogueContext(npc_id=card_id, npc=cards[card_id], player_line=line))
        for card_id, line in DEMO_UNANSWERABLE
    ]
    assert sum(abstains(r) for r in replies) >= 3, replies


def test_handwritten_cards_in_free_sentences_are_answered_and_declined(backend: HuggingFaceBackend) -> None:
    """The hand-written set's test cards (free sentences, questions written apart from the corpus)."""
    from gameai.training.dialogue.handwritten import HANDWRITTEN_FILE, handwritten_figures

    figures = handwritten_figures(backend, ASSETS / HANDWRITTEN_FILE, seeds=1, temperature=0.0)["test"]
    # Measured greedy 0.93 / 0.60 (27 answerable, 10 not); sampled at 0.5 over three seeds
    # 0.93 / 0.57 (gameai eval dialogue). Abstention here is the model's weak side.
    assert figures["fact_accuracy"] >= 0.8, figures
    assert figures["abstention"] >= 0.3, figures


#: Asked how they play: a training phrasing, and two written here, apart from the player bank.
HOW_AM_I_DOING = ("How am I doing?", "So how do you rate my playing?", "What do you think of how I play?")


@pytest.mark.parametrize("npcs", ["dialogue/npcs.toml", "platformer/npcs.toml"])
def test_npcs_say_the_games_own_sentence_for_the_recognised_behaviour(
    backend: HuggingFaceBackend, npcs: str
) -> None:
    """Each shipped game's NPCs, asked how the player plays, state that game's sentence for
    the behaviour (sentences written apart from the corpus's made-up classes); with none
    recognised they state none."""
    path = ASSETS.parent / npcs
    cards, texts = load_npc_cards(path), load_behaviour_texts(path)
    stated = []
    for i, (label, text) in enumerate(texts.items()):
        card_id = list(cards)[i % len(cards)]
        for line in HOW_AM_I_DOING:
            context = DialogueContext(
                npc_id=card_id, npc=cards[card_id], player_line=line, behaviour=label, behaviour_text=text
            )
            stated.append(text.lower() in reply_of(backend, context).lower())
    # Measured 18 of 18 for each game (the model before "What am I doing wrong?" became a status
    # phrasing: 15 of 18, "How am I doing?" declined by calm voices).
    assert sum(stated) >= 0.8 * len(stated), stated
    unknown = DialogueContext(npc_id="x", npc=next(iter(cards.values())), player_line=HOW_AM_I_DOING[0])
    assert not any(text.lower() in reply_of(backend, unknown).lower() for text in texts.values())


def test_the_game_state_answers_the_players_own_questions(backend: HuggingFaceBackend) -> None:
    card = NpcCard(
        name="Rosa", role="innkeeper", speech="warm and cheerful", facts=("A room costs 5 silver a night.",)
    )
    context = DialogueContext(
        npc_id="rosa", npc=card, player_line="What's my score?", game_state={"score": 1234}
    )
    assert "1234" in reply_of(backend, context)


def test_replies_are_well_formed_and_same_seed_same_reply(loaded: tuple, heldout: list[Example]) -> None:
    model, tokenizer = loaded
    sample = stratified_sample(heldout, 40, seed=2)
    replies = [generate_reply(model, tokenizer, e.prompt, seed=i) for i, e in enumerate(sample)]
    assert sum(is_well_formed(r.text, r.ended) for r in replies) / len(replies) >= 0.9
    again = generate_reply(model, tokenizer, sample[0].prompt, seed=0)
    assert again.text == replies[0].text
