"""The ledger's contract on SQLite and PostgreSQL: claims, runs, manifests, states, groups."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from eidflow.errors import ConfigError, LedgerLost
from eidflow.ledger import SqlLedger, claims, lookup, open_ledger, queries
from tests.ledger.helpers import devices, eid


def complete(run_dir: Path) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "summary.json").write_text("{}")


def test_a_claim_is_exactly_once_per_operator(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    first = ledger.claim_handoff("r1", "op-a", devices((1, "S1"), (2, "S2")))
    again = ledger.claim_handoff("r1", "op-a", devices((1, "S1"), (3, "S3")))
    other_operator = ledger.claim_handoff("r1", "op-b", devices((1, "S1")))
    assert first.tolist() == ["", ""]
    assert again.tolist() == ["already_registered", ""]
    assert other_operator.tolist() == [""]


def test_conflicts_against_live_claims(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1"), (2, "S2")))
    result = ledger.claim_handoff("r1", "op", devices((1, "OTHER"), (9, "S2"), (4, "S4")))
    assert result.tolist() == ["conflict_eid", "conflict_serial", ""]


def test_claim_result_is_aligned_with_the_frame_index(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1")))
    rows = devices((2, "S2"), (1, "S1")).set_axis([7, 3])
    result = ledger.claim_handoff("r1", "op", rows)
    assert result.to_dict() == {7: "", 3: "already_registered"}


def test_known_devices_lists_live_claims_by_eid_or_serial(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op-a", devices((1, "S1"), (2, "S2"), (3, "S3")))
    ledger.claim_handoff("r1", "op-b", devices((1, "S1")))
    known = ledger.known_devices(pd.Series([eid(1), eid(7)]), pd.Series(["S1", "S2"]))
    lines = sorted(known.itertuples(index=False, name=None))
    assert lines == [(eid(1), "S1", "op-a"), (eid(1), "S1", "op-b"), (eid(2), "S2", "op-a")]


def test_an_aborted_run_releases_its_claims(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1")))
    ledger.abort_run("r1", "disk full")
    assert ledger.known_devices(pd.Series([eid(1)]), pd.Series(["S1"])).empty
    ledger.begin_run("r2", str(tmp_path / "r2"))
    assert ledger.claim_handoff("r2", "op", devices((1, "S1"))).tolist() == [""]


def test_a_released_claim_with_another_serial_is_no_conflict(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "TYPO")))
    ledger.abort_run("r1", "stopped")
    ledger.begin_run("r2", str(tmp_path / "r2"))
    assert ledger.claim_handoff("r2", "op", devices((1, "S1"))).tolist() == [""]


def test_manifest_seen_only_after_a_complete_run(ledger: SqlLedger, tmp_path: Path) -> None:
    manifest = {"sha256": "ab" * 32, "name": "shipment.csv", "rows": 2}
    ledger.begin_run("r1", str(tmp_path / "r1"))
    assert ledger.manifest_seen(manifest["sha256"]) is None
    ledger.finish_run("r1", [manifest], {"rows": 2})
    seen = ledger.manifest_seen(manifest["sha256"])
    assert seen is not None
    assert (seen.run_id, seen.name, seen.rows) == ("r1", "shipment.csv", 2)
    assert seen.received_at.tzinfo is not None
    ledger.begin_run("r2", str(tmp_path / "r2"))
    ledger.abort_run("r2", "failed")
    assert ledger.manifest_seen("cd" * 32) is None


def test_finish_delivers_what_mark_delivered_did_not(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op-a", devices((1, "S1")))
    ledger.claim_handoff("r1", "op-b", devices((2, "S2")))
    ledger.mark_delivered("r1", "op-a", [{"path": "operator/op-a/a.csv", "rows": 1}])
    ledger.finish_run("r1", [], {})
    pending = ledger.pending_enrollment("group-1")
    assert sorted(zip(pending["eid"], pending["operator"], strict=True)) == [
        (eid(1), "op-a"),
        (eid(2), "op-b"),
    ]


def states_of(ledger: SqlLedger, number: int) -> list[tuple[str, str, str]]:
    """The device's Intune states, oldest first: (run, state, object id)."""
    with ledger.read() as connection:
        story = queries.device_story(connection, eid(number))
    return [
        (line["run_id"], line["intune_state"], line["entra_object_id"])
        for line in story["intune_states"]
    ]


