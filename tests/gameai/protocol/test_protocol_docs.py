"""docs/protocol.md: every JSON example parses, and every message, error and close code is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gameai.protocol import CloseCode, ErrorCode, ProtocolError, parse_client_message, parse_server_message
from gameai.protocol.frames import HEADER_SIZE, encode_frame
from gameai.protocol.messages import CLIENT_MESSAGES, SERVER_MESSAGES, Message

DOC = (Path(__file__).resolve().parents[3] / "docs" / "protocol.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```json\n(.*?)```", DOC, flags=re.DOTALL)


def _parse(text: str) -> Message:
    try:
        return parse_client_message(text)
    except ProtocolError:
        return parse_server_message(text)


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))])
def test_every_json_example_is_a_valid_message(example: str) -> None:
    _parse(example)


def test_every_message_type_has_an_example() -> None:
    documented = {_parse(example).TYPE for example in EXAMPLES}
    assert documented == set(CLIENT_MESSAGES) | set(SERVER_MESSAGES)


def test_every_error_and_close_code_is_documented() -> None:
    for code in ErrorCode:
        assert f"`{code.value}`" in DOC, code
    for close in CloseCode:
        assert f"| {int(close)} |" in DOC, close


def test_the_documented_header_bytes_are_what_the_code_writes() -> None:
    import numpy as np

    header = encode_frame(np.zeros((84, 84, 3), dtype=np.uint8), seq=42, timestamp=1700000000.25)[
        :HEADER_SIZE
    ]
    documented = next(line for line in DOC.splitlines() if line.startswith("47 41 49 46"))
    assert " ".join(documented.split()) == header.hex(" ")
