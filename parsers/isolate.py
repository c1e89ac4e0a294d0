"""Run the workbook reader in a forked child, so that a hostile workbook cannot take eidflow down.

python-calamine builds each sheet as a dense rectangle from its first to its last
value cell: a 2 kB XLSX with values in A1 and XFD1048576 asks for 17 billion cells,
and the allocation failure aborts the process (no Python exception; python-calamine
issue #130). In a child with a capped address space and a deadline, such a file
costs one ManifestError instead of the run. The child returns plain Python data
through a pipe; the parent builds the frames.

Where ``os.fork`` does not exist the reader runs in-process.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import pickle
import resource
import select
import signal
import tempfile
import time
import traceback
from collections.abc import Callable
from typing import IO, Any, TypeVar

from eidflow.errors import ManifestError

Result = TypeVar("Result")
_READ_BLOCK = 1 << 20


class ReaderStopped(Exception):
    """The child died (memory cap, abort, signal) or overran its deadline."""


def run_isolated(
    work: Callable[..., Result], *args: Any, memory_bytes: int, seconds: float
) -> Result:
    """``work(*args)`` in a forked child limited to ``memory_bytes`` more address space."""
    if not hasattr(os, "fork"):
        return work(*args)
    read_end, write_end = os.pipe()
    with tempfile.TemporaryFile() as stderr:
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            _quiet(stderr.fileno())
            _child(work, args, write_end, memory_bytes)
        os.close(write_end)
        try:
            payload = _read_all(read_end, seconds)
        except BaseException:  # the deadline, or an interrupt: no child outlives its reader
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _reap(pid)
            raise
        finally:
            os.close(read_end)
        status = _reap(pid)
        if not payload:
            raise ReaderStopped(_describe(status, _first_line(stderr)))
    kind, value = pickle.loads(payload)
    if kind == "ok":
        return value
    if kind == "manifest_error":
        raise ManifestError(**value)
    raise RuntimeError(f"workbook reader failed in its child process:\n{value}")


def _child(
    work: Callable[..., Any], args: tuple[Any, ...], write_end: int, memory_bytes: int
) -> None:
    code = 0
    try:
        _cap_memory(memory_bytes)
        try:
            payload = pickle.dumps(("ok", work(*args)), protocol=pickle.HIGHEST_PROTOCOL)
        except ManifestError as error:
            fields = {
                "file": error.file,
                "what": error.what,
                "todo": error.todo,
                "sheet": error.sheet,
                "row": error.row,
            }
            payload = pickle.dumps(("manifest_error", fields))
        except BaseException:
            payload = pickle.dumps(("bug", traceback.format_exc()))
        view = memoryview(payload)
        while view:
            written = os.write(write_end, view)
            view = view[written:]
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _quiet(stderr_fd: int) -> None:
    """The child's stderr goes to a file the parent reads (Rust prints why it aborted there)."""
    faulthandler.disable()
    os.dup2(stderr_fd, 2)


def _first_line(stderr: IO[bytes]) -> str:
    stderr.seek(0)
    lines = stderr.read(2048).decode("utf-8", "replace").splitlines()
    return next((line.strip() for line in lines if line.strip()), "")


def _cap_memory(extra_bytes: int) -> None:
    """Address space of now plus ``extra_bytes``: a larger allocation fails in the child only."""
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = _address_space() + extra_bytes
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _address_space() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _read_all(fd: int, seconds: float) -> bytes:
    deadline = time.monotonic() + seconds
    parts: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise ReaderStopped(f"it took longer than {seconds:g} s")
        poller = select.poll()  # not select(): descriptors above 1024 are fine
        poller.register(fd, select.POLLIN | select.POLLHUP)
        if not poller.poll(max(1, int(left * 1000))):
            continue
        block = os.read(fd, _READ_BLOCK)
        if not block:
            return b"".join(parts)
        parts.append(block)


def _reap(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return status


def _describe(status: int, said: str) -> str:
    because = f": {said[:200]}" if said else ""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in set(signal.Signals) else str(number)
        return (
            f"the workbook reader was stopped by {name}{because} "
            "(a sheet spanning more cells than memory allows, or a damaged file)"
        )
    return f"the workbook reader exited with status {os.WEXITSTATUS(status)}{because}"
