"""A reply's text as it streams: fact markers expanded into the prompt's sentences."""

from types import SimpleNamespace

import torch

from gameai.dialogue.generation import EncodedPrompt, StreamedReply
from gameai.dialogue.stop_sequences import StopSequenceBuffer
from gameai.dialogue.types import GenerationParams

FACTS = ("a new shield costs 40 gold.", "The old mine is east of the village.")


def reply_of(pieces: list[str], facts: tuple[str, ...] = FACTS, stops: tuple[str, ...] = ()) -> str:
    encoded = EncodedPrompt(torch.zeros((1, 1)), GenerationParams(), StopSequenceBuffer(stops), facts)
    reply = StreamedReply(SimpleNamespace(last_token=None, tokens=0), encoded, [0])
    out = [reply.feed(piece, 1) for piece in pieces]
    return "".join(d for d in out if d is not None) + reply.finish("stop")


def test_a_marker_becomes_its_sentence_with_a_capital() -> None:
    assert reply_of(["Aye. ", "<|f1|>", " Go."]) == "Aye. A new shield costs 40 gold. Go."
    assert reply_of(["<|f2|>"]) == "The old mine is east of the village."


def test_a_marker_split_over_pieces_is_held_until_whole() -> None:
    assert reply_of(["Aye. <|", "f2", "|> Right."]) == "Aye. The old mine is east of the village. Right."
    assert reply_of(["Aye. <", "|f1|>"]) == "Aye. A new shield costs 40 gold."


def test_a_marker_without_a_sentence_is_dropped_and_other_text_kept() -> None:
    assert reply_of(["Hm. <|f3|>"]) == "Hm. "
    assert reply_of(["a <| b"]) == "a <| b"  # a lone "<|" at the end is text


def test_without_facts_the_text_is_untouched() -> None:
    assert reply_of(["Aye. <|f1|>"], facts=()) == "Aye. <|f1|>"


def test_stop_sequences_apply_to_the_expanded_text() -> None:
    assert reply_of(["Aye. <|f2|> More."], stops=("east",)) == "Aye. The old mine is "


def test_banned_tokens_are_never_picked_greedy_or_sampled() -> None:
    from gameai.dialogue.generation import ban_tokens, sample_next_token, seeded_generator

    scores = torch.zeros((1, 8))
    scores[0, 5] = 10.0  # the favourite, banned
    scores[0, 2] = 9.0
    banned = ban_tokens(scores.clone(), (5,))
    assert int(banned.argmax()) == 2
    generator = seeded_generator(0, torch.device("cpu"))
    draws = {int(sample_next_token(banned, 1.0, 1.0, generator)) for _ in range(200)}
    assert 5 not in draws and 2 in draws
    assert torch.equal(ban_tokens(scores.clone(), ()), scores)


def test_the_nucleus_is_the_same_alone_or_in_a_batch_and_widens_for_flat_rows() -> None:
    from gameai.dialogue.generation import nucleus, sample_next_token, sample_rows, seeded_generator

    torch.manual_seed(0)
    peaked = torch.randn(4096) * 8  # the nucleus closes within the first 64 candidates
    flat = torch.zeros(4096)  # every token equally likely: the nucleus is most of the vocabulary
    scores = torch.stack([peaked, flat, peaked * 0.5])
    rows = nucleus(scores, 0.8, 0.95)
    for index, (candidates, tokens) in enumerate(rows):
        alone = nucleus(scores[index : index + 1], 0.8, 0.95)[0]
        assert torch.equal(alone[0], candidates) and torch.equal(alone[1], tokens)
        kept = candidates > 0
        assert (
            float(candidates[kept].sum()) > 0.95 * float(torch.softmax(scores[index] / 0.8, -1).sum()) - 1e-6
        )
        assert bool(kept[: int(kept.sum())].all())  # kept = the most likely ones, in order
    assert len(rows[0][0]) == 64 and len(rows[1][0]) == 4096
    # A row drawn in a batch draws what it draws alone, with the same generator seed.
    batch = sample_rows(
        scores, [(0.8, 0.95)] * 3, [seeded_generator(s, torch.device("cpu")) for s in (1, 2, 3)]
    )
    alone = [
        int(sample_next_token(scores[i : i + 1], 0.8, 0.95, seeded_generator(s, torch.device("cpu"))))
        for i, s in enumerate((1, 2, 3))
    ]
    assert batch == alone
