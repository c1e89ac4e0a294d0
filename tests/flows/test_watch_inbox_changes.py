"""watch-inbox when files change under it: a manifest rewritten during a run, one unreadable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from flows import watch
from flows.watch import WatchParameters, watch_inbox
from tests.flows.runs import finished
from tests.flows.tenant import Device, manifest_csv, write_config
from tests.flows.test_watch_inbox import operator_eids

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_a_manifest_rewritten_during_the_run_is_left_for_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first_three, all_six = [Device(n) for n in range(1, 4)], [Device(n) for n in range(1, 7)]
    (inbox / "daily.csv").write_bytes(manifest_csv(first_three))
    config = write_config(tmp_path, flows={"inbox": str(inbox)})
    ingest = watch._ingest

    def ingest_while_the_oem_rewrites(*args: Any) -> Any:
        result = ingest(*args)
        (inbox / "daily.csv").write_bytes(manifest_csv(all_six))  # a corrected manifest
        return result

    monkeypatch.setattr(watch, "_ingest", ingest_while_the_oem_rewrites)
    first = finished(watch_inbox, WatchParameters(config_file=str(config)))
    monkeypatch.setattr(watch, "_ingest", ingest)

    assert (first.archived, first.left_for_next_run) == ([], [str(inbox / "daily.csv")])
    assert sorted(operator_eids(tmp_path / "runs" / first.run_id)) == sorted(
        d.eid for d in first_three
    )
    second = finished(watch_inbox, WatchParameters(config_file=str(config)))
    assert second.archived == [str(inbox / "archive" / "daily.csv")]
    assert sorted(operator_eids(tmp_path / "runs" / second.run_id)) == sorted(
        d.eid for d in all_six[3:]
    )  # the first three are already_registered: each EID handed off once


def test_an_unreadable_file_is_quarantined_and_the_others_go_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    devices = [Device(n) for n in range(1, 4)]
    (inbox / "a-good.csv").write_bytes(manifest_csv(devices))
    (inbox / "b-locked.csv").write_bytes(manifest_csv([Device(9)]))
    config = write_config(tmp_path, flows={"inbox": str(inbox)})
    real = os.open

    def open_file(path: str | Path, flags: int, *args: int, **kwargs: object) -> int:
        if Path(path) == inbox / "b-locked.csv":  # as for a file its owner made mode 000
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_file)
    outcome = finished(
        watch_inbox, WatchParameters(config_file=str(config)), "Failed", says="quarantined"
    )

    assert outcome.archived == [str(inbox / "archive" / "a-good.csv")]
    assert outcome.quarantined == [str(inbox / "quarantine" / "b-locked.csv")]
    reason = (inbox / "quarantine" / "b-locked.csv.reason.txt").read_text()
    assert "cannot be read (Permission denied)" in reason
    assert sorted(operator_eids(tmp_path / "runs" / outcome.run_id)) == sorted(
        d.eid for d in devices
    )


def test_a_manifest_another_run_still_holds_stays_until_that_run_ends(tmp_path: Path) -> None:
    from eidflow.ledger import open_ledger
    from tests.ledger.helpers import devices

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shipment = [Device(n) for n in range(1, 4)]
    (inbox / "ship.csv").write_bytes(manifest_csv(shipment))
    config = write_config(tmp_path, flows={"inbox": str(inbox)})
    other = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        # A manual run, not finished, has claimed these devices for the operator.
        other.begin_run("manual", str(tmp_path / "manual"))
        held = devices(*((d.n, d.serial) for d in shipment)).assign(eid=[d.eid for d in shipment])
        assert other.claim_handoff("manual", "unnamed", held).tolist() == ["", "", ""]

        first = finished(
            watch_inbox,
            WatchParameters(config_file=str(config)),
            "Failed",
            says="3 row(s) held back for a run not finished yet",
        )
        assert (first.archived, first.left_for_next_run) == ([], [str(inbox / "ship.csv")])

        other.abort_run("manual", "it failed")  # its claims are released
    finally:
        other.close()
    second = finished(watch_inbox, WatchParameters(config_file=str(config)))
    assert second.archived == [str(inbox / "archive" / "ship.csv")]
    assert sorted(operator_eids(tmp_path / "runs" / second.run_id)) == sorted(
        d.eid for d in shipment
    )


def test_a_link_in_the_inbox_is_quarantined_unread_and_the_others_go_on(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    secret = tmp_path / "keys.env"
    secret.write_text("AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY\n")
    devices = [Device(n) for n in range(1, 3)]
    (inbox / "a-good.csv").write_bytes(manifest_csv(devices))
    (inbox / "b-link.csv").symlink_to(secret)
    config = write_config(tmp_path, flows={"inbox": str(inbox)})
    outcome = finished(
        watch_inbox, WatchParameters(config_file=str(config)), "Failed", says="quarantined"
    )
    assert outcome.archived == [str(inbox / "archive" / "a-good.csv")]
    assert outcome.quarantined == [str(inbox / "quarantine" / "b-link.csv")]
    assert (inbox / "quarantine" / "b-link.csv").is_symlink()
    reason = (inbox / "quarantine" / "b-link.csv.reason.txt").read_text()
    assert "symbolic link" in reason and "EXAMPLEKEY" not in reason
    summary = (tmp_path / "runs" / outcome.run_id / "summary.json").read_text()
    assert "b-link.csv" not in summary  # never given to the run
