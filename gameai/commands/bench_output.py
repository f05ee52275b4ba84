"""What every ``gameai bench ...`` command shares: ``--json`` / ``--output`` and printing the report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--json`` (print only the JSON) and ``--output FILE`` (also write it there)."""
    parser.add_argument("--json", action="store_true", help="print only the JSON document")
    parser.add_argument("--output", default=None, help="also write the JSON to this file")


def print_report(report: dict[str, Any], args: argparse.Namespace, heading: str) -> int:
    """Write the report to ``args.output`` if given and print it, after ``heading`` unless ``--json``.

    Returns:
        The command's exit status (0).
    """
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    if not args.json:
        print(f"# {heading}")
    print(text)
    return 0
