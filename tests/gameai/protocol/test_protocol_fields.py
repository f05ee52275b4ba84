"""The field checkers' one-pass path for arrays of floats gives what the item-by-item path gives."""

from __future__ import annotations

import math

import pytest

from gameai.protocol.errors import ErrorCode, ProtocolError
from gameai.protocol.fields import Constraint, compile_converter

FLOATS = tuple[float, ...]


def test_an_array_of_floats_comes_back_as_the_same_tuple() -> None:
    convert = compile_converter(FLOATS, Constraint(min_length=1, max_length=8))
    assert convert([0.5, -1.25, 3.0], "act.observation") == (0.5, -1.25, 3.0)


def test_integers_among_floats_become_floats() -> None:
    value = compile_converter(FLOATS)([1, 2.5, -3], "x")
    assert value == (1.0, 2.5, -3.0) and all(type(v) is float for v in value)


@pytest.mark.parametrize(
    ("items", "code", "where"),
    [
        ([0.5, math.inf, 1.0], ErrorCode.OUT_OF_RANGE, "x[1]"),
        ([0.5, 1.0, math.nan], ErrorCode.OUT_OF_RANGE, "x[2]"),
        ([0.5, True], ErrorCode.WRONG_TYPE, "x[1]"),
        ([0.5, None, 2.0], ErrorCode.WRONG_TYPE, "x[1]"),
    ],
)
def test_a_bad_item_is_named_by_its_index(items: list[object], code: ErrorCode, where: str) -> None:
    with pytest.raises(ProtocolError) as info:
        compile_converter(FLOATS)(items, "x")
    assert info.value.code is code and where in info.value.message


def test_bounds_on_the_items_name_the_first_item_out_of_them() -> None:
    convert = compile_converter(FLOATS, Constraint(items=Constraint(minimum=0.0, maximum=1.0)))
    assert convert([0.0, 0.5, 1.0], "x") == (0.0, 0.5, 1.0)
    for items, where in (([0.5, 1.5, 0.2], "x[1]"), ([0.5, 0.2, -0.1], "x[2]")):
        with pytest.raises(ProtocolError) as info:
            convert(items, "x")
        assert info.value.code is ErrorCode.OUT_OF_RANGE and where in info.value.message


def test_the_array_length_is_still_checked() -> None:
    convert = compile_converter(FLOATS, Constraint(min_length=1, max_length=3))
    for items in ([], [0.0] * 4):
        with pytest.raises(ProtocolError) as info:
            convert(items, "x")
        assert info.value.code is ErrorCode.OUT_OF_RANGE
