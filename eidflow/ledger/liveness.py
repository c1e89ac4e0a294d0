"""Is the process behind a live run still there?

On one host a run is identified by its pid and the process start time (so a reused
pid is not mistaken for the run), and by the boot id (so a reboot ends every run).
A run on another host cannot be checked this way; on PostgreSQL the advisory lock
each live run holds (``run_lock_key``) answers for any host.
"""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass
from pathlib import Path

# Runs begun by this process that have not ended (finish, abort or close).
LIVE_HERE: set[str] = set()

RUN_LOCK_CLASS = 0x6E1D_0002  # PostgreSQL advisory lock namespace of run locks


@dataclass(frozen=True)
class ProcessId:
    host: str
    pid: int
    start: str  # "<boot id>/<start time in clock ticks>", "" where /proc is missing


def this_process() -> ProcessId:
    return ProcessId(socket.gethostname(), os.getpid(), process_start(os.getpid()))


def process_start(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot_id = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""
    # Field 22 (starttime); the command name (field 2) may hold spaces, so split after it.
    fields = stat.rsplit(")", 1)[1].split()
    return f"{boot_id}/{fields[19]}"


def is_alive(run_id: str, owner: ProcessId) -> bool:
    """Whether the process that began ``run_id`` is still running (True when we cannot tell)."""
    me = this_process()
    if owner.host != me.host:
        return True
    if owner.pid == me.pid and owner.start == me.start:
        return run_id in LIVE_HERE
    if owner.start and me.start and owner.start.split("/")[0] != me.start.split("/")[0]:
        return False  # the machine rebooted since
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return not owner.start or process_start(owner.pid) == owner.start


def run_lock_key(run_id: str) -> int:
    """A signed 32-bit key for the run's PostgreSQL advisory lock."""
    return int.from_bytes(hashlib.sha256(run_id.encode()).digest()[:4], "big", signed=True)