def test_states_and_memberships(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1"), (2, "S2")))
    states = pd.DataFrame(
        {
            "eid": [eid(1), eid(2)],
            "intune_state": ["enrolled", "not_enrolled"],
            "entra_object_id": ["obj-1", ""],
        }
    )
    ledger.record_intune_states("r1", states)
    ledger.record_intune_states("r1", states)  # unchanged: no new history line
    ledger.finish_run("r1", [], {})
    ledger.record_memberships("r1", "group-1", states.iloc[:1])
    ledger.record_memberships("r1", "group-1", states.iloc[:1])
    pending = ledger.pending_enrollment("group-1")
    assert pending[["eid", "intune_state"]].values.tolist() == [[eid(2), "not_enrolled"]]
    with ledger.read() as connection:
        members = connection.scalar("SELECT count(*) FROM memberships")
    assert members == 1
    assert states_of(ledger, 1) == [("r1", "enrolled", "obj-1")]
    assert states_of(ledger, 2) == [("r1", "not_enrolled", "")]

    ledger.begin_run("r2", str(tmp_path / "r2"), kind="reconcile")
    ledger.record_intune_states("r2", states.assign(intune_state="enrolled", entra_object_id="o"))
    ledger.finish_run("r2", [], {})
    assert states_of(ledger, 1) == [("r1", "enrolled", "obj-1"), ("r2", "enrolled", "o")]
    assert states_of(ledger, 2) == [("r1", "not_enrolled", ""), ("r2", "enrolled", "o")]


def test_pending_is_per_group_a_membership_elsewhere_does_not_count(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    """``[entra] group_id`` changed from group A to group B: every PC is pending for B."""
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1"), (2, "S2"), (3, "S3"), (4, "S4")))
    ledger.finish_run("r1", [], {})
    objects = pd.DataFrame(
        {"eid": [eid(n) for n in (1, 2, 3, 4)], "entra_object_id": ["o1", "o2", "o3", "o4"]}
    )
    ledger.record_memberships("r1", "group-a", objects)
    assert ledger.pending_enrollment("group-a").empty

    everyone = [eid(n) for n in (1, 2, 3, 4)]
    assert ledger.pending_enrollment("group-b")["eid"].tolist() == everyone
    ledger.record_memberships("r1", "group-b", objects.iloc[:2])
    assert ledger.pending_enrollment("group-b")["eid"].tolist() == everyone[2:]
    assert ledger.pending_enrollment("group-a").empty


def test_a_claim_records_the_intune_state_it_brings(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    reconciled = devices((1, "S1"), (2, "S2")).assign(
        intune_state=["enrolled", "not_enrolled"], entra_object_id=["obj-1", ""]
    )
    ledger.claim_handoff("r1", "op", reconciled)
    ledger.abort_run("r1", "killed")  # a void claim: the devices and their states stay
    assert states_of(ledger, 1) == [("r1", "enrolled", "obj-1")]

    ledger.begin_run("r2", str(tmp_path / "r2"))
    again = reconciled.assign(intune_state="os_unsupported", entra_object_id="")
    assert ledger.claim_handoff("r2", "op", again.iloc[:1]).tolist() == [""]
    ledger.finish_run("r2", [], {})
    assert states_of(ledger, 1) == [("r1", "enrolled", "obj-1"), ("r2", "os_unsupported", "")]
    assert states_of(ledger, 2) == [("r1", "not_enrolled", "")]
    assert ledger.pending_enrollment("group-1")["intune_state"].tolist() == ["os_unsupported"]


@pytest.mark.parametrize(
    "bad_url",
    ["not a url", "mysql://u@h/db", "sqlite:///no/such/folder/ledger.db", "sqlite://"],
)
def test_bad_urls_are_config_errors(bad_url: str) -> None:
    with pytest.raises(ConfigError):
        open_ledger(bad_url)


@pytest.mark.postgres
def test_a_server_that_refuses_connections_stops_the_run_exit_3() -> None:
    """Down (or not there yet): run again later, rather than fix a setting."""
    with pytest.raises(LedgerLost, match="cannot reach the ledger") as refused:
        open_ledger("postgresql://postgres@127.0.0.1:1/test")
    assert refused.value.exit_code == 3 and "Run again" in refused.value.todo


def test_empty_frames_are_no_ops(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    assert ledger.claim_handoff("r1", "op", devices()).tolist() == []
    empty = pd.Series([], dtype="str")
    assert ledger.known_devices(empty, empty).empty
    ledger.record_intune_states("r1", pd.DataFrame(columns=["eid", "intune_state"]))
    ledger.record_memberships("r1", "group", pd.DataFrame(columns=["eid", "entra_object_id"]))
    ledger.finish_run("r1", [], {})
    assert ledger.pending_enrollment("group-1").empty


def test_known_devices_with_eids_and_serials_of_different_lengths(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op", devices((1, "S1"), (2, "S2")))
    known = ledger.known_devices(pd.Series([eid(1)]), pd.Series(["S2", "S9"]))
    assert sorted(known["eid"]) == [eid(1), eid(2)]


def test_both_ways_of_looking_up_claims_agree(
    ledger: SqlLedger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A claim larger than the ledger reads it whole; a smaller one joins its keys on the
    indexes (SQLite: read from JSON; keys JSON would escape, and PostgreSQL's: staged in a
    table). All see the same live claims: other operators, shared serials; none sees a
    released claim."""
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op-a", devices((1, "S1"), (2, "S2"), (3, "S3")))
    ledger.claim_handoff("r1", "op-b", devices((1, "S1"), (4, "S4")))
    ledger.abort_run("r1", "killed")  # all released
    ledger.begin_run("r2", str(tmp_path / "r2"))
    ledger.claim_handoff("r2", "op-a", devices((2, "S2"), (5, "S5"), (6, "")))
    ledger.claim_handoff("r2", "op-b", devices((7, "S1")))
    ledger.finish_run("r2")
    keys = devices((1, "S1"), (2, "S9"), (8, "S5"), (9, ""), (3, "S3"), (10, "S4"))
    eids, serials = (
        pa.array(keys[name].tolist(), pa.string()) for name in ("eid", "serial_number")
    )

    def found_by(factor: float, *, json: bool = True) -> list[tuple[str, ...]]:
        monkeypatch.setattr(lookup, "SCAN_FACTOR", {"sqlite": factor, "postgresql": factor})
        if not json:
            monkeypatch.setattr(lookup.bulk, "json_safe", lambda texts: False)
        with ledger.read() as connection:
            found = lookup.claims_on(connection, eids, serials)
        return sorted(zip(*(found.column(n).to_pylist() for n in found.column_names), strict=True))

    by_index, whole, staged = found_by(0), found_by(10**9), found_by(0, json=False)
    assert by_index == whole == staged
    run_2 = "2"
    assert whole == [
        (eid(2), "S2", "op-a", run_2),  # by its EID
        (eid(5), "S5", "op-a", run_2),  # by its serial
        (eid(7), "S1", "op-b", run_2),  # a live claim on a serial looked up
    ]  # EIDs 1, 3, 4: released; 6: an empty serial matches nothing


def test_a_device_routed_to_two_operators_in_one_claim_goes_to_the_first(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    rows = pd.concat(
        [
            devices((2, "S2"), (1, "S1")).assign(operator="op-a"),
            devices((1, "S1")).assign(operator="op-b"),
        ],
        ignore_index=True,
    )
    assert ledger.claim_handoffs("r1", rows).tolist() == ["", "", "duplicate_in_run"]
    ledger.finish_run("r1", [], {})
    with ledger.read() as connection:
        story = queries.device_story(connection, eid(1))
        registered = connection.scalar("SELECT count(DISTINCT eid) FROM claims")
    assert [line["operator"] for line in story["handoffs"]] == ["op-a"]
    assert registered == 2


def test_a_claim_names_the_other_operators_holding_each_eid(
    ledger: SqlLedger, tmp_path: Path
) -> None:
    ledger.begin_run("r1", str(tmp_path / "r1"))
    ledger.claim_handoff("r1", "op-a", devices((1, "S1"), (2, "S2")))
    ledger.claim_handoff("r1", "op-c", devices((1, "S1")))
    ledger.finish_run("r1", [], {})
    ledger.begin_run("r2", str(tmp_path / "r2"))
    claim = ledger.claim("r2", devices((1, "S1"), (2, "S2"), (3, "S3")).assign(operator="op-b"))
    assert claim.reasons.tolist() == ["", "", ""]  # an eUICC can take each operator's profile
    assert claim.held_by_others.tolist() == ["op-a;op-c", "op-a", ""]
    again = ledger.claim("r2", devices((2, "S2")).assign(operator="op-a"))
    assert (again.reasons.tolist(), again.held_by_others.tolist()) == (
        ["already_registered"],
        ["op-b"],
    )


@pytest.mark.postgres
def test_a_small_claim_against_a_large_postgresql_ledger_uses_the_indexes(
    pg_url: str, tmp_path: Path
) -> None:
    """After a bulk claim the ledger is analysed: the lookup of 1,000 keys probes the
    primary keys of claims and serials instead of reading 1,000,000 claims."""
    ledger = open_ledger(pg_url)
    try:
        ledger.begin_run("big", str(tmp_path / "big"))
        big = devices(*((n, f"S{n}") for n in range(1_000_000)))
        assert (ledger.claim_handoff("big", "op", big) == "").all()
        ledger.finish_run("big")
        keys = devices(*((n, f"S{n}") for n in range(999_500, 1_000_500)))
        with ledger.write() as connection:
            claims.bulk.create_temp(
                connection, "tmp_keys", {"eid": "TEXT", "serial_number": "TEXT"}
            )
            claims.bulk.insert(
                connection, "tmp_keys", {"eid": keys["eid"], "serial_number": keys["serial_number"]}
            )
            plan = "\n".join(line[0] for line in connection.all("EXPLAIN " + lookup.LOOKUP_SQL))
        assert "Seq Scan on claims" not in plan and "Seq Scan on serials" not in plan, plan
        assert "claims_pkey" in plan and "serials_pkey" in plan, plan
    finally:
        ledger.close()
