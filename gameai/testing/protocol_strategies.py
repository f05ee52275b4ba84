"""Hypothesis strategies for valid protocol messages, derived from the message classes' types and bounds.

Needs the dev dependency ``hypothesis``; only tests import this module.
"""

from __future__ import annotations

import dataclasses
import enum
import typing
from typing import Any, Literal

from hypothesis import strategies as st

from gameai.protocol.fields import NO_CONSTRAINT, Constraint, constraint_of
from gameai.protocol.messages import Message

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20)
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_TEXT, children, max_size=4),
    max_leaves=12,
)


def _sized(constraint: Constraint, default_max: int) -> tuple[int, int]:
    low = constraint.min_length or 0
    high = constraint.max_length if constraint.max_length is not None else default_max
    return low, min(high, max(low, default_max))


def strategy_for(annotation: Any, constraint: Constraint = NO_CONSTRAINT) -> st.SearchStrategy[Any]:
    """Values valid for a field of this type and constraint."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, __import__("types").UnionType):
        members = [a for a in args if a is not type(None)]
        if set(members) == {int, float}:
            numbers = strategy_for(int, constraint) | strategy_for(float, constraint)
            return st.none() | numbers if len(members) != len(args) else numbers
        return st.none() | strategy_for(members[0], constraint)
    if annotation is Any:
        return JSON_VALUES
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        low = int(constraint.minimum) if constraint.minimum is not None else -(2**31)
        high = int(constraint.maximum) if constraint.maximum is not None else 2**31
        return st.integers(low, high)
    if annotation is float:
        floor = constraint.minimum if constraint.minimum is not None else -1e9
        ceiling = constraint.maximum if constraint.maximum is not None else 1e9
        above = constraint.exclusive_minimum
        if above is not None:
            return st.floats(above, ceiling, exclude_min=True, allow_nan=False, allow_infinity=False)
        return st.floats(floor, ceiling, allow_nan=False, allow_infinity=False)
    if annotation is str:
        low, high = _sized(constraint, 24)
        return st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=low, max_size=high)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return st.sampled_from(list(annotation))
    if origin is Literal:
        return st.sampled_from(args)
    if origin is tuple:
        low, high = _sized(constraint, 5)
        item = strategy_for(args[0], constraint.items or NO_CONSTRAINT)
        return st.lists(item, min_size=low, max_size=high).map(tuple)
    if origin is dict:
        low, high = _sized(constraint, 4)
        item = strategy_for(args[1], constraint.items or NO_CONSTRAINT)
        return st.dictionaries(_TEXT, item, min_size=low, max_size=high)
    if dataclasses.is_dataclass(annotation):
        return dataclass_strategy(annotation)  # type: ignore[arg-type]
    raise TypeError(annotation)


def dataclass_strategy(cls: type) -> st.SearchStrategy[Any]:
    """Instances of a message (or message part) class with every field drawn at random."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: strategy_for(hints[f.name], constraint_of(f)) for f in dataclasses.fields(cls)}
    return st.builds(cls, **fields)


def message_strategy(classes: typing.Iterable[type[Message]]) -> st.SearchStrategy[Message]:
    """Any of these message classes."""
    return st.one_of([dataclass_strategy(cls) for cls in classes])
