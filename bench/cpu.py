"""CPU time spent by processes, read from /proc (Linux): where a benchmark's seconds went."""

from __future__ import annotations

import os
from pathlib import Path

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _stat_fields(stat: str) -> list[str]:
    # The command name sits in parentheses and may hold spaces: count fields after it.
    return stat[stat.rfind(")") + 2 :].split()


def process_seconds(pid: int) -> float:
    """User and system CPU seconds of one live process (0 once it is gone)."""
    try:
        fields = _stat_fields(Path(f"/proc/{pid}/stat").read_text())
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND


def seconds_of_command(command: str) -> float:
    """CPU seconds of every live process with this command name (PostgreSQL's backends)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if text[text.find("(") + 1 : text.rfind(")")] == command:
            fields = _stat_fields(text)
            total += (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND
    return total


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has been busy (all cores, anything but idle and I/O wait)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = (
        int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND
