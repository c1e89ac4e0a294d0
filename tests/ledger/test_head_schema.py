"""A new ledger is made from the head schema's script: the same schema the migrations build."""

from __future__ import annotations

import re
import secrets
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from eidflow.ledger import open_ledger, parse
from eidflow.ledger.connect import upgrade_schema

REWRITE = "the head schema's script is out of date: run scripts/write_head_schema.py"
# The catalog of a PostgreSQL schema, with its name left out of the definitions.
PG_CATALOG = {
    "columns": "SELECT table_name, ordinal_position, column_name, data_type,"
    " character_maximum_length, column_default, is_nullable FROM information_schema.columns"
    " WHERE table_schema = %(schema)s",
    "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = %(schema)s",
    "constraints": "SELECT t.relname, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
    " JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace"
    " WHERE n.nspname = %(schema)s",
    "sequences": "SELECT sequence_name, data_type, start_value, increment FROM"
    " information_schema.sequences WHERE sequence_schema = %(schema)s",
    "versions": "SELECT version_num FROM {schema}.alembic_version",
}


def sqlite_schema(path: Path) -> list[tuple[str, ...]]:
    connection = sqlite3.connect(path)
    try:
        return sorted(
            connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
            + connection.execute(
                "SELECT 'version', version_num, '', '' FROM alembic_version"
            ).fetchall()
        )
    finally:
        connection.close()


def test_a_new_sqlite_ledger_has_the_schema_the_migrations_build(tmp_path: Path) -> None:
    upgrade_schema(parse(f"sqlite:///{tmp_path / 'migrated.db'}"))
    open_ledger(f"sqlite:///{tmp_path / 'new.db'}").close()
    assert sqlite_schema(tmp_path / "new.db") == sqlite_schema(tmp_path / "migrated.db"), REWRITE


def test_a_new_ledger_is_made_without_alembic(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys; from eidflow.ledger import open_ledger;"
        f" open_ledger('sqlite:///{tmp_path / 'new.db'}').close();"
        " print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'sqlalchemy')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.fixture
def schemas(pg_server: str) -> Iterator[tuple[str, str]]:
    names = (f"eidflow_test_{secrets.token_hex(4)}", f"eidflow_test_{secrets.token_hex(4)}")
    with psycopg.connect(pg_server, autocommit=True) as connection:
        for name in names:
            connection.execute(f"CREATE SCHEMA {name}")
    yield names
    with psycopg.connect(pg_server, autocommit=True) as connection:
        for name in names:
            connection.execute(f"DROP SCHEMA {name} CASCADE")


def pg_schema(dsn: str, schema: str) -> dict[str, list[tuple[object, ...]]]:
    def unnamed(row: tuple[object, ...]) -> tuple[object, ...]:
        return tuple(re.sub(rf"\b{schema}\.", "", v) if isinstance(v, str) else v for v in row)

    with psycopg.connect(dsn) as connection:
        return {
            part: sorted(
                unnamed(row)
                for row in connection.execute(
                    sql.replace("{schema}", schema),  # type: ignore[arg-type]
                    {"schema": schema},
                ).fetchall()
            )
            for part, sql in PG_CATALOG.items()
        }


@pytest.mark.postgres
def test_a_new_postgresql_ledger_has_the_schema_the_migrations_build(
    pg_server: str, schemas: tuple[str, str]
) -> None:
    migrated, new = schemas
    upgrade_schema(parse(f"{pg_server}?options=-csearch_path%3D{migrated}"))
    open_ledger(f"{pg_server}?options=-csearch_path%3D{new}").close()
    assert pg_schema(pg_server, new) == pg_schema(pg_server, migrated), REWRITE


@pytest.mark.postgres
def test_first_runs_at_once_make_one_postgresql_ledger(pg_url: str) -> None:
    """Those that waited for the first one's lock find its tables and use them."""
    import threading

    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def first_run() -> None:
        start.wait()
        try:
            open_ledger(pg_url).close()
        except BaseException as error:  # collected for the assert below
            failures.append(error)

    threads = [threading.Thread(target=first_run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
