"""The ledger: manifests received, devices, hand-offs and group memberships (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from eidflow.errors import ConfigError
from eidflow.ledger.base import Ledger, ManifestRecord
from eidflow.ledger.connect import (
    check_connection,
    create_ledger_engine,
    current_revision,
    describe,
    ledger_url,
    translate_errors,
    upgrade_schema,
)
from eidflow.ledger.sql import SqlLedger

__all__ = ["Ledger", "ManifestRecord", "SqlLedger", "open_ledger"]


def open_ledger(
    url: str, *, is_complete: Callable[[str, str], bool] | None = None, create: bool = True
) -> SqlLedger:
    """Open the ledger at a SQLAlchemy URL, upgrading its schema to the current revision.

    ``is_complete(run_id, run_dir)`` says whether a dead run handed its files off
    (default: ``summary.json`` exists in its folder); it raises an ``EidflowError`` when
    it cannot tell, and that run is left to a later run to settle. ``create=False`` (the
    commands that only ask) refuses a database holding no ledger yet, rather than create
    one: a SQLite file that does not exist, an empty PostgreSQL database or schema.
    Raises ConfigError for a bad or unreachable URL.
    """
    parsed = ledger_url(url)
    if (
        not create
        and parsed.get_backend_name() == "sqlite"
        and not Path(parsed.database or "").is_file()
    ):
        raise ConfigError(
            f"no ledger at {parsed.database}.",
            todo="Check --ledger / [ledger] url; eidflow ingest creates the ledger.",
        )
    engine = create_ledger_engine(parsed)
    try:
        check_connection(engine)
        with translate_errors(parsed):
            if not create and current_revision(engine) is None:
                raise ConfigError(
                    f"no ledger at {describe(parsed)}: the database holds no eidflow ledger yet.",
                    todo="Check --ledger / [ledger] url; eidflow ingest creates the ledger.",
                )
            upgrade_schema(engine)
    except BaseException:
        engine.dispose()
        raise
    return SqlLedger(engine, parsed, is_complete)
