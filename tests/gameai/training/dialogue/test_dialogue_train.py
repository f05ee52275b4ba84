"""Tiny end-to-end runs of ``gameai train dialogue``: corpus, tokenizer, training, resume, export."""

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

import gameai.training.dialogue.train as train_module
from gameai.dialogue.hf_backend import MODEL_CARD_FILE
from gameai.dialogue.prompt import END, MARKERS, REFERENCES
from gameai.dialogue.tokenizer import load_tokenizer
from gameai.errors import StepOrderError
from gameai.training.dialogue.checkpoint import load_optimizer_tensors, optimizer_tensors, read_state
from gameai.training.dialogue.config import DialogueTrainConfig
from gameai.training.dialogue.corpus.chat import chat_prompt
from gameai.training.dialogue.corpus.generate import write_jsonl
from gameai.training.dialogue.data import BatchOrder, collate, encode_examples, reply_loss
from gameai.training.dialogue.model import build_model
from gameai.training.dialogue.train import (
    corpus_dir,
    export,
    finetune,
    make_corpus,
    make_tokenizer,
    npc_pairs,
    pretrain,
    run,
    stage_dir,
    tokenizer_dir,
    train_corpus_dir,
)

ASSETS = Path(__file__).parents[4] / "assets" / "dialogue"
CHAT = [
    ("Hello, how are you?", "I am fine, thanks. And you?"),
    ("What did you do today?", "I went for a long walk by the river."),
    ("Do you like music?", "Yes, I play the guitar a little."),
    ("Where are you from?", "A small town up north."),
]


def copy_assets(assets: Path) -> None:
    """The data files the corpus step reads: voices, the player's lines, the shipped cards."""
    if not (assets / "voices").exists():
        shutil.copytree(ASSETS / "voices", assets / "voices")
        (assets / "lines").mkdir(parents=True)
        shutil.copy(ASSETS / "lines" / "player.txt", assets / "lines" / "player.txt")
        shutil.copy(ASSETS / "npcs.toml", assets / "npcs.toml")


def tiny_config(root: Path, **changes: object) -> DialogueTrainConfig:
    copy_assets(root / "assets")
    config = DialogueTrainConfig(
        assets_dir=str(root / "assets"),
        work_dir=str(root / "work"),
        data_dir=str(root / "data"),
        runs_dir=str(root / "runs"),
        train_examples=600,
        heldout_examples=200,
        vocab_size=400,
        n_layer=2,
        d_model=64,
        n_head=2,
        d_ff=128,
        block_size=96,
        batch_size=16,
        pretrain_steps=20,
        finetune_steps=60,
        pretrain_lr=3e-3,
        finetune_lr=3e-3,
        warmup_steps=5,
        eval_every=30,
        eval_examples=64,
        checkpoint_every=20,
    )
    return replace(config, **changes)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> DialogueTrainConfig:
    """A tiny corpus, fake chat data and a tokenizer, shared by the tests of this module."""
    config = tiny_config(tmp_path_factory.mktemp("dialogue"))
    manifest = make_corpus(config)
    assert manifest["train_examples"] == 600 and manifest["heldout_examples"] == 200
    assert (train_corpus_dir(config) / "train.jsonl.gz").exists()
    assert not (corpus_dir(config) / "train.jsonl.gz").exists()  # the training split is not shipped
    rows = [{"prompt": chat_prompt(a), "reply": b} for a, b in CHAT * 40]
    write_jsonl(Path(config.data_dir) / "chat_train.jsonl.gz", rows)
    write_jsonl(Path(config.data_dir) / "chat_valid.jsonl.gz", rows[:16])
    make_tokenizer(config)
    return config


def test_tokenizer_round_trips_and_keeps_markers_whole(prepared: DialogueTrainConfig) -> None:
    tokenizer = load_tokenizer(tokenizer_dir(prepared))
    prompt, reply = npc_pairs(prepared, "train")[0]
    ids = tokenizer(prompt + reply + END, add_special_tokens=False)["input_ids"]
    assert tokenizer.decode(ids) == prompt + reply + END
    for marker in MARKERS:
        assert len(tokenizer(marker, add_special_tokens=False)["input_ids"]) == 1
    assert tokenizer.eos_token == END and ids[-1] == tokenizer.eos_token_id
    assert len(tokenizer) == prepared.vocab_size + len(REFERENCES)  # the reference markers come after BPE


