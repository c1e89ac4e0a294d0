"""``eidflow void`` and ``eidflow retire``: corrections on record, undone by nothing silent.

Real ledgers (SQLite and PostgreSQL), real ingests, delivery to an outbox folder, and a
void killed with SIGKILL between its ledger record and its delivery."""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from app.cli import main
from tests.ledger.helpers import eid

ROOT = Path(__file__).parents[2]
EIDS = [eid(n) for n in (1, 2, 3)]
SERIALS = ["PF4A0001", "PF4A0002", "PF4A0003"]
IMEIS = ["354098110000110", "354098110000128", "354098110000136"]


def manifest(path: Path, serials: list[str], imeis: list[str], eids: list[str] = EIDS) -> Path:
    lines = ["EID,Serial Number,IMEI"]
    lines += [",".join(row) for row in zip(eids, serials, imeis, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def config(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    path = tmp_path / "eidflow.toml"
    path.write_text(
        f'[ledger]\nurl = "{url}"\n\n[output]\nruns_dir = "{tmp_path / "runs"}"\n\n'
        f'[delivery]\nfolder = "{tmp_path / "outbox"}"\n'
    )
    return path


def run(config: Path, *args: str | Path) -> Result:
    return CliRunner().invoke(main, [*map(str, args), "--config", str(config)])


def ingest(
    config: Path, source: Path, out: Path, *flags: str
) -> tuple[str, dict[str, dict[str, str]]]:
    """Ingest ``source``; the run id and its decisions by EID."""
    done = CliRunner().invoke(
        main, ["ingest", str(source), "--config", str(config), "--out", str(out), *flags]
    )
    assert done.exit_code == 0, done.output
    summary = json.loads((out / "summary.json").read_text())
    with (out / "decisions.csv").open(encoding="utf-8", newline="") as handle:
        return summary["run_id"], {row["eid"]: row for row in csv.DictReader(handle)}


def swapped(tmp_path: Path) -> Path:
    """Serial numbers and IMEIs swapped: the EIDs go to the operator with IMEIs as serials."""
    return manifest(tmp_path / "swapped.csv", IMEIS, SERIALS)


def corrected(tmp_path: Path) -> Path:
    return manifest(tmp_path / "corrected.csv", SERIALS, IMEIS)


def withdrawals(outbox: Path) -> list[Path]:
    """The withdrawal files that reached the outbox with their receipt."""
    return sorted(
        path
        for path in outbox.glob("*/operator/*/*_withdrawal_*.csv")
        if (path.parents[2] / "receipt.json").is_file()
    )


def story(config: Path, key: str) -> dict[str, Any]:
    shown = run(config, "show", key, "--json")
    assert shown.exit_code == 0, shown.output
    [device] = json.loads(shown.stdout)["devices"]
    return dict(device)


def history(config: Path) -> dict[str, dict[str, Any]]:
    listed = run(config, "history", "--json")
    assert listed.exit_code == 0, listed.output
    return {line["run_id"]: line for line in json.loads(listed.stdout)["runs"]}


def test_a_swapped_manifest_is_voided_and_the_corrected_one_handed_off(
    config: Path, tmp_path: Path
) -> None:
    bad_run, _ = ingest(config, swapped(tmp_path), tmp_path / "bad")
    # Without a void the corrected manifest is held back: its serials conflict.
    _, held = ingest(config, corrected(tmp_path), tmp_path / "held")
    assert {row["reason"] for row in held.values()} == {"conflict_eid"}

    plan = run(config, "void", bad_run, "--operator", "unnamed", "--reason", "columns swapped")
    assert plan.exit_code == 0, plan.output
    assert f"run {bad_run} to unnamed: 3 EID(s) ({EIDS[0]}" in plan.output
    assert "Nothing was changed" in plan.output
    assert story(config, EIDS[0])["handoffs"][0]["state"] == "delivered"

    applied = run(
        config, "void", bad_run, "--operator", "unnamed", "--reason", "columns swapped",
        "--by", "alice", "--apply",
    )  # fmt: skip
    assert applied.exit_code == 0, applied.output
    [withdrawal] = withdrawals(tmp_path / "outbox")
    with withdrawal.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(line["EID"], line["Serial Number"]) for line in lines] == list(
        zip(EIDS, IMEIS, strict=True)
    )
    assert {(line["Original Run"], line["Reason"]) for line in lines} == {
        (bad_run, "columns swapped")
    }

    good_run, decided = ingest(config, corrected(tmp_path), tmp_path / "good", "--reprocess")
    assert {row["status"] for row in decided.values()} == {"accepted"}
    folder = tmp_path / "good" / "operator" / "unnamed"
    handed = "".join(path.read_text() for path in folder.glob("*.csv"))
    assert all(number in handed for number in EIDS)

    runs = history(config)
    assert runs[bad_run]["handoffs"] == {"unnamed": {"voided": 3}}
    [void_run] = [line for line in runs.values() if line["kind"] == "void"]
    assert void_run["state"] == "complete"
    assert void_run["correction"] == f"void of {bad_run} for unnamed: 3 EID(s) (columns swapped)"
    device = story(config, SERIALS[0])
    assert [(line["run_id"], line["state"]) for line in device["handoffs"]] == [
        (bad_run, "voided"),
        (good_run, "delivered"),
    ]
    [void] = device["corrections"]
    assert (void["action"], void["reason"], void["requested_by"], void["withdrawal"]) == (
        "void",
        "columns swapped",
        "alice",
        "delivered",
    )
    assert "voids and retirements" in run(config, "show", EIDS[0]).output


def test_a_second_void_of_the_same_run_says_when_and_why_and_sends_nothing(
    config: Path, tmp_path: Path
) -> None:
    bad_run, _ = ingest(config, swapped(tmp_path), tmp_path / "bad")
    args = ("void", bad_run, "--operator", "unnamed", "--reason", "columns swapped", "--apply")
    assert run(config, *args).exit_code == 0
    again = run(config, *args)
    assert again.exit_code == 0, again.output
    assert f"run {bad_run} was voided for unnamed already, on " in again.output
    assert "(columns swapped): nothing sent." in again.output
    assert len(withdrawals(tmp_path / "outbox")) == 1
    assert len(list((tmp_path / "outbox").iterdir())) == 2  # the ingest and one void


def test_a_void_of_an_unknown_run_or_one_never_delivered_there_is_refused(
    config: Path, tmp_path: Path
) -> None:
    bad_run, _ = ingest(config, swapped(tmp_path), tmp_path / "bad")
    unknown = run(config, "void", "20260101T000000Z-000000", "--operator", "unnamed",
                  "--reason", "x", "--apply")  # fmt: skip
    assert unknown.exit_code == 2
    assert "is not in the ledger" in unknown.output
    elsewhere = run(config, "void", bad_run, "--operator", "nobody", "--reason", "x")
    assert elsewhere.exit_code == 2 and "no operator profile 'nobody'" in elsewhere.output
    assert not withdrawals(tmp_path / "outbox")


DIES_IN = """
import os, signal, sys
import importlib
module = importlib.import_module(sys.argv[1])

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

setattr(module, sys.argv[2], killed)
from app.cli import main
main(sys.argv[3:])
"""


@pytest.mark.parametrize(
    ("module", "function", "withdrawn"),
    [
        ("exporters.withdrawal", "write_withdrawal_file", False),  # recorded, nothing sent
        ("exporters.delivery", "_write_local_receipt", True),  # the outbox has its receipt
    ],
)
def test_a_void_killed_after_its_ledger_record_is_settled_by_the_next_void(
    config: Path, tmp_path: Path, module: str, function: str, withdrawn: bool
) -> None:
    bad_run, _ = ingest(config, swapped(tmp_path), tmp_path / "bad")
    args = ["void", bad_run, "--operator", "unnamed", "--reason", "columns swapped", "--apply"]
    child = subprocess.run(
        [sys.executable, "-c", DIES_IN, module, function, *args, "--config", str(config)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert len(withdrawals(tmp_path / "outbox")) == int(withdrawn)
    if not withdrawn:  # the corrected hand-off waits for the withdrawal of the bad one
        _, held = ingest(config, corrected(tmp_path), tmp_path / "early")
        assert {row["reason"] for row in held.values()} == {"claimed_by_running_run"}

    again = run(config, *args)
    assert again.exit_code == 0, again.output
    assert ("voided for unnamed already" in again.output) is withdrawn
    [withdrawal] = withdrawals(tmp_path / "outbox")  # once, whichever way it went
    assert withdrawal.read_text().count(bad_run) == 3
    _, decided = ingest(config, corrected(tmp_path), tmp_path / "good")
    assert {row["status"] for row in decided.values()} == {"accepted"}
    [void] = story(config, EIDS[0])["corrections"]
    assert void["withdrawal"] == "delivered"


def test_a_retired_pc_is_held_back_until_it_is_put_back(config: Path, tmp_path: Path) -> None:
    ingest(config, corrected(tmp_path), tmp_path / "first")
    plan = run(config, "retire", SERIALS[1], "--reason", "stolen")
    assert plan.exit_code == 0 and "Nothing was changed" in plan.output
    done = run(config, "retire", SERIALS[1], "--reason", "stolen", "--by", "bob", "--apply")
    assert done.exit_code == 0, done.output
    twice = run(config, "retire", EIDS[1], "--reason", "stolen", "--apply")
    assert twice.exit_code == 2 and "was retired already" in twice.output

    reshipped = manifest(tmp_path / "reshipped.csv", SERIALS[1:2], IMEIS[1:2], EIDS[1:2])
    _, held = ingest(config, reshipped, tmp_path / "held")
    row = held[EIDS[1]]
    assert (row["status"], row["reason"]) == ("conflict", "retired")
    assert "(stolen)" in row["detail"] and "eidflow retire --undo" in row["detail"]
    same_serial = manifest(tmp_path / "other-eid.csv", SERIALS[1:2], IMEIS[1:2], [eid(9)])
    _, by_serial = ingest(config, same_serial, tmp_path / "by-serial")
    assert by_serial[eid(9)]["reason"] == "retired"

    device = story(config, EIDS[1])
    assert device["device"]["retired"] is True
    assert [line["state"] for line in device["handoffs"]] == ["retired"]
    assert "RETIRED" in run(config, "show", EIDS[1]).output
    shown = run(config, "show", eid(9), "--json")  # the reshipped row is findable: why, when
    held_rows = json.loads(shown.stdout)["rows"]
    assert [(line["status"], line["reason"]) for line in held_rows] == [("conflict", "retired")]
    waiting = json.loads(run(config, "pending", "--json").stdout)
    assert all(pc["eid"] != eid(9) for step in waiting["steps"] for pc in step["pcs"])
    status = json.loads(run(config, "status", "--json").stdout)
    assert sum(item["steps"]["handed off"] for item in status["shipments"]) == 2
    retire_runs = [line for line in history(config).values() if line["kind"] == "retire"]
    assert [line["correction"] for line in retire_runs] == ["retired 1 PC(s) (stolen)"]

    wrong_undo = run(config, "retire", "--undo", EIDS[0], "--reason", "x", "--apply")
    assert wrong_undo.exit_code == 2 and "is not retired" in wrong_undo.output
    undone = run(config, "retire", "--undo", EIDS[1], "--reason", "found", "--apply")
    assert undone.exit_code == 0, undone.output
    _, again = ingest(config, reshipped, tmp_path / "again", "--reprocess")
    assert again[EIDS[1]]["status"] == "accepted"
    actions = [line["action"] for line in story(config, EIDS[1])["corrections"]]
    assert actions == ["retire", "undo"]
