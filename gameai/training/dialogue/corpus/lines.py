"""Parse the written line banks: ``assets/dialogue/voices/*.txt`` and ``lines/player.txt``.

File format: ``[section key]`` headers, then one line per entry; blank lines and lines
starting with ``#`` are skipped. Section kinds:

- ``[slot NAME]``: fillers for ``{NAME}`` in this file's other lines.
- ``[player INTENT]``: what a player says (``lines/player.txt``).
- ``[speech train]``, ``[speech heldout]``: a voice's ``speech`` texts (for training, for evaluation).
- ``[reply INTENT]``, ``[answer opener|closer]``, ``[mood MOOD]``, ``[behaviour unknown]`` (asked
  how they play before any behaviour is recognised), ``[event SITUATION]``: a voice's reply parts
  (see :mod:`gameai.training.dialogue.corpus.generate`). What a voice says about a recognised
  behaviour is the game's sentence, pointed at, never a line of the bank.

A voice's file is named after the voice; every file in ``voices/`` is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

_HEADER = re.compile(r"^\[(\w+) (\w+)\]$")
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass
class LineBank:
    """The written lines of one file: ``sections[(kind, key)] -> lines``."""

    name: str
    """File stem: ``player`` or a voice name."""
    sections: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """Lines by (kind, key), in file order."""

    def get(self, kind: str, key: str) -> list[str]:
        """The lines of one section; empty when the file has none."""
        return self.sections.get((kind, key), [])

    def keys(self, kind: str) -> list[str]:
        """Keys of every section of one kind, in file order."""
        return [k for (c, k) in self.sections if c == kind]

    def fill(self, line: str, rng: np.random.Generator) -> str:
        """Replace each ``{slot}`` in ``line`` with a random filler of this bank.

        Raises:
            KeyError: If the bank has no ``[slot NAME]`` section for a slot used.
        """

        def pick(match: re.Match[str]) -> str:
            fillers = self.sections[("slot", match.group(1))]
            return fillers[int(rng.integers(len(fillers)))]

        return _SLOT.sub(pick, line)


def parse_lines(text: str, name: str) -> LineBank:
    """Parse one line-bank file's text.

    Raises:
        ValueError: On a line before the first header or a malformed header.
    """
    bank = LineBank(name)
    current: list[str] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            match = _HEADER.match(line)
            if match is None:
                raise ValueError(f"{name}:{number}: bad section header {line!r}")
            current = bank.sections.setdefault((match.group(1), match.group(2)), [])
        elif current is None:
            raise ValueError(f"{name}:{number}: line before any [section]")
        else:
            current.append(line)
    # A section may be empty on purpose ([player silence]): keep it present.
    return bank


def load_banks(directory: Path) -> dict[str, LineBank]:
    """Every ``*.txt`` bank in ``directory``, keyed by file stem."""
    return {
        path.stem: parse_lines(path.read_text(encoding="utf-8"), path.stem)
        for path in sorted(directory.glob("*.txt"))
    }
