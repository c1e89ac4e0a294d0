"""From a ledger URL to a connection at the head schema revision.

A ledger already at the head revision opens with the driver alone, and a new one is made
by the driver from the head schema's script (``migrations/head-*.sql``); Alembic (and the
SQLAlchemy it runs on) is imported only when an older ledger is upgraded. What is not a ledger is
refused here with one line naming it: an empty file, a file that is no SQLite database,
a damaged one (a bounded ``PRAGMA quick_check``), another application's database, a
ledger written by a newer eidflow.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eidflow.errors import ConfigError
from eidflow.ledger import db
from eidflow.ledger.url import LedgerUrl

LOG = logging.getLogger("eidflow.ledger")
MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration; tests/ledger checks that this is Alembic's head.
HEAD_REVISION = "0014"
MIGRATION_LOCK = 0x6E1D_0001  # PostgreSQL advisory lock key (int4 pair with the schema hash)
# A quick check reads every page: about 0.1 s per 100 MB here. It stops after this long
# (a ledger of several GB is checked in part rather than holding every run for seconds).
QUICK_CHECK_SECONDS = 2.0
PG_VERSION_TABLE_MADE = (
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
    " ON n.oid = c.relnamespace WHERE c.relname = 'alembic_version'"
    " AND n.nspname = current_schema())"
)


@dataclass
class Opened:
    connection: db.Connection
    created: bool  # the ledger did not exist before: it was created now


def open_database(url: LedgerUrl, *, create: bool) -> Opened:
    """Connect, refuse what is not a ledger, and bring it to the head revision.

    ``create=False`` (commands that only ask) refuses a place holding no ledger yet,
    rather than create one there.
    """
    created = False
    if url.sqlite:
        _await_early_check(url)
        _check_file(url, create)
        created = _create_sqlite(url)
    connection = db.connect(url)
    try:
        revision = current_revision(connection)
        if revision is None:
            _refuse_new(connection, url, create)
            created = True
        elif url.sqlite and not created and not _found_sound(url):
            quick_check(connection, url)
            _FOUND_SOUND[_file_state(url)] = time.monotonic()
        if revision != HEAD_REVISION:
            _check_known(url, revision)
            if revision is not None or not create_at_head(connection):
                upgrade_schema(url)
    except BaseException:
        connection.close()
        raise
    return Opened(connection, created=created)


def _create_sqlite(url: LedgerUrl) -> bool:
    """A new SQLite ledger appears whole: built under a temporary name, then linked into
    place (``os.link`` fails if the name exists). So a run never meets a half-made ledger,
    and an empty file at the ledger's path is never one being made: it is refused.
    False when the ledger exists already, or another run made it first."""
    path = url.path
    assert path is not None
    if path.exists():
        return False
    draft = path.with_name(f".{path.name}.new-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        draft_url = LedgerUrl("sqlite", f"sqlite:///{draft}", path=draft)
        connection = db.connect(draft_url)  # WAL set in its header
        try:
            create_at_head(connection)
        finally:
            connection.close()  # the last close folds the WAL in
        try:
            os.link(draft, path)
        except FileExistsError:
            return False
        except OSError:  # a file system without hard links: a rename, checked first
            if path.exists():
                return False
            os.rename(draft, path)
        return True
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            draft.with_name(draft.name + suffix).unlink(missing_ok=True)


def _check_file(url: LedgerUrl, create: bool) -> None:
    path = url.path
    assert path is not None
    if not path.exists():
        if not create:
            raise ConfigError(
                f"no ledger at {path}.",
                todo="Check --ledger / [ledger] url; eidflow ingest creates the ledger.",
            )
        return
    if not path.is_file():
        raise ConfigError(
            f"ledger {path} is a folder, not a ledger file.",
            todo="Point --ledger / [ledger] url at the ledger file.",
        )
    if path.stat().st_size == 0:
        raise ConfigError(
            f"ledger {path} is an empty file (0 bytes), not a ledger: its history is not there.",
            todo="Restore the ledger from a backup (eidflow ledger restore), or delete the empty"
            " file to start a new ledger on purpose.",
        )


def _refuse_new(connection: db.Connection, url: LedgerUrl, create: bool) -> None:
    if not create:
        raise ConfigError(
            f"no ledger at {url.where}: the database holds no eidflow ledger yet.",
            todo="Check --ledger / [ledger] url; eidflow ingest creates the ledger.",
        )
    if url.sqlite and connection.all("SELECT name FROM sqlite_master WHERE type = 'table'"):
        raise ConfigError(
            f"ledger {url.path} is not an eidflow ledger: the SQLite database holds another"
            " application's tables.",
            todo="Point --ledger / [ledger] url at the eidflow ledger, or at a new path to start"
            " a new ledger.",
        )


def _check_known(url: LedgerUrl, revision: str | None) -> None:
    """An older eidflow revision upgrades; anything else is not this eidflow's to touch."""
    ours = revision is not None and revision.isdigit() and len(revision) == len(HEAD_REVISION)
    if revision is None or (ours and revision <= HEAD_REVISION):
        return
    if ours:
        raise ConfigError(
            f"ledger {url.where} was written by a newer eidflow (schema revision {revision}; "
            f"this eidflow knows up to {HEAD_REVISION}).",
            todo="Run the newer eidflow that wrote it (upgrade this one).",
        )
    raise ConfigError(
        f"ledger {url.where} is not an eidflow ledger: its database belongs to another"
        f" application (Alembic revision {revision!r}).",
        todo="Point --ledger / [ledger] url at the eidflow ledger, or at a new path (SQLite) or "
        "an empty database or schema (PostgreSQL) to start a new ledger.",
    )


