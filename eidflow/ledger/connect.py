"""From a ledger URL to an engine at the head schema revision.

``sqlite:///path`` (a file; WAL, ``synchronous=FULL``, a busy timeout, write
transactions as ``BEGIN IMMEDIATE``) or ``postgresql://…`` (psycopg 3). The schema is
upgraded here, under a lock, so that concurrent first runs do not race.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, inspect, make_url
from sqlalchemy.engine import URL

from eidflow.errors import ConfigError, LedgerBusy, LedgerLost

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. A ledger already there opens without importing Alembic (half a
# second of a 20-row run); tests/ledger checks that this is Alembic's head.
HEAD_REVISION = "0007"
WRITE = "eidflow_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)
SQLITE_BUSY_TIMEOUT_MS = 60_000  # a 1,000,000-row claim holds the write lock for a few seconds
# Page cache per connection. Claims are written in EID order, so a 1,000,000-row claim
# needs far fewer pages at hand than 256 MiB; 128 MiB is as fast on a 2M-device ledger
# and takes 150 MB off a 1M-row ingest's peak RSS.
SQLITE_CACHE_KIB = 128 * 1024
MIGRATION_LOCK = 0x6E1D_0001  # PostgreSQL advisory lock key (int4 pair with the schema hash)


def ledger_url(url: str) -> URL:
    """Parse and check the URL; ``postgresql://`` means psycopg 3."""
    try:
        parsed = make_url(url)
    except (exc.ArgumentError, ValueError):  # ValueError: a port that is not a number, a lone [
        raise ConfigError(
            f"ledger URL {_masked(url)!r} is not a valid URL.",
            todo="Use sqlite:///path/to/ledger.db or postgresql://user@host:5432/db "
            "(the port is a number, an IPv6 host goes in [brackets]).",
        ) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigError(
                f"ledger URL {describe(parsed)!r} names no file: "
                "an in-memory ledger forgets every hand-off.",
                todo="Use sqlite:///path/to/ledger.db.",
            )
        folder = Path(parsed.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise ConfigError(
                f"ledger {parsed.database}: folder {folder} does not exist.",
                todo="Create it, or point --ledger elsewhere.",
            )
        return parsed.set(drivername="sqlite")
    raise ConfigError(
        f"ledger URL {describe(parsed)!r}: unsupported database {backend!r}.",
        todo="Use sqlite:///path or postgresql://user@host/db.",
    )


def create_ledger_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy emit BEGIN itself (sqlite3's legacy mode would defer it), see _sqlite_on_begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    # FULL: a committed claim survives a power cut, before any hand-off file is written.
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store = MEMORY")
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def describe(url: URL) -> str:
    """The URL as the user wrote it (``postgresql://``, not the driver's name), no password."""
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def _masked(url: str) -> str:
    """A URL that may not parse, with its password (if any) replaced by ``***``."""
    scheme, separator, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not (separator and at and ":" in credentials):
        return url
    return f"{scheme}://{credentials.split(':', 1)[0]}:***@{host}"


def check_connection(engine: Engine) -> None:
    """Connect once, so that a URL or file that is no ledger fails as a ConfigError naming it."""
    try:
        with translate_errors(engine.url):
            engine.connect().close()
    except exc.DBAPIError as error:  # what translate_errors leaves, e.g. ?bogus=1 in the URL
        raise ConfigError(
            f"cannot connect to the ledger at {describe(engine.url)}: {_first_line(error)}.",
            todo="Check --ledger / [ledger] url.",
        ) from None


@contextlib.contextmanager
def translate_errors(url: URL) -> Iterator[None]:
    """Turn driver errors a user can act on into ConfigError / LedgerBusy."""
    sqlite = url.get_backend_name() == "sqlite"
    try:
        yield
    except exc.OperationalError as error:
        message = _first_line(error)
        if not sqlite and error.connection_invalidated:  # it was there, then went away
            raise LedgerLost(
                f"the connection to the ledger at {describe(url)} was lost ({message}).",
                todo="Run again once the database is back: a run folder without summary.json"
                " is void, and the next run settles this one.",
            ) from None
        if sqlite and "locked" in message:
            raise LedgerBusy(
                f"ledger {url.database} is busy: another eidflow run has held it for more than "
                f"{SQLITE_BUSY_TIMEOUT_MS // 1000} s.",
                todo="Wait for that run to end and run again; nothing was handed off twice.",
            ) from None
        raise ConfigError(
            f"cannot use the ledger at {describe(url)}: {message}.",
            todo="Check --ledger / [ledger] url"
            + ("." if sqlite else ", and that the database server is running."),
        ) from None
    except exc.DatabaseError as error:
        user_error = _user_error(url, error)
        if user_error is None:
            raise
        raise user_error from None


def _user_error(url: URL, error: exc.DatabaseError) -> ConfigError | None:
    """The ConfigError for a database error a user can act on, None for an eidflow bug."""
    code = getattr(error.orig, "sqlite_errorname", None) or getattr(error.orig, "sqlstate", None)
    if code == "SQLITE_NOTADB":
        return ConfigError(
            f"ledger {url.database} is not an eidflow ledger: the file is not a SQLite database.",
            todo="Point --ledger / [ledger] url at the ledger file, or at a new path to start a "
            "new ledger.",
        )
    if code == "SQLITE_CORRUPT":
        return ConfigError(
            f"ledger {url.database} is damaged: {_first_line(error)}.",
            todo="Restore it from a backup, or point --ledger at a new path to start a new ledger.",
        )
    # PostgreSQL: the schema in the URL's search_path does not exist; the user may not write.
    if code in ("3F000", "42501"):
        return ConfigError(
            f"cannot use the ledger at {describe(url)}: {_first_line(error)}.",
            todo="Check --ledger / [ledger] url: the schema in its search_path must exist, and "
            "its user must be allowed to create and write tables there.",
        )
    return None


def _first_line(error: exc.DBAPIError) -> str:
    return str(error.orig or error).strip().splitlines()[0].rstrip(".")


def upgrade_schema(engine: Engine, revision: str = "head") -> None:
    """Bring the ledger to ``revision`` (no-op when it is there already), under a lock."""
    current = current_revision(engine)
    if revision in ("head", HEAD_REVISION) and current == HEAD_REVISION:
        return
    from alembic import command  # imported only when there is something to migrate
    from alembic.script import ScriptDirectory

    known = {
        script.revision
        for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    }
    if current is not None and current not in known:
        raise _unknown_revision(engine.url, current)
    with engine.connect().execution_options(**{WRITE: True}) as connection, connection.begin():
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql(
                f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK}, hashtext(current_schema()))"
            )
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _unknown_revision(url: URL, revision: str) -> ConfigError:
    where = url.database if url.get_backend_name() == "sqlite" else describe(url)
    if revision.isdigit() and revision > HEAD_REVISION:
        return ConfigError(
            f"ledger {where} was written by a newer eidflow (schema revision {revision}; this "
            f"eidflow knows up to {HEAD_REVISION}).",
            todo="Run the newer eidflow that wrote it (upgrade this one).",
        )
    return ConfigError(
        f"ledger {where} is not an eidflow ledger: its database belongs to another application "
        f"(Alembic revision {revision!r}).",
        todo="Point --ledger / [ledger] url at the eidflow ledger, or at a new path (SQLite) or "
        "an empty database or schema (PostgreSQL) to start a new ledger.",
    )


def current_revision(engine: Engine) -> str | None:
    """The ledger's schema revision, or None for a new (empty) database."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return str(row[0]) if row else None


def head_revision() -> str:
    """Alembic's own idea of the newest migration (for the test that holds HEAD_REVISION)."""
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_alembic_config()).get_current_head())


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    return config
