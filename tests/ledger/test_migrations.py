"""Schema migrations: a ledger made by an older eidflow keeps working after the upgrade."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from eidflow.ledger import open_ledger, parse, queries
from eidflow.ledger.connect import migration_engine, upgrade_schema
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
    upgrade_schema(parse(url), revision)
    engine = migration_engine(parse(url))
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
        ledger.finish_run("new")
        assert ledger.pending_enrollment("group")["eid"].tolist() == [eid(1), eid(2)]
        with ledger.read() as connection:
            story = queries.device_story(connection, eid(1))
        [handoff] = story["handoffs"]
        assert (handoff["run_id"], handoff["state"], handoff["file"]) == ("old", "delivered", "")
        assert (story["device"]["source_file"], story["device"]["row"]) == ("old.csv", 2)
        assert story["device"]["manifest_sha256"] == "ab" * 32
    finally:
        ledger.close()


def test_the_migrations_build_the_schema_the_code_queries(url: str) -> None:
    open_ledger(url).close()
    engine = migration_engine(parse(url))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [
                change
                for change in compare_metadata(context, metadata)
                if change[0] not in ("add_fk", "remove_fk")
            ]
        assert differences == []
    finally:
        engine.dispose()


def test_the_fast_path_knows_the_newest_migration() -> None:
    """A ledger at HEAD_REVISION opens without Alembic; a new migration must move it."""
    from eidflow.ledger.connect import HEAD_REVISION, head_revision

    assert head_revision() == HEAD_REVISION


def test_the_database_itself_refuses_a_second_live_claim(url: str, tmp_path: Path) -> None:
    """The exactly-once key is the claims table's primary key: even a line written past
    every check of eidflow cannot hand an EID to an operator twice."""
    ledger = open_ledger(url)
    try:
        ledger.begin_run("r1", str(tmp_path / "r1"))
        rows = pd.DataFrame({"eid": [eid(1)], "serial_number": ["S1"]})
        assert ledger.claim_handoff("r1", "op", rows).tolist() == [""]
        ledger.finish_run("r1")
    finally:
        ledger.close()
    engine = migration_engine(parse(url))
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(
                text("INSERT INTO claims (eid, operator, run_no) VALUES (:eid, 'op', 1)"),
                {"eid": eid(1)},
            )
    finally:
        engine.dispose()


REVISION_7_DATA = [
    *(
        "INSERT INTO runs (run_id, run_dir, kind, host, pid, proc_start, started_at, state)"
        f" VALUES ('{run}', '/gone', '{kind}', 'h', 1, '', :{time}, '{state}')"
        for run, kind, time, state in (
            ("r1", "ingest", "t1", "complete"),
            ("r2", "ingest", "t2", "aborted"),
            ("r3", "resend", "t3", "complete"),
        )
    ),
    "INSERT INTO manifests (sha256, name, run_id, received_at, rows, outcome)"
    " VALUES (:sha, 'dell.xlsx', 'r1', :t1, 2, 'processed')",
    "INSERT INTO devices (eid, serial_number, imei, source_file, row, manufacturer, model,"
    " po_number, first_run, first_seen_at, intune_state, entra_object_id, state_at, state_run)"
    " VALUES (:one, 'S1', '354098110000029', 'dell.xlsx', 3, 'Dell Inc.', 'Latitude 7450',"
    " 'PO-1', 'r1', :t1, 'enrolled', 'obj-1', :t1, 'r1')",
    "INSERT INTO devices (eid, serial_number, source_file, row, first_run, first_seen_at)"
    " VALUES (:two, 'S2', 'other.csv', 7, 'r2', :t2)",
    "INSERT INTO device_states (eid, run_id, intune_state, entra_object_id, recorded_at)"
    " VALUES (:one, 'r1', 'not_enrolled', '', :t0)",
    "INSERT INTO handoffs (operator, eid, serial_number, imei, run_id, state, source_file, row,"
    " file, staged_at, delivered_at) VALUES ('op', :one, 'S1', '354098110000029', 'r1',"
    " 'delivered', 'dell.xlsx', 3, 'operator/op/a.csv', :t1, :t1)",
    "INSERT INTO handoffs (operator, eid, serial_number, run_id, state, source_file, row,"
    " staged_at, released_at) VALUES ('op', :two, 'S2', 'r2', 'released', 'other.csv', 7,"
    " :t2, :t2)",
    "INSERT INTO handoffs (operator, eid, serial_number, run_id, state, staged_at, delivered_at,"
    " resend_reason, requested_by) VALUES ('op', :one, 'S1', 'r3', 'delivered', :t3, :t3,"
    " 'portal lost it', 'alice')",
]


def test_a_revision_7_ledger_keeps_every_claim_state_and_re_send(url: str, tmp_path: Path) -> None:
    times = {f"t{n}": f"2025-01-0{n + 1} 00:00:00.000000" for n in range(4)}
    values = {"one": eid(1), "two": eid(2), "sha": "ab" * 32, **times}
    ledger_at(url, "0007", REVISION_7_DATA, values)

    ledger = open_ledger(url)
    try:
        with ledger.read() as connection:
            one = queries.device_story(connection, eid(1))
            two = queries.device_story(connection, eid(2))
        device = one["device"]
        assert (device["serial_number"], device["imei"], device["row"]) == (
            "S1",
            "354098110000029",
            3,
        )
        assert (device["manufacturer"], device["model"], device["po_number"]) == (
            "Dell Inc.",
            "Latitude 7450",
            "PO-1",
        )
        assert (device["source_file"], device["manifest_sha256"]) == ("dell.xlsx", "ab" * 32)
        assert [
            (line["run_id"], line["state"], line["resend_reason"]) for line in one["handoffs"]
        ] == [
            ("r1", "delivered", ""),
            ("r3", "delivered", "portal lost it"),
        ]
        assert [(line["run_id"], line["intune_state"]) for line in one["intune_states"]] == [
            ("r1", "not_enrolled"),
            ("r1", "enrolled"),
        ]
        assert [(line["run_id"], line["state"]) for line in two["handoffs"]] == [("r2", "released")]
        assert ledger.manifest_seen("ab" * 32) is not None
        ledger.begin_run("new", str(tmp_path / "new"))
        rows = pd.DataFrame({"eid": [eid(1), eid(2)], "serial_number": ["S1", "S2"]})
        assert ledger.claim_handoff("new", "op", rows).tolist() == ["already_registered", ""]
    finally:
        ledger.close()
