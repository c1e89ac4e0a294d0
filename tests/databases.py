"""Databases for tests: a SQLite file per test, a fresh PostgreSQL schema per test.

The PostgreSQL server is the one on 127.0.0.1:5432 (trust auth, database ``test``);
the session fixture starts it if it is down, as ``.ci/run`` does.
"""

from __future__ import annotations

import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from eidflow.ledger import SqlLedger, open_ledger

PG_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def _pg_up() -> bool:
    try:
        with psycopg.connect(PG_DSN, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The PostgreSQL server, started if it is down."""
    if not _pg_up():
        version = sorted(path.name for path in Path("/etc/postgresql").iterdir())[-1]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=False
        )
        deadline = time.monotonic() + 30
        while not _pg_up():
            if time.monotonic() > deadline:
                pytest.fail("PostgreSQL on 127.0.0.1:5432 did not start")
            time.sleep(0.2)
    return PG_DSN


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A ledger URL on a schema of its own, dropped after the test."""
    schema = f"eidflow_test_{secrets.token_hex(4)}"
    with psycopg.connect(pg_server, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    yield f"{pg_server}?options=-csearch_path%3D{schema}"
    with psycopg.connect(pg_server, autocommit=True) as connection:
        connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def ledger(url: str) -> Iterator[SqlLedger]:
    """The ledger at ``url``, open for the test."""
    opened = open_ledger(url)
    yield opened
    opened.close()
