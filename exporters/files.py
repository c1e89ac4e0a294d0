"""Atomic file writes: a file is either complete under its final name or absent.

Each writer writes to a temporary name in the same folder, flushes and fsyncs it,
then renames it over the final name (``os.replace`` is atomic on POSIX), and fsyncs
the folder so the rename survives a power cut.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any


def _umask() -> int:
    """The process umask, read without changing it (Linux); else 0o022."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


@dataclass(frozen=True)
class OutputFile:
    """A file a run wrote: where (relative to the run folder), how many data rows, its sha256."""

    path: str
    rows: int
    sha256: str
    kind: str = ""  # operator, entra, decisions, report, receipt

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@contextlib.contextmanager
def atomic_path(final: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; on success fsync it and rename it to ``final``."""
    final.parent.mkdir(parents=True, exist_ok=True)
    # ".{name}.XXXXXXXX.tmp" is 14 bytes longer than the name: cut so that a name at the
    # file system's limit (255 bytes) still gets a temporary name.
    stem = final.name.encode()[: 255 - 14].decode(errors="ignore")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=final.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; hand-off files are for others too
        os.replace(tmp, final)
        _fsync_dir(final.parent)
    finally:
        tmp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_open(final: Path, mode: str = "w", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file for writing that becomes ``final`` only when closed without error."""
    with atomic_path(final) as tmp, tmp.open(mode, **kwargs) as handle:
        yield handle


def write_bytes_atomic(final: Path, data: bytes) -> str:
    """Write ``data`` atomically and return its sha256."""
    with atomic_path(final) as tmp:
        tmp.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