def test_collate_masks_prompt_and_padding(prepared: DialogueTrainConfig) -> None:
    tokenizer = load_tokenizer(tokenizer_dir(prepared))
    examples = encode_examples(tokenizer, npc_pairs(prepared, "train")[:3], prepared.block_size)
    batch = collate(examples, tokenizer.pad_token_id)
    for row, example in enumerate(examples):
        labels = batch["labels"][row]
        assert (labels[: example.reply_start] == -100).all()
        assert (
            labels[example.reply_start : len(example.ids)].tolist()
            == example.ids[example.reply_start :].tolist()
        )
        assert (labels[len(example.ids) :] == -100).all()
        assert batch["attention_mask"][row].sum() == len(example.ids)


def test_decision_tokens_weigh_more_and_weight_one_is_the_plain_mean() -> None:
    import numpy as np
    import torch

    from gameai.training.dialogue.data import EncodedExample, weighted_reply_loss

    # prompt 3 tokens, reply: opener 7, marker 9, end 2
    example = EncodedExample(np.array([5, 6, 4, 7, 9, 2]), reply_start=3)
    plain = collate([example], pad_id=0)
    assert plain["weights"][0].tolist() == [0, 0, 0, 1, 1, 1]
    weighted = collate([example], pad_id=0, decision_ids=(9,), decision_weight=5.0)
    assert weighted["weights"][0].tolist() == [0, 0, 0, 5, 5, 1]  # the first reply token, the marker
    logits = torch.randn(1, 6, 12)
    mean = torch.nn.functional.cross_entropy(logits[0, :-1], plain["labels"][0, 1:], ignore_index=-100)
    assert torch.allclose(weighted_reply_loss(logits, plain["labels"], plain["weights"]), mean)
    losses = torch.nn.functional.cross_entropy(logits[0, 2:5], torch.tensor([7, 9, 2]), reduction="none")
    expected = (losses * torch.tensor([5.0, 5.0, 1.0])).sum() / 11
    assert torch.allclose(weighted_reply_loss(logits, weighted["labels"], weighted["weights"]), expected)


def test_long_prompts_keep_their_end() -> None:
    from gameai.training.dialogue.tokenizer import train_tokenizer

    tokenizer = train_tokenizer(["one two three four five six seven eight nine ten"] * 5, 300)
    (example,) = encode_examples(tokenizer, [("one two three four five six seven eight nine ten", "ok")], 12)
    assert len(example.ids) <= 12
    assert str(tokenizer.decode(example.ids.tolist())).endswith("ten" + "ok" + END)


def test_batch_order_is_a_seeded_permutation_per_epoch() -> None:
    order = BatchOrder(10, 3, seed=1)
    epoch = sorted(i for step in range(3) for i in order.indices(step))
    assert len(set(epoch)) == 9 and set(epoch) <= set(range(10))
    assert BatchOrder(10, 3, seed=1).indices(4).tolist() == order.indices(4).tolist()
    with pytest.raises(ValueError):
        BatchOrder(2, 3, seed=0)


def test_optimizer_state_round_trips_without_pickle() -> None:
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
    model(torch.ones(1, 3)).sum().backward()
    optimizer.step()
    tensors, groups = optimizer_tensors(optimizer)
    restored = torch.optim.AdamW(torch.nn.Linear(3, 2).parameters(), lr=0.5)
    load_optimizer_tensors(restored, tensors, json.loads(json.dumps(groups)))
    assert restored.param_groups[0]["lr"] == 0.1
    for key in ("exp_avg", "exp_avg_sq"):
        assert torch.equal(restored.state_dict()["state"][0][key], optimizer.state_dict()["state"][0][key])


def test_pretrain_finetune_export_loss_falls(prepared: DialogueTrainConfig) -> None:
    tokenizer = load_tokenizer(tokenizer_dir(prepared))
    heldout = encode_examples(tokenizer, npc_pairs(prepared, "heldout")[:64], prepared.block_size)
    torch.manual_seed(prepared.seed)
    untrained = build_model(prepared.model, len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)
    before = reply_loss(untrained, heldout, tokenizer.pad_token_id, 32, torch.device("cpu"))
    assert before == pytest.approx(math.log(prepared.vocab_size), rel=0.1)

    config = replace(prepared, pretrained_init=True)
    assert pretrain(config)["done"]
    state = finetune(config)
    assert stage_dir(config, "finetune").name == "finetune-pretrained"
    assert state["done"] and state["step"] == config.finetune_steps
    assert state["valid_loss"] < 0.75 * before  # held-out cards, never trained on
    assert any((Path(config.runs_dir) / state["run_name"]).iterdir())  # TensorBoard events

    out = export(config)
    card = json.loads((out / MODEL_CARD_FILE).read_text())
    assert card["format"] == 1 and card["eos_token"] == END
    assert card["training"]["pretrain"]["step"] == config.pretrain_steps
    weights = load_file(str(out / "model.safetensors"))
    assert all(t.dtype == torch.float16 for t in weights.values())
    assert not list(out.glob("*.bin")) and not (out / "optimizer.safetensors").exists()


