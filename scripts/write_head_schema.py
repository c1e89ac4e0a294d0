"""Write the ledger's schema at the head revision, as the migrations build it, to
``eidflow/ledger/migrations/head-sqlite.sql`` and ``head-postgresql.sql``.

A new ledger is made from these scripts without Alembic (half a second to a second of
every first run); an existing one is still upgraded by the migrations. Run this after
adding a migration; ``tests/ledger/test_head_schema.py`` fails until it has been run.

    .venv/bin/python scripts/write_head_schema.py [--pg postgresql://postgres@127.0.0.1:5432/test]

The PostgreSQL script is ``pg_dump --schema-only`` of a schema the migrations built, with
the schema's name taken out (a ledger's schema is the first of its ``search_path``).
"""

from __future__ import annotations

import argparse
import re
import secrets
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from eidflow.ledger import parse  # noqa: E402
from eidflow.ledger.connect import HEAD_REVISION, MIGRATIONS, upgrade_schema  # noqa: E402

HEADER = (
    "-- The ledger's schema at revision {revision}, as its migrations build it"
    " (scripts/write_head_schema.py wrote this file; do not edit it).\n"
)


def sqlite_script() -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "head.db"
        upgrade_schema(parse(f"sqlite:///{path}"))
        connection = sqlite3.connect(path)
        statements = [
            row[0]
            for row in connection.execute(
                "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
            )
        ]
        connection.close()
    return _script(statements)


def postgresql_script(dsn: str) -> str:
    schema = f"eidflow_head_{secrets.token_hex(4)}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        upgrade_schema(parse(f"{dsn}?options=-csearch_path%3D{schema}"))
        info = psycopg.conninfo.conninfo_to_dict(dsn)
        dumped = subprocess.run(
            ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", f"--schema={schema}",
             "-h", str(info.get("host", "127.0.0.1")), "-p", str(info.get("port", 5432)),
             "-U", str(info.get("user", "postgres")), str(info.get("dbname", "test"))],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")
    statements = []
    for statement in dumped.split(";\n"):
        lines = [
            line
            for line in statement.strip().splitlines()
            if line and not line.startswith(("--", "\\"))
        ]
        text = "\n".join(lines)
        if not text or text.startswith(("SET ", "SELECT pg_catalog.set_config", "CREATE SCHEMA")):
            continue
        statements.append(re.sub(rf"\b{schema}\.", "", text))
    return _script(statements)


def _script(statements: list[str]) -> str:
    done = f"INSERT INTO alembic_version (version_num) VALUES ('{HEAD_REVISION}')"
    body = "".join(f"{statement};\n\n" for statement in [*statements, done])  # as written
    return HEADER.format(revision=HEAD_REVISION) + "\n" + body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    for backend, text in (("sqlite", sqlite_script()), ("postgresql", postgresql_script(args.pg))):
        target = MIGRATIONS / f"head-{backend}.sql"
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
