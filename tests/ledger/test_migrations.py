"""Schema migrations: a ledger made by an older eidflow keeps working after the upgrade."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from eidflow.ledger import open_ledger, queries
from eidflow.ledger.connect import create_ledger_engine, ledger_url, upgrade_schema
from eidflow.ledger.tables import metadata
from tests.ledger.helpers import eid

REVISION_1_DATA = [
    "INSERT INTO runs (run_id, run_dir, kind, host, pid, proc_start, started_at, finished_at,"
    " state) VALUES ('old', '/gone', 'ingest', 'h', 1, '', :now, :now, 'complete')",
    "INSERT INTO manifests (sha256, name, run_id, received_at, rows, outcome)"
    " VALUES (:sha, 'old.csv', 'old', :now, 1, 'processed')",
    "INSERT INTO devices (eid, serial_number, imei, source_file, row, first_run, first_seen_at)"
    " VALUES (:eid, 'S1', '', 'old.csv', 2, 'old', :now)",
    "INSERT INTO handoffs (operator, eid, serial_number, imei, run_id, state, source_file, row,"
    " file, staged_at, delivered_at) VALUES ('op', :eid, 'S1', '', 'old', 'delivered',"
    " 'old.csv', 2, 'operator/op/old.csv', :now, :now)",
]


def ledger_at(url: str, revision: str, statements: list[str], values: dict[str, str]) -> None:
    """A ledger an older eidflow left at ``revision``, holding what ``statements`` write."""
    engine = create_ledger_engine(ledger_url(url))
    upgrade_schema(engine, revision)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement), values)
            assert MigrationContext.configure(connection).get_current_revision() == revision
    finally:
        engine.dispose()


def test_a_revision_1_ledger_upgrades_and_keeps_its_hand_offs(url: str, tmp_path: Path) -> None:
    values = {"now": "2025-01-02 03:04:05.000000", "sha": "ab" * 32, "eid": eid(1)}
    ledger_at(url, "0001", REVISION_1_DATA, values)

    ledger = open_ledger(url)
    try:
        assert ledger.manifest_seen("ab" * 32) is not None
        ledger.begin_run("new", str(tmp_path / "new"))
        rows = pd.DataFrame(
            {"eid": [eid(1), eid(2)], "serial_number": ["S1", "S2"], "source_file": ["n.csv"] * 2}
        )
        assert ledger.claim_handoff("new", "op", rows).tolist() == ["already_registered", ""]
        ledger.record_intune_states(
            "new",
            pd.DataFrame({"eid": [eid(1)], "intune_state": ["enrolled"], "entra_object_id": ["o"]}),
        )
        ledger.finish_run("new", [], {})
        assert ledger.pending_enrollment("group")["eid"].tolist() == [eid(1), eid(2)]
    finally:
        ledger.close()


def test_the_migrations_build_the_schema_the_code_queries(url: str) -> None:
    ledger = open_ledger(url)
    try:
        with ledger.engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [
                change
                for change in compare_metadata(context, metadata)
                if change[0] not in ("add_index", "remove_index", "add_fk", "remove_fk")
            ]
        assert differences == []
    finally:
        ledger.close()


def test_the_fast_path_knows_the_newest_migration() -> None:
    """A ledger at HEAD_REVISION opens without Alembic; a new migration must move it."""
    from eidflow.ledger.connect import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION


REVISION_4_CLAIMS = [
    "INSERT INTO runs (run_id, run_dir, kind, host, pid, proc_start, started_at, finished_at,"
    " state) VALUES ('old', '/gone', 'ingest', 'h', 1, '', :now, :now, 'complete')",
    "INSERT INTO handoffs (operator, eid, run_id, state, staged_at, delivered_at)"
    " VALUES ('op', :delivered, 'old', 'delivered', :now, :now)",
    "INSERT INTO handoffs (operator, eid, run_id, state, staged_at, released_at)"
    " VALUES ('op', :released, 'old', 'released', :now, :now)",
]


def test_after_revision_5_the_exactly_once_index_still_tells_live_claims(
    url: str, tmp_path: Path
) -> None:
    """Revision 5 tells live claims by released_at: a released claim frees its EID, a
    delivered one still blocks a second live claim, even one written past every check."""
    values = {"now": "2025-01-02 03:04:05.000000", "delivered": eid(1), "released": eid(2)}
    ledger_at(url, "0004", REVISION_4_CLAIMS, values)

    ledger = open_ledger(url)
    try:
        ledger.begin_run("new", str(tmp_path / "new"))
        rows = pd.DataFrame({"eid": [eid(1), eid(2)], "serial_number": ["", ""]})
        assert ledger.claim_handoff("new", "op", rows).tolist() == ["already_registered", ""]
        for live in (eid(1), eid(2)):
            with pytest.raises(IntegrityError), ledger.engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO handoffs (operator, eid, run_id, state, staged_at)"
                        " VALUES ('op', :eid, 'new', 'delivered', :now)"
                    ),
                    {"eid": live, "now": ledger.now()},
                )
        ledger.finish_run("new", [], {})
    finally:
        ledger.close()


REVISION_5_STATES = [
    *(
        "INSERT INTO runs (run_id, run_dir, kind, host, pid, proc_start, started_at, state)"
        f" VALUES ('{run}', '/gone', 'ingest', 'h', 1, '', :t1, 'complete')"
        for run in ("r1", "r2")
    ),
    "INSERT INTO devices (eid, serial_number, first_run, first_seen_at, intune_state,"
    " entra_object_id, state_at) VALUES (:eid, 'S1', 'r1', :t1, 'enrolled', 'obj', :t3)",
    "INSERT INTO devices (eid, serial_number, first_run, first_seen_at)"
    " VALUES (:other, 'S2', 'r1', :t1)",
    "INSERT INTO device_states (eid, run_id, intune_state, entra_object_id, recorded_at)"
    " VALUES (:eid, 'r1', 'not_enrolled', '', :t1)",
    "INSERT INTO device_states (eid, run_id, intune_state, entra_object_id, recorded_at)"
    " VALUES (:eid, 'r2', 'enrolled', 'obj', :t2)",
]


def test_after_revision_6_a_device_keeps_its_state_history(url: str) -> None:
    """Revision 6 moves each device's latest history line onto the device: the story a
    person reads (``eidflow show``) is the same before and after."""
    times = {"t1": "2025-01-01 00:00:00.000000", "t2": "2025-01-02 00:00:00.000000"}
    values = {"eid": eid(1), "other": eid(2), **times, "t3": "2025-01-03 00:00:00.000000"}
    ledger_at(url, "0005", REVISION_5_STATES, values)

    ledger = open_ledger(url)
    try:
        with ledger.read() as connection:
            story = queries.device_story(connection, eid(1))
            untouched = queries.device_story(connection, eid(2))
            history = connection.exec_driver_sql("SELECT count(*) FROM device_states").scalar()
        assert [
            (line["recorded_at"], line["run_id"], line["intune_state"])
            for line in story["intune_states"]
        ] == [
            ("2025-01-01T00:00:00+00:00", "r1", "not_enrolled"),
            ("2025-01-02T00:00:00+00:00", "r2", "enrolled"),
        ]
        assert story["device"]["state_run"] == "r2"
        assert untouched["intune_states"] == []
        assert history == 1
    finally:
        ledger.close()


@pytest.mark.postgres
def test_postgres_hand_off_pages_keep_room_for_the_delivered_mark(pg_url: str) -> None:
    """Revision 7: the delivered mark can be a HOT update (no index touched)."""
    ledger = open_ledger(pg_url)
    try:
        with ledger.read() as connection:
            options = connection.exec_driver_sql(
                "SELECT reloptions FROM pg_class WHERE oid = 'handoffs'::regclass"
            ).scalar()
        assert options == ["fillfactor=40"]
    finally:
        ledger.close()
