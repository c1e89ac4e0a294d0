"""``eidflow check``: the decisions ingest would give, and nothing claimed, recorded or sent."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from app.check import run_check
from app.pipeline import IngestRequest, run_ingest
from app.settings import Settings, load_settings
from eidflow.ledger import open_ledger
from eidflow.ledger.tables import metadata
from eidflow.s3 import S3Settings
from tests.cli import eidflow
from tests.s3_server import aws_credentials, moto_server, s3_bucket, s3_endpoint

__all__ = ["aws_credentials", "moto_server", "s3_bucket", "s3_endpoint"]

SAMPLES = Path(__file__).parents[2] / "data" / "samples"
DELL = SAMPLES / "dell-asn-PO-2026-1187.xlsx"
LENOVO = SAMPLES / "lenovo-shipment-4401190.csv"
INVENTORY = SAMPLES / "DevicesWithInventory_2026-11-27.csv"
ENTRA = SAMPLES / "exportDevice_2026-11-27.csv"


def sample_settings(ledger_url: str, **delivery: Any) -> Settings:
    return load_settings(
        SAMPLES / "eidflow.toml",
        ledger={"url": ledger_url},
        delivery=delivery or {"kind": "folder"},
    )


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


def ledger_contents(url: str) -> dict[str, list[str]]:
    """Every row of every ledger table, as text, sorted."""
    ledger = open_ledger(url, create=False)
    try:
        with ledger.read() as connection:
            return {
                table.name: sorted(map(repr, connection.all(f"SELECT * FROM {table.name}")))
                for table in metadata.sorted_tables
            }
    finally:
        ledger.close()


def again_with_one_handed_off(tmp_path: Path, first_run: Path) -> Path:
    """A new manifest: the Lenovo sample's rows, and one EID the first run handed off."""
    text = LENOVO.read_text(encoding="utf-8-sig")
    handed = next(
        line
        for line in read_csv(first_run / "decisions.csv")
        if line["status"] == "accepted" and line["eid"] not in text.replace(" ", "")
    )
    rows = text.splitlines()
    extra = dict.fromkeys(rows[0].split(","), "")
    extra |= {"Serial Number": handed["serial_number"], "eUICC ID": handed["eid"]}
    path = tmp_path / "lenovo-again.csv"
    path.write_text("\n".join([*rows, ",".join(extra.values())]) + "\n", encoding="utf-8")
    return path


def test_check_decides_as_ingest_and_changes_nothing(url: str, tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    settings = sample_settings(url, kind="folder", folder=str(outbox))
    first = run_ingest(IngestRequest([str(DELL)], out_dir=tmp_path / "run1"), settings)
    manifests = [str(again_with_one_handed_off(tmp_path, first.run_dir))]
    delivered = sorted(outbox.rglob("*"))
    before = ledger_contents(url)

    checked = run_check(
        IngestRequest(manifests, str(INVENTORY), str(ENTRA), tmp_path / "check"), settings
    )

    assert ledger_contents(url) == before  # no run, no claim, no manifest recorded
    assert sorted(outbox.rglob("*")) == delivered  # nothing at the delivery target
    assert sorted(path.name for path in checked.run_dir.iterdir()) == [
        "decisions.csv",
        "report.xlsx",
    ]
    decided = read_csv(checked.run_dir / "decisions.csv")
    assert decided[-1]["reason"] == "already_registered"  # the ledger was asked
    assert {line["reason"] for line in decided} > {"already_registered", ""}

    ingested = run_ingest(
        IngestRequest(manifests, str(INVENTORY), str(ENTRA), tmp_path / "run2"),
        settings,
    )
    assert read_csv(ingested.run_dir / "decisions.csv") == decided
    assert checked.exit_code == ingested.exit_code == 0


def test_check_sends_nothing_to_s3(tmp_path: Path, s3_bucket: S3Settings) -> None:
    settings = sample_settings(
        f"sqlite:///{tmp_path / 'ledger.db'}", kind="s3", s3=s3_bucket.model_dump()
    )
    checked = run_check(IngestRequest([str(LENOVO)], out_dir=tmp_path / "check"), settings)
    assert checked.summary["counts"]["by_status"]["accepted"] > 0
    from tests.exporters.test_delivery_s3 import keys

    assert keys(s3_bucket) == []
    assert not (tmp_path / "ledger.db").exists()  # no ledger yet: none is made by a check


def test_cli_check_says_what_ingest_says_and_leaves_no_run(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    args = [LENOVO, "empty.csv", "--config", SAMPLES / "eidflow.toml"]
    checked = eidflow("check", *args, cwd=tmp_path)
    assert checked.returncode == 1, checked.stderr  # one manifest unreadable, as for ingest
    [summary] = checked.stdout.splitlines()
    assert summary.startswith("check check-") and "nothing was claimed or handed off" in summary
    assert "empty.csv" in checked.stderr
    assert not list((tmp_path / "runs").glob("2*"))  # no run folder: only runs/checks/
    history = eidflow("history", "--json", cwd=tmp_path)
    assert history.returncode == 2  # no ledger was made

    ingested = eidflow("ingest", *args, cwd=tmp_path)
    assert ingested.returncode == 1
    said = [line for line in checked.stderr.splitlines() if "no ledger at" not in line]
    assert said == [line for line in ingested.stderr.splitlines() if "new ledger" not in line]
    assert (
        summary.split(": ", 1)[1].split(" -> ")[0]
        == (ingested.stdout.split(": ", 1)[1].split(" -> ")[0])
    )


@pytest.mark.parametrize("command", ["ingest", "check"])
def test_a_rerun_of_ingested_files_says_so_and_makes_no_run_folder(
    command: str, tmp_path: Path
) -> None:
    args = [DELL, LENOVO, "--config", SAMPLES / "eidflow.toml"]
    assert eidflow("ingest", *args, cwd=tmp_path).returncode == 0
    [run] = (tmp_path / "runs").iterdir()

    again = eidflow(command, *args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    lines = again.stderr.splitlines()
    assert len(lines) == 2 and again.stdout == ""
    for line, manifest in zip(lines, (DELL, LENOVO), strict=True):
        assert line.startswith(f"eidflow: {manifest} was already processed by run {run.name} on")
        assert line.endswith("; nothing to do. Give --reprocess to read it again.")
    assert list((tmp_path / "runs").iterdir()) == [run]  # no empty run folder


def test_a_check_neither_waits_for_nor_holds_the_claim_lock(url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from tests.ledger.helpers import devices

    ingest = open_ledger(url)
    ingest.begin_run("running", "/tmp/running")
    ingest.claim_handoff("running", "unnamed", devices((1, "SER-1")))
    check = open_ledger(url, create=False)
    try:
        frame = devices((1, "SER-1"), (2, "SER-2")).assign(operator="unnamed")
        with ingest.write(claim_lock=True), ThreadPoolExecutor(1) as pool:
            # An ingest holds the claim lock (claiming, or settling dead runs) right now.
            verdict = pool.submit(check.judge, frame).result(timeout=10)
        assert verdict.reasons.tolist() == ["claimed_by_running_run", ""]
        with check.read():  # and while a check reads, an ingest claims
            assert ingest.claim_handoff("running", "unnamed", devices((2, "SER-2"))).tolist() == [
                ""
            ]
    finally:
        check.close()
        ingest.close()
