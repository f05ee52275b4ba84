"""Field types and constraints of the message classes: validation and JSON Schema.

A message class is a frozen, keyword-only dataclass. Each field's Python type says its
JSON type, and :func:`constrained` attaches bounds (range, length, item count). The same
two facts drive both directions, so the validator and the published schema cannot drift:

* :func:`compile_converter` turns a field's type and :class:`Constraint` into a function
  that checks a decoded JSON value and converts it (lists become tuples, objects become
  nested dataclasses, strings become enums), raising :class:`ProtocolError`.
* :func:`json_schema_of` turns the same type and constraint into a JSON Schema fragment.

Supported types: ``str``, ``int``, ``float`` (JSON integers accepted), ``bool``,
``int | float`` (a JSON number, kept an int when it is one), ``Literal[...]`` of strings or
ints, string enums, ``X | None``, ``tuple[X, ...]``
(a JSON array), ``dict[str, X]`` (a JSON object), nested message-part dataclasses and
``Any`` (any JSON value).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gameai.config_args import field_docstrings
from gameai.protocol.errors import ErrorCode, ProtocolError

Converter = Callable[[Any, str], Any]
"""Checks and converts one decoded JSON value; the second argument is its path for messages."""


@dataclass(frozen=True)
class Constraint:
    """Bounds on one field's value (all optional)."""

    minimum: float | None = None
    """Smallest allowed number (inclusive)."""
    maximum: float | None = None
    """Largest allowed number (inclusive)."""
    exclusive_minimum: float | None = None
    """Numbers must be strictly greater than this."""
    min_length: int | None = None
    """Fewest characters of a string, items of an array or keys of an object."""
    max_length: int | None = None
    """Most characters of a string, items of an array or keys of an object."""
    items: Constraint | None = None
    """Constraint on each item of an array or each value of an object."""


NO_CONSTRAINT = Constraint()


def constrained(
    default: Any = dataclasses.MISSING, *, factory: Any = dataclasses.MISSING, **bounds: Any
) -> Any:
    """A dataclass field with a :class:`Constraint` (a required field when no default is given).

    Args:
        default: The default value; omit for a required field.
        factory: A zero-argument callable making the default (for mutable defaults).
        **bounds: The :class:`Constraint` fields.

    Returns:
        A :func:`dataclasses.field` carrying the constraint in its metadata.
    """
    metadata = {"constraint": Constraint(**bounds)}
    if factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def constraint_of(field: dataclasses.Field[Any]) -> Constraint:
    """The :class:`Constraint` of a dataclass field (no bounds when it has none)."""
    constraint = field.metadata.get("constraint", NO_CONSTRAINT)
    assert isinstance(constraint, Constraint)
    return constraint


