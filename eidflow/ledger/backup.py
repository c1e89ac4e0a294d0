"""Backing a SQLite ledger up and restoring it, through SQLite's online backup API.

A backup is a consistent copy taken while runs may be writing (the API copies page by
page and starts again if the ledger changes underneath). It is checked before it is
kept, and a restore checks the backup before it replaces anything; the ledger replaced
is kept beside it. A PostgreSQL ledger is backed up with the server's own tools.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from eidflow.errors import ConfigError
from eidflow.ledger import db, states
from eidflow.ledger.connect import HEAD_REVISION, current_revision, open_database, quick_check
from eidflow.ledger.url import LedgerUrl, sqlite_url

PG_TODO = (
    "A PostgreSQL ledger is backed up with the server's tools: pg_dump -Fc -d DB -n SCHEMA"
    " -f eidflow-ledger.dump, restored with pg_restore -d DB eidflow-ledger.dump"
    " (docs/ledger.md, 'Backup and restore')."
)


def backup(url: LedgerUrl, target: Path) -> Path:
    """Copy the ledger to ``target`` (a new file), checked; returns the file written."""
    _sqlite_only(url, "backup")
    target = target.expanduser().resolve()
    if target.exists():
        raise ConfigError(
            f"{target} exists already: a backup never overwrites a file.",
            todo="Name a new file, e.g. ledger-$(date +%Y%m%d).db.",
        )
    if not target.parent.is_dir():
        raise ConfigError(f"{target}: folder {target.parent} does not exist.", todo="Create it.")
    opened = open_database(url, create=False)
    partial = target.with_name(f".{target.name}.partial")
    try:
        _copy(opened.connection.raw, partial)
        _check_copy(partial)
        os.replace(partial, target)
    finally:
        opened.connection.close()
        partial.unlink(missing_ok=True)
    return target


def restore(url: LedgerUrl, source: Path) -> Path | None:
    """Replace the ledger with the backup ``source``; returns where the replaced ledger was
    kept (None when there was none). Refused while a run is live on the ledger."""
    _sqlite_only(url, "restore")
    source = source.expanduser().resolve()
    if not source.is_file():
        raise ConfigError(f"{source}: no such backup file.", todo="Check the path.")
    backup_url = LedgerUrl("sqlite", sqlite_url(source), path=source)
    _check_backup(backup_url)
    assert url.path is not None
    kept = None
    if url.path.exists() and url.path.stat().st_size:
        current = open_database(url, create=False)
        try:
            live = current.connection.scalar(
                "SELECT count(*) FROM runs WHERE state = :live", {"live": states.LIVE}
            )
            if live:
                raise ConfigError(
                    f"ledger {url.path} has {live} run(s) still live: a restore now would lose"
                    " what they hand off.",
                    todo="Wait for them to end (eidflow history), then restore.",
                )
            kept = url.path.with_name(
                f"{url.path.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
            )
            _copy(current.connection.raw, kept)
        finally:
            current.connection.close()
    with contextlib.closing(sqlite3.connect(str(source))) as backup_file:
        target = db.connect(url)
        try:
            backup_file.backup(target.raw)
        finally:
            target.close()
    return kept


def _sqlite_only(url: LedgerUrl, verb: str) -> None:
    if not url.sqlite:
        raise ConfigError(f"eidflow ledger {verb} works on a SQLite ledger.", todo=PG_TODO)


def _copy(raw: sqlite3.Connection, path: Path) -> None:
    with contextlib.closing(sqlite3.connect(str(path))) as copy:
        raw.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _read_only(url: LedgerUrl) -> db.Connection:
    """A connection that leaves the file as it is (no journal mode set, nothing written)."""
    with db.translate_errors(url):
        raw = sqlite3.connect(f"file:{url.path}?mode=ro", uri=True, isolation_level=None)
    return db.Connection(raw, url)


def _check_copy(path: Path) -> None:
    url = LedgerUrl("sqlite", sqlite_url(path), path=path)
    connection = _read_only(url)
    try:
        quick_check(connection, url)
    finally:
        connection.close()


def _check_backup(url: LedgerUrl) -> None:
    """The backup is a sound eidflow ledger this eidflow can read."""
    connection = _read_only(url)
    try:
        revision = current_revision(connection)
        if revision is None:
            raise ConfigError(
                f"{url.path} is not an eidflow ledger backup.", todo="Check the file."
            )
        if not (revision.isdigit() and revision <= HEAD_REVISION):
            raise ConfigError(
                f"{url.path} is a ledger of schema revision {revision!r}, which this eidflow"
                f" does not know (it knows up to {HEAD_REVISION}).",
                todo="Restore it with the eidflow that wrote it.",
            )
        quick_check(connection, url)
    finally:
        connection.close()