def current_revision(connection: db.Connection) -> str | None:
    """The ledger's schema revision, or None for a new (empty) database."""
    if connection.postgres:
        exists = connection.scalar("SELECT to_regclass('alembic_version') IS NOT NULL")
    else:
        exists = connection.scalar(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        )
    if not exists:
        return None
    value = connection.scalar("SELECT version_num FROM alembic_version")
    return str(value) if value is not None else None


# The SQLite ledgers this process found sound in the last minute, as their files were
# then: opened again unchanged (ingest's "ingested already?" look, then its run), one check
# is enough. A file written since (its size or time) is checked again, as is any after a
# minute (a long-lived process, `eidflow serve`, checks at each run).
_FOUND_SOUND: dict[tuple[object, ...], float] = {}
SOUND_FOR_SECONDS = 60.0


def _file_state(url: LedgerUrl) -> tuple[object, ...]:
    """The ledger file as it is now: where, which file, its size and time."""
    assert url.path is not None
    found = Path(url.path).stat()
    return (
        str(Path(url.path).resolve()),
        found.st_dev,
        found.st_ino,
        found.st_size,
        found.st_mtime_ns,
    )


def _found_sound(url: LedgerUrl) -> bool:
    checked = _FOUND_SOUND.get(_file_state(url))
    return checked is not None and time.monotonic() - checked < SOUND_FOR_SECONDS


# Quick checks started early (``check_soon``), by the ledger file's resolved path.
_CHECKING: dict[str, threading.Thread] = {}


def check_soon(url: LedgerUrl) -> None:
    """Start the quick check of an existing SQLite ledger now, in the background, so that
    it reads the file while the run imports its libraries (sqlite3 lets go of the
    interpreter while it reads pages; 0.33 s on a ledger of 1M EIDs). ``open_database``
    waits for it; where it did not find the file sound (damaged, busy, changed since: any
    reason), ``open_database`` checks again itself and says why."""
    if not url.sqlite or url.path is None:
        return
    try:
        state = _file_state(url)
    except OSError:
        return  # no ledger yet: nothing to check
    key = str(state[0])
    if not state[3] or _found_sound(url) or key in _CHECKING:
        return
    thread = threading.Thread(
        target=_check_quietly, args=(url, state), name="eidflow-quick-check", daemon=True
    )
    _CHECKING[key] = thread
    thread.start()


def _check_quietly(url: LedgerUrl, state: tuple[object, ...]) -> None:
    """The early check, read-only: the file as found when it started is sound, or nothing
    is recorded."""
    try:
        raw = sqlite3.connect(f"file:{url.path}?mode=ro", uri=True, check_same_thread=False)
    except sqlite3.Error:
        return
    try:
        quick_check(db.Connection(raw, url), url)
    except Exception:  # open_database checks again and says why
        return
    finally:
        raw.close()
    _FOUND_SOUND[state] = time.monotonic()


