"""Ledgers on SQLite and PostgreSQL for these tests (``tests/databases.py``)."""

from __future__ import annotations

from tests.databases import ledger, pg_server, pg_url, sqlite_url, url

__all__ = ["ledger", "pg_server", "pg_url", "sqlite_url", "url"]
