"""The JSON Schema of the control messages, generated from the message classes.

The committed copy is ``docs/protocol.schema.json``; a test fails when it is stale.
Regenerate it with::

    .venv/bin/python -m gameai.protocol.schema docs/protocol.schema.json

Binary frames are not JSON; their header layout is attached under the non-standard
keyword ``x-frame-header``, and the close codes under ``x-close-codes``.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any

from gameai.protocol.errors import CLOSE_CODE_OF, CloseCode, ErrorCode
from gameai.protocol.fields import object_schema
from gameai.protocol.frames import FRAME_VERSION, HEADER_FORMAT, HEADER_SIZE, MAGIC, FrameEncoding
from gameai.protocol.messages import CLIENT_MESSAGES, PROTOCOL_VERSION, SERVER_MESSAGES, Message

_FRAME_FIELDS = (
    ("magic", 0, 4, "bytes", f"always {MAGIC.decode()!r}"),
    ("version", 4, 1, "uint8", f"frame header version, {FRAME_VERSION}"),
    ("encoding", 5, 1, "uint8", ", ".join(f"{e.value} {e.label}" for e in FrameEncoding)),
    ("channels", 6, 1, "uint8", "3 (RGB)"),
    ("flags", 7, 1, "uint8", "0 (reserved)"),
    ("seq", 8, 4, "uint32", "frame sequence number, echoed in behaviour results"),
    ("timestamp", 12, 8, "float64", "client clock in seconds (finite), echoed in behaviour results"),
    ("width", 20, 2, "uint16", "pixels"),
    ("height", 22, 2, "uint16", "pixels"),
    ("payload_length", 24, 4, "uint32", "bytes of payload after the header"),
)


def _parts_of(classes: list[type]) -> list[type]:
    """Every nested dataclass reachable from the message classes, in first-seen order."""
    seen: list[type] = []

    def visit(annotation: Any) -> None:
        for arg in typing.get_args(annotation):
            visit(arg)
        if dataclasses.is_dataclass(annotation) and isinstance(annotation, type) and annotation not in seen:
            seen.append(annotation)
            for hint in typing.get_type_hints(annotation).values():
                visit(hint)

    for cls in classes:
        for hint in typing.get_type_hints(cls).values():
            visit(hint)
    return seen


def _message_schema(cls: type[Message]) -> dict[str, Any]:
    return object_schema(cls, {"type": {"const": cls.TYPE}})


def build_schema() -> dict[str, Any]:
    """The whole schema: every client and server message, their parts, frame header and codes."""
    messages = [*CLIENT_MESSAGES.values(), *SERVER_MESSAGES.values()]
    defs: dict[str, Any] = {cls.__name__: _message_schema(cls) for cls in messages}
    defs |= {part.__name__: object_schema(part) for part in _parts_of(messages)}
    ref = lambda cls: {"$ref": f"#/$defs/{cls.__name__}"}  # noqa: E731
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": f"gameai protocol v{PROTOCOL_VERSION}: control messages",
        "description": (
            "Every websocket text message is one of these JSON objects, told apart by 'type'. "
            "Generated from gameai/protocol/messages.py; see docs/protocol.md."
        ),
        "oneOf": [{"$ref": "#/$defs/ClientMessage"}, {"$ref": "#/$defs/ServerMessage"}],
        "$defs": {
            "ClientMessage": {"oneOf": [ref(cls) for cls in CLIENT_MESSAGES.values()]},
            "ServerMessage": {"oneOf": [ref(cls) for cls in SERVER_MESSAGES.values()]},
            **defs,
        },
        "x-frame-header": {
            "struct": HEADER_FORMAT,
            "byte_order": "little-endian",
            "size": HEADER_SIZE,
            "fields": [
                {"name": name, "offset": offset, "size": size, "type": kind, "meaning": meaning}
                for name, offset, size, kind, meaning in _FRAME_FIELDS
            ],
        },
        "x-close-codes": {
            str(int(code)): next(error.value for error, close in CLOSE_CODE_OF.items() if close == code)
            for code in CloseCode
        },
        "x-error-codes": [code.value for code in ErrorCode],
    }


def schema_text() -> str:
    """The schema as the committed file's text (stable key order, trailing newline)."""
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the schema to the path given (stdout when none)."""
    args = sys.argv[1:] if argv is None else argv
    if args:
        Path(args[0]).write_text(schema_text(), encoding="utf-8")
    else:
        sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