def test_resume_after_a_kill_matches_an_uninterrupted_run(
    prepared: DialogueTrainConfig, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    steps = dict(pretrained_init=False, finetune_steps=30, checkpoint_every=10, eval_every=100)
    straight = replace(prepared, work_dir=str(tmp_path / "straight"), **steps)  # type: ignore[arg-type]
    killed = replace(prepared, work_dir=str(tmp_path / "killed"), **steps)  # type: ignore[arg-type]
    for config in (straight, killed):
        shutil.copytree(tokenizer_dir(prepared), tokenizer_dir(config))
        shutil.copytree(train_corpus_dir(prepared), train_corpus_dir(config))
    finetune(straight)

    real_save = train_module.save_checkpoint

    def save_then_die(directory: Path, *args: object, **kwargs: object) -> None:
        real_save(directory, *args, **kwargs)  # type: ignore[arg-type]
        if args[-1]["step"] == 20:  # type: ignore[index]
            raise KeyboardInterrupt

    monkeypatch.setattr(train_module, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        finetune(killed)
    monkeypatch.setattr(train_module, "save_checkpoint", real_save)
    assert read_state(stage_dir(killed, "finetune"))["step"] == 20
    batches: list[int] = []

    def counting_collate(*args: object, **kwargs: object) -> object:
        batches.append(1)
        return collate(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(train_module, "collate", counting_collate)
    assert finetune(killed)["step"] == 30
    assert len(batches) == 10  # resumed at step 20, not restarted

    a = load_file(str(stage_dir(straight, "finetune") / "model.safetensors"))
    b = load_file(str(stage_dir(killed, "finetune") / "model.safetensors"))
    assert a.keys() == b.keys()
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=1e-5, atol=1e-6)


@pytest.fixture(scope="module")
def trained_all(tmp_path_factory: pytest.TempPathFactory) -> DialogueTrainConfig:
    """``run(config, "all")`` without pretraining: no general-conversation data anywhere."""
    root = tmp_path_factory.mktemp("dialogue_all")
    config = tiny_config(root, finetune_steps=6, checkpoint_every=3, eval_every=3, eval_examples=16)
    Path(config.data_dir).mkdir()
    run(config, "all")
    return config


def test_all_without_pretrained_init_skips_chat_and_pretrain(
    trained_all: DialogueTrainConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not any(Path(trained_all.data_dir).iterdir())  # the chat step never ran
    assert not stage_dir(trained_all, "pretrain").exists()
    assert read_state(stage_dir(trained_all, "finetune"))["done"]
    card = json.loads((Path(trained_all.assets_dir) / "model" / MODEL_CARD_FILE).read_text())
    assert card["training"]["pretrain"] is None
    assert card["config"]["train_examples"] == 600

    def never(config: DialogueTrainConfig) -> None:
        raise AssertionError("chat and pretrain are not steps of `all` without --pretrained-init")

    monkeypatch.setattr(train_module, "make_chat", never)
    monkeypatch.setattr(train_module, "pretrain", never)
    run(trained_all, "all")  # every step found done or rebuilt, chat and pretrain skipped again


def test_a_finished_run_of_another_shape_is_refused(trained_all: DialogueTrainConfig) -> None:
    wider = replace(trained_all, n_layer=trained_all.n_layer + 1)
    with pytest.raises(StepOrderError, match="model shape") as caught:
        finetune(wider)
    message = str(caught.value)
    assert str(stage_dir(trained_all, "finetune")) in message
    assert "'n_layer': 2" in message and "'n_layer': 3" in message
    assert "move that directory away" in message and "--work-dir" in message
    assert read_state(stage_dir(trained_all, "finetune"))["model_shape"]["n_layer"] == 2  # left alone


def test_a_finished_run_with_another_decision_weight_is_refused(trained_all: DialogueTrainConfig) -> None:
    with pytest.raises(StepOrderError, match="decision weight") as caught:
        finetune(replace(trained_all, decision_weight=trained_all.decision_weight + 2))
    assert f"it has {trained_all.decision_weight}" in str(caught.value)


def test_a_finished_run_with_another_tokenizer_is_refused(
    trained_all: DialogueTrainConfig, tmp_path: Path
) -> None:
    shutil.copytree(trained_all.work_dir, tmp_path / "work")
    other = replace(trained_all, work_dir=str(tmp_path / "work"), vocab_size=trained_all.vocab_size - 20)
    make_tokenizer(other)  # another recipe: retrained
    with pytest.raises(StepOrderError, match="tokenizer"):
        finetune(other)
