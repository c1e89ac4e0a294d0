"""``eidflow operator-response`` on the bundled samples, then ``show`` and ``resend``, on
SQLite and PostgreSQL, through the real command group."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from app.cli import main
from eidflow.ledger import open_ledger
from tests.cli import eidflow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
CONFIG = SAMPLES / "eidflow.toml"
ANSWERS = SAMPLES / "contoso-mobile-answers-2026-12-01.csv"
ERRORS = SAMPLES / "contoso-mobile-errors-2026-12-02.xlsx"
OPERATOR = "contoso-mobile"
# EIDs of data/samples/make_samples.py, by their number there
EID = {
    1: "89049032123451234500082934895135",
    3: "89049032123451234500248804685324",
    4: "89049032123451234500331739580467",
    6: "89049032123451234500497609370656",
    8: "89049032123451234500663479160845",
}


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(arg) for arg in args])


def respond(ledger_url: str, *files: Path, out: Path | None = None) -> Result:
    extra = ("--out", out) if out else ()
    return run(
        "operator-response", *files, "--operator", OPERATOR, "--config", CONFIG,
        "--ledger", ledger_url, "--json", *extra,
    )  # fmt: skip


def decisions(result: Result) -> list[dict[str, str]]:
    folder = Path(json.loads(result.stdout)["run_dir"])
    with (folder / "answer-decisions.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def ledger_url(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The bundled manifests ingested: 12 EIDs handed off to contoso-mobile."""
    monkeypatch.chdir(tmp_path)
    result = run(
        "ingest", SAMPLES / "dell-asn-PO-2026-1187.xlsx", SAMPLES / "lenovo-shipment-4401190.csv",
        "--config", CONFIG, "--ledger", url, "--no-progress",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return url


def test_the_sample_answers_are_judged_row_by_row(ledger_url: str) -> None:
    first = respond(ledger_url, ANSWERS)
    assert first.exit_code == 0, first.output
    lines = decisions(first)
    assert [(line["row"], line["status"], line["reason"]) for line in lines] == [
        ("2", "recorded", ""),  # Success, ICCID with F padding
        ("3", "recorded", ""),  # Installed
        ("4", "recorded", ""),  # Error: rejected with its reason
        ("5", "invalid", "iccid_checksum"),
        ("6", "recorded", ""),
        ("7", "duplicate", "duplicate_in_run"),  # the same line twice
        ("8", "conflict", "conflict_in_run"),  # rejected...
        ("9", "conflict", "conflict_in_run"),  # ...and accepted
        ("10", "not_handed_off", "not_handed_off"),  # held back at ingest as a conflict
        ("11", "invalid", "eid_checksum"),
        ("12", "invalid", "eid_precision_lost"),  # typed as a number
        ("13", "pending", "answer_pending"),
    ]
    assert (
        lines[0]["iccid"] + "F" == lines[0]["iccid_raw"] and "iccid_padded" in lines[0]["warnings"]
    )
    summary = json.loads(first.stdout)
    assert summary["kind"] == "answers" and summary["counts"]["recorded_by_answer"] == {
        "accepted": 3,
        "rejected": 1,
    }
    assert summary["inputs"][0]["sha256"] and summary["outputs"][0]["rows"] == 12
    assert summary["inputs"][0]["skipped"] == {
        "blank_rows": 0,
        "other_rows": 0,
        "sheets_without_table": [],
    }

    second = respond(ledger_url, ERRORS)
    assert second.exit_code == 0, second.output
    assert [
        (line["sheet"], line["row"], line["status"], line["reason"]) for line in decisions(second)
    ] == [
        ("Order 77120", "4", "recorded", ""),  # Failed
        ("Order 77120", "5", "invalid", "eid_precision_lost"),  # an EID number cell
        ("Order 77120", "6", "conflict", "conflict_earlier_answer"),  # installed yesterday
        ("Order 77120", "7", "recorded", ""),  # Cancelled
        ("Order 77120", "8", "invalid", "iccid_precision_lost"),  # an ICCID number cell
        ("Order 77120", "9", "recorded", ""),  # Released
        ("Order 77120", "10", "recorded", ""),  # the ICCID right this time
    ]


def count_answers(url: str) -> int:
    ledger = open_ledger(url)
    try:
        with ledger.read() as connection:
            return int(connection.scalar("SELECT COUNT(*) FROM answers"))
    finally:
        ledger.close()


def test_the_same_file_twice_changes_nothing(ledger_url: str) -> None:
    assert respond(ledger_url, ANSWERS, ERRORS).exit_code == 0
    before = count_answers(ledger_url)
    again = respond(ledger_url, ANSWERS, ERRORS)
    assert again.exit_code == 0, again.output
    assert count_answers(ledger_url) == before
    statuses = {line["status"] for line in decisions(again)}
    assert "recorded" not in statuses and "already_recorded" in statuses


def test_show_tells_the_answer_and_a_rejected_eid_is_resent(
    ledger_url: str, tmp_path: Path
) -> None:
    assert respond(ledger_url, ANSWERS).exit_code == 0
    shown = run("show", EID[4], "--ledger", ledger_url, "--json")
    [story] = json.loads(shown.stdout)["devices"]
    [said] = story["answers"]
    assert (said["answer"], said["reason"], said["row"]) == (
        "rejected",
        "EID not registered with the SM-DP+",
        4,
    )
    table = run("show", EID[4], "--ledger", ledger_url)
    assert "answer of contoso-mobile" in table.output and "rejected" in table.output

    resent = run(
        "resend", EID[4], "--operator", OPERATOR, "--config", CONFIG, "--ledger", ledger_url,
        "--out", tmp_path / "resend", "--json",
    )  # fmt: skip
    assert resent.exit_code == 0, resent.output
    reason = json.loads(resent.stdout)["resend"]["reason"]
    assert reason.startswith("rejected by contoso-mobile: EID not registered with the SM-DP+")
    [handoff] = [h for h in json.loads(run("show", EID[4], "--ledger", ledger_url, "--json").stdout)[
        "devices"][0]["handoffs"] if h["resend_reason"]]  # fmt: skip
    assert handoff["state"] == "delivered"

    # after the re-send, the operator's new answer is taken (not a conflict)
    later = tmp_path / "later.csv"
    later.write_text(f"EID,Status,ICCID\n{EID[4]},Success,89014103211118510720\n")
    answered = respond(ledger_url, later)
    assert [line["status"] for line in decisions(answered)] == ["recorded"]
    story = json.loads(run("show", EID[4], "--ledger", ledger_url, "--json").stdout)["devices"][0]
    assert [(a["answer"], bool(a["superseded_by"])) for a in story["answers"]] == [
        ("rejected", True),
        ("accepted", False),
    ]


def test_resend_without_a_reason_of_an_accepted_eid_is_refused(ledger_url: str) -> None:
    assert respond(ledger_url, ANSWERS).exit_code == 0
    result = run(
        "resend", EID[3], "--operator", OPERATOR, "--config", CONFIG, "--ledger", ledger_url
    )
    assert result.exit_code == 2 and "--reason" in result.output


def test_history_shows_the_answer_runs(ledger_url: str) -> None:
    assert respond(ledger_url, ANSWERS).exit_code == 0
    [latest, *_] = json.loads(run("history", "--ledger", ledger_url, "--json").stdout)["runs"]
    assert latest["kind"] == "answers" and latest["state"] == "complete"
    assert latest["answers"] == {OPERATOR: {"accepted": 3, "rejected": 1}}
    assert [item["name"] for item in latest["answer_files"]] == [str(ANSWERS)]


def test_an_unreadable_file_is_one_line_and_the_others_go_on(
    ledger_url: str, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    result = eidflow(
        "operator-response", broken, ANSWERS, "--operator", OPERATOR, "--config", CONFIG,
        "--ledger", ledger_url, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    first, *looks = result.stderr.strip().splitlines()
    assert first.startswith(f"eidflow: {broken}: is a damaged or truncated workbook")
    assert all(line.startswith("eidflow: ") and "answer-decisions.csv" in line for line in looks)
    assert "Traceback" not in result.stderr and "12 answer row(s)" in result.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--operator", "nobody"), "no operator profile 'nobody'"),
        (("--operator", OPERATOR, "--response-profile", "x"), "no response profile 'x'"),
    ],
)
def test_usage_errors_exit_2(ledger_url: str, args: tuple[str, ...], says: str) -> None:
    result = run("operator-response", ANSWERS, *args, "--config", CONFIG, "--ledger", ledger_url)
    assert result.exit_code == 2 and says in result.output
