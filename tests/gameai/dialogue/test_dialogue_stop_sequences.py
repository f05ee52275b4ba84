"""Stop sequences cut a streamed reply without ever emitting text that has to be taken back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gameai.dialogue.stop_sequences import StopSequenceBuffer


def _run(deltas: list[str], stops: tuple[str, ...]) -> str:
    buffer = StopSequenceBuffer(stops)
    out = "".join(buffer.push(d) for d in deltas)
    return out + buffer.flush()


def test_no_stops_passes_text_through() -> None:
    buffer = StopSequenceBuffer(())
    assert buffer.push("abc") == "abc"
    assert buffer.flush() == ""


def test_stop_inside_one_delta() -> None:
    assert _run(["Hello\nPlayer: hi"], ("\nPlayer:",)) == "Hello"


def test_stop_split_across_deltas_is_held_back_then_dropped() -> None:
    buffer = StopSequenceBuffer(("END",))
    assert buffer.push("foo E") == "foo "
    assert buffer.push("N") == ""
    assert buffer.push("D and more") == ""
    assert buffer.stopped
    assert buffer.push("later") == "" and buffer.flush() == ""


def test_a_false_start_is_released() -> None:
    buffer = StopSequenceBuffer(("END",))
    assert buffer.push("EN") == ""
    assert buffer.push("x") == "ENx"


def test_earliest_of_several_stops_wins() -> None:
    assert _run(["a", "bXc", "Yd"], ("Y", "X")) == "ab"


@given(st.text(max_size=40), st.lists(st.integers(0, 40), max_size=6), st.text(min_size=1, max_size=4))
def test_output_is_the_text_before_the_first_stop_however_it_is_split(
    text: str, cuts: list[int], stop: str
) -> None:
    points = sorted({min(c, len(text)) for c in cuts})
    deltas = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    expected = text[: text.index(stop)] if stop in text else text
    assert _run(deltas, (stop,)) == expected
