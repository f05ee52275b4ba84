"""Config dataclasses on the command line.

Every entry point has a config dataclass whose fields carry a docstring (a string
literal right under the field). :func:`add_config_arguments` turns the fields into
``--kebab-case`` options with those docstrings as help; :func:`config_from_args`
builds the dataclass back from the parsed namespace.

Supported field types: ``int``, ``float``, ``str``, ``bool`` (``--x/--no-x``),
``Literal[...]`` (choices), ``X | None`` of those, and ``tuple[X, ...]`` (several values).

Example:
    >>> @dataclass
    ... class Args:
    ...     seed: int = 0
    ...     \"\"\"Random seed of the run.\"\"\"
    >>> parser = argparse.ArgumentParser()
    >>> add_config_arguments(parser, Args)
    >>> config_from_args(Args, parser.parse_args(["--seed", "3"]))
    Args(seed=3)
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
import itertools
import textwrap
import types
import typing
from collections.abc import Collection
from typing import Any, Literal, TypeVar

ConfigT = TypeVar("ConfigT")


@functools.cache
def field_docstrings(cls: type) -> dict[str, str]:
    """Return ``{field name: docstring}`` for the attribute docstrings of a dataclass.

    Base classes are included; a subclass's docstring wins.
    """
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if klass is object or not dataclasses.is_dataclass(klass):
            continue
        try:
            source = textwrap.dedent(inspect.getsource(klass))
        except (OSError, TypeError):
            continue
        class_def = ast.parse(source).body[0]
        assert isinstance(class_def, ast.ClassDef)
        body = class_def.body
        for node, following in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[node.target.id] = " ".join(following.value.value.split())
    return docs


def _option_name(prefix: str, name: str) -> str:
    return "--" + (prefix + name).replace("_", "-")


def unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    """``(X, True)`` for ``X | None``; ``(annotation, False)`` for anything else."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) == 1:
            return members[0], True
    return annotation, False


def add_config_arguments(
    parser: argparse.ArgumentParser, cls: type, prefix: str = "", skip: Collection[str] = ()
) -> None:
    """Add one option per field of the dataclass ``cls`` to ``parser``.

    Args:
        parser: The parser (or argument group) to extend.
        cls: A dataclass whose fields all have defaults.
        prefix: Put before every option and destination name (``prefix="env_"`` gives
            ``--env-seed``), so that two configs can share one parser.
        skip: Fields to add no option for (another config's option of the same name sets
            them, or the caller adds its own).

    Raises:
        TypeError: If a field's type is not supported.
    """
    hints = typing.get_type_hints(cls)
    docs = field_docstrings(cls)
    group = parser.add_argument_group(f"{cls.__name__} options")
    for field in dataclasses.fields(cls):
        if not field.init or field.name in skip:
            continue
        annotation, _ = unwrap_optional(hints[field.name])
        default = field.default
        if default is dataclasses.MISSING and field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        help_text = docs.get(field.name, "")
        help_text = f"{help_text} (default: {default!r})" if help_text else f"default: {default!r}"
        help_text = help_text.replace("%", "%%")  # argparse %-formats help ("95% of" is no format)
        kwargs: dict[str, Any] = {"dest": prefix + field.name, "default": default, "help": help_text}
        option = _option_name(prefix, field.name)
        origin = typing.get_origin(annotation)
        if annotation is bool:
            group.add_argument(option, action=argparse.BooleanOptionalAction, **kwargs)
        elif origin is Literal:
            choices = typing.get_args(annotation)
            group.add_argument(option, type=type(choices[0]), choices=choices, **kwargs)
        elif origin is tuple:
            member = typing.get_args(annotation)[0]
            group.add_argument(option, type=member, nargs="+", **kwargs)
        elif annotation in (int, float, str):
            group.add_argument(option, type=annotation, **kwargs)
        else:
            raise TypeError(f"{cls.__name__}.{field.name}: unsupported option type {annotation!r}")


def config_from_args(cls: type[ConfigT], args: argparse.Namespace, prefix: str = "") -> ConfigT:
    """Build the dataclass ``cls`` from options added by :func:`add_config_arguments`."""
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not field.init:
            continue
        value = getattr(args, prefix + field.name)
        annotation, _ = unwrap_optional(hints[field.name])
        if typing.get_origin(annotation) is tuple and isinstance(value, list):
            value = tuple(value)
        values[field.name] = value
    return cls(**values)
