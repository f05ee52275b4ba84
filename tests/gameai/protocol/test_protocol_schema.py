"""The JSON Schema is generated from the message classes, and the committed copy is current."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from gameai.protocol.errors import CloseCode, ErrorCode
from gameai.protocol.messages import CLIENT_MESSAGES, SERVER_MESSAGES
from gameai.protocol.schema import build_schema, schema_text

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "docs" / "protocol.schema.json"


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_PATH.is_file(), "docs/protocol.schema.json is missing"
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), (
        "docs/protocol.schema.json is stale; regenerate it with "
        "`.venv/bin/python -m gameai.protocol.schema docs/protocol.schema.json`"
    )


def test_every_message_is_in_the_schema_with_its_fields() -> None:
    schema = build_schema()
    for messages in (CLIENT_MESSAGES, SERVER_MESSAGES):
        for message_type, cls in messages.items():
            entry = schema["$defs"][cls.__name__]
            assert entry["properties"]["type"] == {"const": message_type}
            assert entry["additionalProperties"] is False
            fields = {f.name for f in dataclasses.fields(cls)}
            assert set(entry["properties"]) == fields | {"type"}
            required = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                        and f.default_factory is dataclasses.MISSING}  # fmt: skip
            assert set(entry["required"]) == required | {"type"}
            for name, prop in entry["properties"].items():
                if name != "type":
                    assert prop.get("description"), f"{cls.__name__}.{name} has no docstring"


def test_schema_carries_bounds_and_codes() -> None:
    schema = build_schema()
    act = schema["$defs"]["Act"]["properties"]
    assert act["difficulty"]["anyOf"][0] == {"type": "number", "minimum": 0.0, "maximum": 1.0}
    assert act["observation"]["maxItems"] == 4096
    assert schema["x-error-codes"] == [code.value for code in ErrorCode]
    assert set(schema["x-close-codes"]) == {str(int(code)) for code in CloseCode}
    assert schema["x-frame-header"]["size"] == 28
    json.dumps(schema)  # plain JSON
