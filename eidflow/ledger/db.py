"""The ledger's database connection: sqlite3 or psycopg 3, through one small interface.

SQL is written once with ``:name`` (and ``?``) parameters; for psycopg they become
``%(name)s`` (and ``%s``). Driver errors a person can act on become eidflow errors
with the documented exit codes (``translate_errors``):

- the server gone or refusing connections, a full disk: the run stopped, exit 3;
- a file that is no ledger, a damaged one, a schema or a permission missing: exit 2.

SQLite: WAL, ``synchronous=FULL`` (a committed claim survives a power cut before any
hand-off file leaves), a busy timeout, write transactions as ``BEGIN IMMEDIATE``.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from eidflow.errors import ConfigError, EidflowError, LedgerBusy, LedgerFull, LedgerLost
from eidflow.ledger.url import LedgerUrl

SQLITE_BUSY_TIMEOUT_MS = 60_000  # a 1,000,000-row claim holds the write lock for seconds
# Page cache per connection: claims are written (and looked up) in EID order, so few
# pages are needed at once. A 1M-row claim against a ledger of 1M EIDs of the same issuer
# (interleaved) took as long with 32 MiB as with 128, and peaked 0.07-0.12 GB lower; 16 MiB
# as long again against 1M EIDs of another issuer, 5-20 MB lower (2026-12-08).
SQLITE_CACHE_KIB = 16 * 1024
CLAIM_LOCK_CLASS = 0x6E1D_0003  # PostgreSQL advisory lock namespace of claims

# SQLite result codes (``error.sqlite_errorname``) and what they mean to a person.
SQLITE_FULL = {"SQLITE_FULL", "SQLITE_IOERR_WRITE", "SQLITE_IOERR_FSYNC", "SQLITE_IOERR"}
SQLITE_NOT_A_LEDGER = {"SQLITE_NOTADB"}
SQLITE_DAMAGED = {"SQLITE_CORRUPT", "SQLITE_CORRUPT_INDEX", "SQLITE_CORRUPT_SEQUENCE"}
# PostgreSQL SQLSTATEs: a schema or permission missing (a setting), the disk full (the run).
PG_SETTING = {"3F000", "42501", "28000", "28P01", "3D000"}
PG_DISK_FULL = {"53100", "53200"}


class Connection:
    """One driver connection in autocommit mode; ``transaction`` opens one transaction."""

    def __init__(self, raw: Any, url: LedgerUrl) -> None:
        self.raw = raw
        self.url = url
        self.postgres = not url.sqlite

    def execute(self, sql: str, params: Any = None) -> Any:
        """Run one statement; returns the driver's cursor (``fetchall`` and friends)."""
        with translate_errors(self.url):
            if self.postgres:
                return self.raw.execute(pg_sql(sql), params)
            return self.raw.execute(sql, params if params is not None else ())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with translate_errors(self.url):
            if self.postgres:
                with self.raw.cursor() as cursor:
                    cursor.executemany(pg_sql(sql), rows)
            else:
                self.raw.executemany(sql, rows)

    def scalar(self, sql: str, params: Any = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    def all(self, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.execute(sql, params).fetchall()]

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """The result as dicts, by column name."""
        cursor = self.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    @contextlib.contextmanager
    def transaction(self, *, write: bool = False, claim_lock: bool = False) -> Iterator[None]:
        """One transaction; ``write``: SQLite takes the write lock at once (``BEGIN
        IMMEDIATE``); ``claim_lock``: serialised with every claim (PostgreSQL: an advisory
        lock, SQLite: the write lock)."""
        with translate_errors(self.url):
            if self.postgres:
                with self.raw.transaction():
                    if claim_lock:
                        self.raw.execute(
                            f"SELECT pg_advisory_xact_lock({CLAIM_LOCK_CLASS},"
                            " hashtext(current_schema()))"
                        )
                    yield
                return
            self.raw.execute("BEGIN IMMEDIATE" if write or claim_lock else "BEGIN")
            try:
                yield
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    self.raw.execute("ROLLBACK")
                raise
            self.raw.execute("COMMIT")

    def alive(self) -> bool:
        """Whether the session still answers (a round trip: call between transactions)."""
        try:
            self.raw.execute("SELECT 1")
        except Exception:
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.raw.close()


def connect(url: LedgerUrl) -> Connection:
    """A connection to the ledger's database (the file or server must be usable)."""
    if url.sqlite:
        return Connection(_sqlite_connect(url), url)
    return Connection(_pg_connect(url), url)


def _sqlite_connect(url: LedgerUrl) -> sqlite3.Connection:
    with translate_errors(url):
        # One ledger object is used by one thread at a time, but not always the thread that
        # opened it (a Prefect task runs in a worker thread).
        raw = sqlite3.connect(
            str(url.path),
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        try:
            raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            raw.execute("PRAGMA journal_mode = WAL")
            raw.execute("PRAGMA synchronous = FULL")
            raw.execute("PRAGMA foreign_keys = OFF")
            raw.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            raw.execute("PRAGMA temp_store = MEMORY")
        except BaseException:
            raw.close()
            raise
    return raw


def _pg_connect(url: LedgerUrl) -> Any:
    import psycopg  # only for a PostgreSQL ledger: a tenth of a second a SQLite run saves

    try:
        return psycopg.connect(url.conninfo, autocommit=True, connect_timeout=10)
    except psycopg.ProgrammingError as error:  # an unknown option in the URL, e.g. ?bogus=1
        raise ConfigError(
            f"cannot connect to the ledger at {url.shown}: {_first_line(error)}.",
            todo="Check --ledger / [ledger] url.",
        ) from None
    except psycopg.OperationalError as error:
        raise _pg_connect_error(url, error) from None


def _pg_connect_error(url: LedgerUrl, error: Exception) -> EidflowError:
    message = _first_line(error)
    if (
        any(
            text in message
            for text in (
                "could not translate host name",  # libpq
                "failed to resolve host",  # psycopg's own resolver
                "does not exist",
                "authentication failed",
            )
        )
        or getattr(error, "sqlstate", None) in PG_SETTING
    ):
        return ConfigError(
            f"cannot use the ledger at {url.shown}: {message}.",
            todo="Check --ledger / [ledger] url: the host, the database and the user.",
        )
    return LedgerLost(
        f"cannot reach the ledger at {url.shown}: {message}.",
        todo="Nothing was read or handed off. Run again once the database server is up;"
        " if it is, check the host and port in --ledger / [ledger] url.",
    )


@contextlib.contextmanager
def translate_errors(url: LedgerUrl) -> Iterator[None]:
    """Driver errors a person can act on as eidflow errors; anything else is a bug."""
    try:
        yield
    except sqlite3.Error as error:
        translated = _sqlite_error(url, error)
        if translated is None:
            raise
        raise translated from None
    except Exception as error:
        if url.sqlite or type(error).__module__.split(".")[0] != "psycopg":
            raise
        translated = _pg_error(url, error)
        if translated is None:
            raise
        raise translated from None


def _sqlite_error(url: LedgerUrl, error: sqlite3.Error) -> EidflowError | None:
    code = getattr(error, "sqlite_errorname", "") or ""
    message = _first_line(error)
    if code.startswith("SQLITE_BUSY") or "locked" in message:
        return LedgerBusy(
            f"ledger {url.path} is busy: another eidflow run has held it for more than "
            f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s.",
            todo="Wait for that run to end and run again; nothing was handed off twice.",
        )
    if code in SQLITE_FULL or "disk is full" in message or "disk I/O error" in message:
        return LedgerFull(
            f"ledger {url.path}: cannot write ({message}).",
            todo="The run stopped and handed nothing off. Free space on that disk, then run again.",
        )
    if code in SQLITE_NOT_A_LEDGER:
        return ConfigError(
            f"ledger {url.path} is not an eidflow ledger: the file is not a SQLite database.",
            todo="Point --ledger / [ledger] url at the ledger file, or at a new path to start a "
            "new ledger.",
        )
    if code in SQLITE_DAMAGED or "malformed" in message:
        return damaged(url, message)
    if code.startswith(("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")):
        return ConfigError(
            f"cannot use the ledger {url.path}: {message}.",
            todo="Check --ledger / [ledger] url, and that this user may read and write the"
            " file and its folder.",
        )
    return None


def damaged(url: LedgerUrl, message: str) -> ConfigError:
    return ConfigError(
        f"ledger {url.path} is damaged: {message}.",
        todo="Restore it from a backup (eidflow ledger restore), or point --ledger at a new"
        " path to start a new ledger.",
    )


def _pg_error(url: LedgerUrl, error: Exception) -> EidflowError | None:
    import psycopg

    code = getattr(error, "sqlstate", None)
    message = _first_line(error)
    if code in PG_DISK_FULL:
        return LedgerFull(
            f"the ledger at {url.shown} cannot write ({message}).",
            todo="The run stopped and handed nothing off. Free space on the database server,"
            " then run again.",
        )
    if code in PG_SETTING:
        return ConfigError(
            f"cannot use the ledger at {url.shown}: {message}.",
            todo="Check --ledger / [ledger] url: the schema in its search_path must exist, and "
            "its user must be allowed to create and write tables there.",
        )
    if isinstance(error, psycopg.OperationalError | psycopg.InterfaceError) or (
        code or ""
    ).startswith(("08", "57P")):
        return LedgerLost(
            f"the connection to the ledger at {url.shown} was lost ({message}).",
            todo="Run again once the database is back: a run folder without summary.json"
            " is void, and the next run settles this one.",
        )
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__).rstrip(".")


@functools.lru_cache(maxsize=256)
def pg_sql(sql: str) -> str:
    """``:name`` → ``%(name)s``, ``?`` → ``%s``, ``%`` → ``%%`` (outside quoted strings)."""
    out: list[str] = []
    for index, part in enumerate(re.split(r"('(?:[^']|'')*')", sql)):
        if index % 2:  # a quoted literal
            out.append(part.replace("%", "%%"))
            continue
        part = part.replace("%", "%%").replace("?", "%s")
        out.append(re.sub(r"(?<![:\w]):([A-Za-z_]\w*)", r"%(\1)s", part))
    return "".join(out)


def as_datetime(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives text, PostgreSQL a datetime)."""
    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
