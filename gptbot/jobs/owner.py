"""Which process runs a job, and whether that process still exists.

A running job records its owner: "<boot id>/<pid namespace>/<pid>/<start time>" on Linux,
which names one process of one machine (or container) for good — a pid reused later has
another start time. A worker that sees a running job whose owner shares its boot and pid
namespace but no longer exists (or is a zombie) knows that process died, and re-runs the job
at once instead of waiting for the lease. For any other owner (another machine, another
container, no /proc) only the lease can tell, and `owner_is_dead` says False.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

PROC = Path("/proc")
_GONE = ("Z", "X")  # zombie, dead: killed and not yet reaped is as dead as gone


@functools.cache
def current_owner() -> str:
    """This process; "" where processes cannot be named this way."""
    here, started = _namespace(), _start_time(os.getpid())
    if not here or started is None:
        return ""
    return f"{here}/{os.getpid()}/{started}"


def owner_is_dead(owner: str) -> bool:
    """True only when certain: the owner is of this machine's pid space and is gone."""
    parts = owner.rsplit("/", 2)
    if len(parts) != 3 or not parts[1].isdigit() or parts[0] != _namespace():
        return False
    return _start_time(int(parts[1])) != parts[2]


@functools.cache
def _namespace() -> str:
    try:
        boot = (PROC / "sys/kernel/random/boot_id").read_text().strip()
        return f"{boot}/{os.readlink(PROC / 'self/ns/pid')}"
    except OSError:
        return ""


def _start_time(pid: int) -> str | None:
    """The process's start time (clock ticks after boot); None when it is gone or a zombie."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[-1].split()  # after "pid (command name)"
    if len(fields) < 20 or fields[0] in _GONE:
        return None
    return fields[19]
