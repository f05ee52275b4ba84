"""What the benchmarks read from ``/proc`` (Linux): CPU seconds, parents, memory, the model process.

Elsewhere (no ``/proc``) every reader answers None, 0 or an empty mapping.
"""

from __future__ import annotations

import contextlib
import os


def stat_fields(path: str) -> list[str] | None:
    """The fields of a ``/proc/.../stat`` after the command name (field 4 first), or None if it is gone."""
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def cpu_seconds(fields: list[str] | None) -> float:
    """User + system CPU seconds of a ``stat`` (0 when gone)."""
    if fields is None:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def parent_pid(pid: int) -> int | None:
    """A process's parent, or None if it is gone."""
    fields = stat_fields(f"/proc/{pid}/stat")
    return int(fields[1]) if fields is not None else None


def process_cpu_seconds(pid: int, children: bool = True) -> float:
    """CPU seconds so far of a process and (``children``) of its children (a model process)."""
    total = cpu_seconds(stat_fields(f"/proc/{pid}/stat"))
    if children:
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
            fields = stat_fields(f"/proc/{entry}/stat") if entry.isdigit() else None
            if fields is not None and int(fields[1]) == pid:
                total += cpu_seconds(fields)
    return total


def threads_cpu_seconds(pid: int) -> dict[str, float]:
    """CPU seconds of each live thread name of a process (threads that ended are not counted)."""
    by_name: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/comm", encoding="utf-8", errors="replace") as handle:
                    name = handle.read().strip()
            except OSError:
                continue
            by_name[name] = by_name.get(name, 0.0) + cpu_seconds(stat_fields(f"/proc/{pid}/task/{tid}/stat"))
    return by_name


def model_process_pid(server_pid: int) -> int | None:
    """The server's behaviour model child process (``python -m gameai.runtime.model_process``)."""
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not entry.isdigit() or parent_pid(int(entry)) != server_pid:
            continue
        with contextlib.suppress(OSError), open(f"/proc/{entry}/cmdline", "rb") as handle:
            if b"gameai.runtime.model_process" in handle.read():
                return int(entry)
    return None


def rss_mb(pid: int) -> float | None:
    """VmRSS of a process, MB, or None."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        return None
    return None