def _short(value: Any, limit: int = 40) -> str:
    """A value for an error message, cut so that a huge input cannot make a huge error."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(code: ErrorCode, path: str, message: str) -> ProtocolError:
    return ProtocolError(code, f"{path}: {message}")


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(members) != len(typing.get_args(annotation))
        if optional and len(members) == 1:
            return members[0], True
        if set(members) == {int, float}:
            return int | float, optional
        raise TypeError(f"unsupported union {annotation!r}")
    return annotation, False


def _check_length(value: Any, path: str, constraint: Constraint, what: str) -> None:
    n = len(value)
    if constraint.min_length is not None and n < constraint.min_length:
        raise _fail(ErrorCode.OUT_OF_RANGE, path, f"needs at least {constraint.min_length} {what}, got {n}")
    if constraint.max_length is not None and n > constraint.max_length:
        raise _fail(ErrorCode.OUT_OF_RANGE, path, f"allows at most {constraint.max_length} {what}, got {n}")


def _check_range(value: float, path: str, constraint: Constraint) -> None:
    if constraint.minimum is not None and value < constraint.minimum:
        raise _fail(ErrorCode.OUT_OF_RANGE, path, f"must be >= {constraint.minimum}, got {value}")
    if constraint.maximum is not None and value > constraint.maximum:
        raise _fail(ErrorCode.OUT_OF_RANGE, path, f"must be <= {constraint.maximum}, got {value}")
    if constraint.exclusive_minimum is not None and value <= constraint.exclusive_minimum:
        raise _fail(ErrorCode.OUT_OF_RANGE, path, f"must be > {constraint.exclusive_minimum}, got {value}")


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _wrong_type(path: str, expected: str, value: Any) -> ProtocolError:
    return _fail(ErrorCode.WRONG_TYPE, path, f"expected {expected}, got {_json_type_name(value)}")


def compile_converter(annotation: Any, constraint: Constraint = NO_CONSTRAINT) -> Converter:
    """Build the checker-converter of one field type.

    Args:
        annotation: The field's resolved Python type.
        constraint: Its bounds.

    Returns:
        A function ``(json_value, path) -> python_value``.

    Raises:
        TypeError: If the type is not supported (a programming error, at import time).
    """
    annotation, optional = _unwrap_optional(annotation)
    inner = _compile_plain(annotation, constraint)
    if not optional:
        return inner

    def convert_optional(value: Any, path: str) -> Any:
        return None if value is None else inner(value, path)

    return convert_optional


def _all_finite_floats(values: list[Any]) -> bool:
    """Whether every item is a finite ``float`` (JSON ``1.5``; ``1`` decodes to an int and is not)."""
    return all(type(v) is float for v in values) and all(map(math.isfinite, values))


def _compile_plain(annotation: Any, constraint: Constraint) -> Converter:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return lambda value, path: value
    if annotation is bool:

        def convert_bool(value: Any, path: str) -> bool:
            if not isinstance(value, bool):
                raise _wrong_type(path, "boolean", value)
            return value

        return convert_bool
    if annotation is int:

        def convert_int(value: Any, path: str) -> int:
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise _wrong_type(path, "integer", value)
            _check_range(value, path, constraint)
            return value

        return convert_int
    if annotation == int | float:

        def convert_number(value: Any, path: str) -> int | float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _wrong_type(path, "number", value)
            if isinstance(value, float) and not math.isfinite(value):
                raise _fail(ErrorCode.OUT_OF_RANGE, path, "must be finite")
            _check_range(value, path, constraint)
            return value

        return convert_number
    if annotation is float:

        def convert_float(value: Any, path: str) -> float:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise _wrong_type(path, "number", value)
            try:
                number = float(value)
            except OverflowError:
                raise _fail(ErrorCode.OUT_OF_RANGE, path, "number too large") from None
            if not math.isfinite(number):
                raise _fail(ErrorCode.OUT_OF_RANGE, path, "must be finite")
            _check_range(number, path, constraint)
            return number

        return convert_float
    if annotation is str:

        def convert_str(value: Any, path: str) -> str:
            if not isinstance(value, str):
                raise _wrong_type(path, "string", value)
            _check_length(value, path, constraint, "characters")
            return value

        return convert_str
    if isinstance(annotation, type) and issubclass(annotation, enum.StrEnum):
        enum_type = annotation
        allowed = {member.value: member for member in enum_type}

        def convert_enum(value: Any, path: str) -> Any:
            if not isinstance(value, str):
                raise _wrong_type(path, "string", value)
            if value not in allowed:
                raise _fail(
                    ErrorCode.OUT_OF_RANGE, path, f"must be one of {sorted(allowed)}, got {_short(value)}"
                )
            return allowed[value]

        return convert_enum
    if origin is Literal:
        choices = typing.get_args(annotation)

        def convert_literal(value: Any, path: str) -> Any:
            if isinstance(value, bool) or not isinstance(value, type(choices[0])):
                raise _wrong_type(path, "string" if isinstance(choices[0], str) else "integer", value)
            if value not in choices:
                raise _fail(
                    ErrorCode.OUT_OF_RANGE, path, f"must be one of {list(choices)}, got {_short(value)}"
                )
            return value

        return convert_literal
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) != 2 or args[1] is not Ellipsis:
            raise TypeError(f"only tuple[X, ...] is supported, not {annotation!r}")
        item_constraint = constraint.items or NO_CONSTRAINT
        item = compile_converter(args[0], item_constraint)

        def convert_array(value: Any, path: str) -> tuple[Any, ...]:
            if not isinstance(value, list):
                raise _wrong_type(path, "array", value)
            _check_length(value, path, constraint, "items")
            return tuple(item(v, f"{path}[{i}]") for i, v in enumerate(value))

        if args[0] is not float or item_constraint.exclusive_minimum is not None:
            return convert_array

        def convert_float_array(value: Any, path: str) -> tuple[Any, ...]:
            """An array of JSON numbers (an observation: one per ``act``), checked in one pass.

            Only the whole array's types, finiteness and bounds are looked at here; anything
            off goes through :func:`convert_array`, which names the first bad item.
            """
            if type(value) is list and _all_finite_floats(value):
                if value and (item_constraint.minimum is not None or item_constraint.maximum is not None):
                    low, high = min(value), max(value)
                    if (item_constraint.minimum is not None and low < item_constraint.minimum) or (
                        item_constraint.maximum is not None and high > item_constraint.maximum
                    ):
                        return convert_array(value, path)
                _check_length(value, path, constraint, "items")
                return tuple(value)
            return convert_array(value, path)

        return convert_float_array
    if origin is dict:
        key_type, value_type = typing.get_args(annotation)
        if key_type is not str:
            raise TypeError(f"only dict[str, X] is supported, not {annotation!r}")
        item = compile_converter(value_type, constraint.items or NO_CONSTRAINT)

        def convert_object(value: Any, path: str) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise _wrong_type(path, "object", value)
            _check_length(value, path, constraint, "keys")
            return {k: item(v, f"{path}.{k}") for k, v in value.items()}

        return convert_object
    if dataclasses.is_dataclass(annotation):
        part = annotation

        def convert_part(value: Any, path: str) -> Any:
            return build_dataclass(part, value, path)  # type: ignore[arg-type]

        return convert_part
    raise TypeError(f"unsupported field type {annotation!r}")


@functools.cache
def _field_converters(cls: type) -> tuple[tuple[str, Converter, bool], ...]:
    """(name, converter, required) for every field of a message dataclass, cached per class."""
    hints = typing.get_type_hints(cls)
    result = []
    for field in dataclasses.fields(cls):
        required = field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
        result.append((field.name, compile_converter(hints[field.name], constraint_of(field)), required))
    return tuple(result)


def build_dataclass(cls: type[Any], value: Any, path: str, skip: frozenset[str] = frozenset()) -> Any:
    """Check a decoded JSON object against a dataclass and build an instance of it.

    Args:
        cls: A message or message-part dataclass.
        value: The decoded JSON value.
        path: Where the value sits, for error messages (e.g. ``"hello"`` or ``"hello.frames"``).
        skip: Keys present in the object that are not fields (``type``).

    Returns:
        The instance.

    Raises:
        ProtocolError: ``wrong_type`` if ``value`` is not an object, ``unknown_field``,
            ``missing_field``, ``wrong_type`` or ``out_of_range`` for its fields.
    """
    if not isinstance(value, dict):
        raise _wrong_type(path, "object", value)
    converters = _field_converters(typing.cast(type, cls))
    names = {name for name, _, _ in converters}
    for key in value:
        if key not in names and key not in skip:
            raise _fail(ErrorCode.UNKNOWN_FIELD, path, f"unknown field {key[:40]!r}")
    kwargs: dict[str, Any] = {}
    for name, convert, required in converters:
        if name in value:
            kwargs[name] = convert(value[name], f"{path}.{name}")
        elif required:
            raise _fail(ErrorCode.MISSING_FIELD, path, f"missing required field {name!r}")
    return cls(**kwargs)


_PLAIN = frozenset({str, int, float, bool})


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(field.name for field in dataclasses.fields(cls))


def to_json_value(value: Any) -> Any:
    """Turn a message value into plain JSON data: dataclasses to objects (None fields left out),
    tuples to lists, enums to their values.

    On the hot path (a ``behaviour`` result per frame), so plain values skip the recursion.
    """
    kind = type(value)
    if kind in _PLAIN:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for name in _field_names(typing.cast(type, kind)):
            item = getattr(value, name)
            if item is not None:
                out[name] = item if type(item) in _PLAIN else to_json_value(item)
        return out
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [v if type(v) in _PLAIN else to_json_value(v) for v in value]
    if isinstance(value, dict):
        return {k: v if type(v) in _PLAIN else to_json_value(v) for k, v in value.items()}
    return value


def _schema_bounds(schema: dict[str, Any], constraint: Constraint, kind: str) -> dict[str, Any]:
    length_keys = {
        "string": ("minLength", "maxLength"),
        "array": ("minItems", "maxItems"),
        "object": ("minProperties", "maxProperties"),
    }
    if kind in length_keys:
        low, high = length_keys[kind]
        if constraint.min_length is not None:
            schema[low] = constraint.min_length
        if constraint.max_length is not None:
            schema[high] = constraint.max_length
    if kind in ("number", "integer"):
        if constraint.minimum is not None:
            schema["minimum"] = constraint.minimum
        if constraint.maximum is not None:
            schema["maximum"] = constraint.maximum
        if constraint.exclusive_minimum is not None:
            schema["exclusiveMinimum"] = constraint.exclusive_minimum
    return schema


def json_schema_of(annotation: Any, constraint: Constraint = NO_CONSTRAINT) -> dict[str, Any]:
    """The JSON Schema fragment of one field type (nested dataclasses as ``$ref``).

    Args:
        annotation: The field's resolved Python type.
        constraint: Its bounds.

    Returns:
        A JSON Schema (draft 2020-12) fragment.
    """
    annotation, optional = _unwrap_optional(annotation)
    schema = _schema_plain(annotation, constraint)
    if optional:
        return {"anyOf": [schema, {"type": "null"}]}
    return schema


def _schema_plain(annotation: Any, constraint: Constraint) -> dict[str, Any]:
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return {}
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return _schema_bounds({"type": "integer"}, constraint, "integer")
    if annotation is float or annotation == int | float:
        return _schema_bounds({"type": "number"}, constraint, "number")
    if annotation is str:
        return _schema_bounds({"type": "string"}, constraint, "string")
    if isinstance(annotation, type) and issubclass(annotation, enum.StrEnum):
        return {"type": "string", "enum": [member.value for member in annotation]}
    if origin is Literal:
        choices = list(typing.get_args(annotation))
        kind = "string" if isinstance(choices[0], str) else "integer"
        if len(choices) == 1:
            return {"type": kind, "const": choices[0]}
        return {"type": kind, "enum": choices}
    if origin is tuple:
        item = json_schema_of(typing.get_args(annotation)[0], constraint.items or NO_CONSTRAINT)
        return _schema_bounds({"type": "array", "items": item}, constraint, "array")
    if origin is dict:
        item = json_schema_of(typing.get_args(annotation)[1], constraint.items or NO_CONSTRAINT)
        return _schema_bounds({"type": "object", "additionalProperties": item}, constraint, "object")
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation):
        return {"$ref": f"#/$defs/{annotation.__name__}"}
    raise TypeError(f"unsupported field type {annotation!r}")


def object_schema(cls: type, extra_properties: dict[str, Any] | None = None) -> dict[str, Any]:
    """The JSON Schema of a dataclass as a closed object, with each field's docstring.

    Args:
        cls: A message or message-part dataclass.
        extra_properties: Properties placed first (a message's ``type`` constant).

    Returns:
        ``{"type": "object", "properties": ..., "required": ..., "additionalProperties": false}``.
    """
    hints = typing.get_type_hints(cls)
    docs = field_docstrings(cls)
    properties: dict[str, Any] = dict(extra_properties or {})
    required = list(extra_properties or {})
    for field in dataclasses.fields(cls):
        schema = json_schema_of(hints[field.name], constraint_of(field))
        if field.name in docs:
            schema = {"description": docs[field.name], **schema}
        if field.default is not dataclasses.MISSING and field.default is not None:
            schema["default"] = to_json_value(field.default)
        properties[field.name] = schema
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            required.append(field.name)
    result: dict[str, Any] = {"type": "object"}
    doc = (cls.__doc__ or "").strip()
    if doc:
        result["description"] = " ".join(doc.split("\n\n")[0].split())
    result |= {"properties": properties, "required": required, "additionalProperties": False}
    return result