def _await_early_check(url: LedgerUrl) -> None:
    """Wait for the early check of this ledger, if one was started."""
    assert url.path is not None
    thread = _CHECKING.pop(str(Path(url.path).resolve()), None)
    if thread is not None:
        thread.join()


def quick_check(connection: db.Connection, url: LedgerUrl) -> None:
    """Refuse a damaged SQLite ledger before a run trusts it (bounded in time)."""
    # Stopped by a timer rather than a progress handler: a handler is Python, and each call
    # waited for the interpreter while the run imported its libraries (a 150 MB ledger's
    # 320 calls made a 0.4 s check take 1 s).
    deadline = threading.Timer(QUICK_CHECK_SECONDS, connection.raw.interrupt)
    deadline.daemon = True
    deadline.start()
    try:
        found = connection.all("PRAGMA quick_check(1)")
    except ConfigError:
        raise
    except Exception as error:  # interrupted at the deadline: the part read was sound
        if "interrupt" not in str(error):
            raise
        LOG.info("ledger %s: quick check stopped after %.0f s", url.where, QUICK_CHECK_SECONDS)
        return
    finally:
        deadline.cancel()
        deadline.join()  # an interrupt under way lands before the connection is used again
    if found and found[0][0] != "ok":
        raise db.damaged(url, str(found[0][0]))


def create_at_head(connection: db.Connection) -> bool:
    """Make a new ledger's tables from the head schema's script, in one transaction; under
    the migration lock on PostgreSQL (concurrent first runs). False when the database
    holds a ledger by then (another run made it first): nothing was done."""
    backend = "postgresql" if connection.postgres else "sqlite"
    script = (MIGRATIONS / f"head-{backend}.sql").read_text(encoding="utf-8")
    with connection.transaction(write=True):
        if connection.postgres:
            connection.execute(
                f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK}, hashtext(current_schema()))"
            )
            # Asked of the catalog's rows: to_regclass reads a cache that can still miss a
            # table another run committed while this one waited for the lock.
            if connection.scalar(PG_VERSION_TABLE_MADE):
                return False
        elif current_revision(connection) is not None:
            return False
        if connection.postgres:
            connection.raw.execute(script)  # no parameters: many statements, one round trip
        else:
            for statement in script.split(";\n\n"):  # how the script ends each statement
                connection.raw.execute(statement)
    return True


def upgrade_schema(url: LedgerUrl, revision: str = "head") -> None:
    """Bring the ledger to ``revision`` with Alembic, under a lock (concurrent first runs)."""
    from alembic import command

    engine = migration_engine(url)
    try:
        with engine.connect() as connection, db.translate_errors(url), connection.begin():
            if not url.sqlite:
                connection.exec_driver_sql(
                    f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK}, hashtext(current_schema()))"
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except Exception as error:
        translated = _sqlalchemy_error(url, error)
        if translated is None:
            raise
        raise translated from None
    finally:
        engine.dispose()


def migration_engine(url: LedgerUrl) -> Any:
    """A SQLAlchemy engine on the ledger for Alembic: on SQLite every transaction takes the
    write lock at its start (``BEGIN IMMEDIATE``), so a migration is one transaction and
    two first runs cannot both apply it."""
    from sqlalchemy import create_engine, event

    engine = create_engine(
        sqlalchemy_url(url),
        connect_args={"timeout": db.SQLITE_BUSY_TIMEOUT_MS / 1000} if url.sqlite else {},
    )
    if url.sqlite:

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself

        def on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        event.listen(engine, "connect", on_connect)
        event.listen(engine, "begin", on_begin)
    return engine


def _sqlalchemy_error(url: LedgerUrl, error: Exception) -> Exception | None:
    """A driver error wrapped by SQLAlchemy, translated like the driver's own."""
    original = getattr(error, "orig", None)
    if not isinstance(original, Exception):
        return None
    try:
        with db.translate_errors(url):
            raise original
    except Exception as translated:
        return translated if translated is not original else None


def sqlalchemy_url(url: LedgerUrl) -> str:
    """The same database as a SQLAlchemy URL (for Alembic and the tests' tools)."""
    if url.sqlite:
        return f"sqlite:///{url.path}"
    return "postgresql+psycopg://" + url.conninfo.partition("://")[2]


def head_revision() -> str:
    """Alembic's own idea of the newest migration (for the test that holds HEAD_REVISION)."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(alembic_config()).get_current_head())


def alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config
