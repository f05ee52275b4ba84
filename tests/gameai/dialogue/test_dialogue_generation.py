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
