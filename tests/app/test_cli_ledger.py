"""eidflow history, show and resend, through the real command group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy
from click.testing import CliRunner, Result

from app.cli import main
from eidflow.identifiers.eid import format as printed
from eidflow.ledger import liveness, open_ledger, queries
from eidflow.ledger import resend as resending
from tests.ledger.helpers import devices, eid


@pytest.fixture
def ledger_url(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ledger holding one complete run: EIDs 1 and 2 delivered to 'unnamed'."""
    monkeypatch.chdir(tmp_path)
    ledger = open_ledger(url)
    ledger.begin_run("run-1", str(tmp_path / "run-1"))
    rows = devices((1, "SER-1"), (2, "SER-2"), source_file="dell.xlsx")
    rows["manufacturer"], rows["model"] = "Dell Inc.", "Latitude 7450"
    ledger.claim_handoff("run-1", "unnamed", rows)
    ledger.mark_delivered("run-1", "unnamed", [{"path": "operator/unnamed/a.csv", "rows": 2}])
    ledger.finish_run("run-1", [{"sha256": "ab" * 32, "name": "dell.xlsx", "rows": 2}], {"rows": 2})
    ledger.close()
    return url


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_history_lists_runs_manifests_and_hand_offs(ledger_url: str) -> None:
    result = run("history", "--ledger", ledger_url, "--json")
    assert result.exit_code == 0, result.output
    [line] = json.loads(result.output)["runs"]
    assert line["run_id"] == "run-1" and line["state"] == "complete"
    assert [(m["name"], m["rows"]) for m in line["manifests"]] == [("dell.xlsx", 2)]
    assert line["handoffs"] == {"unnamed": {"delivered": 2}}
    table = run("history", "--ledger", ledger_url)
    assert table.exit_code == 0 and "run-1" in table.output


def test_history_piped_keeps_each_entry_on_one_line(ledger_url: str) -> None:
    """Under cron or in a pipe there is no terminal width: nothing is folded to 80 columns."""
    table = run("history", "--ledger", ledger_url)
    [line] = [line for line in table.output.splitlines() if "dell.xlsx" in line]
    assert "run-1" in line and f"sha256 {'ab' * 6})" in line and "unnamed: 2 delivered" in line


@pytest.mark.parametrize("key", [eid(1), printed(eid(1)), "SER-1", "ser-1"])
def test_show_finds_a_device_by_eid_or_serial(ledger_url: str, key: str) -> None:
    result = run("show", key, "--ledger", ledger_url, "--json")
    assert result.exit_code == 0, result.output
    [story] = json.loads(result.output)["devices"]
    assert story["device"]["eid"] == eid(1)
    assert (story["device"]["source_file"], story["device"]["row"]) == ("dell.xlsx", 2)
    assert story["device"]["manifest_sha256"] == "ab" * 32
    [handoff] = story["handoffs"]
    assert (handoff["operator"], handoff["state"], handoff["run_id"]) == (
        "unnamed",
        "delivered",
        "run-1",
    )
    assert handoff["file"] == "operator/unnamed/a.csv"


def test_show_prints_the_story_for_people(ledger_url: str) -> None:
    result = run("show", "SER-1", "--ledger", ledger_url)
    assert result.exit_code == 0, result.output
    for expected in (eid(1), "dell.xlsx", "delivered", "run-1", "Intune state history: none"):
        assert expected in result.output


def test_show_of_an_unknown_device_exits_1(ledger_url: str) -> None:
    result = run("show", "NO-SUCH-SERIAL", "--ledger", ledger_url)
    assert result.exit_code == 1
    assert "not in the ledger" in result.output


def test_show_of_an_eid_with_wrong_check_digits_says_a_digit_is_mistyped(ledger_url: str) -> None:
    mistyped = eid(1)[:-2] + f"{(int(eid(1)[-2:]) + 1) % 97:02d}"
    result = run("show", mistyped, "--ledger", ledger_url)
    assert result.exit_code == 2
    assert "check digits" in result.output and "mistyped" in result.output
    assert "not in the ledger" not in result.output


def test_a_missing_sqlite_ledger_is_not_created_by_a_question(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    result = run("history", "--ledger", f"sqlite:///{missing}")
    assert result.exit_code == 2
    assert "no ledger at" in result.output
    assert not missing.exists()


def test_an_empty_database_is_not_made_a_ledger_by_a_question(url: str, tmp_path: Path) -> None:
    # ``url`` is an empty PostgreSQL schema, or (SQLite) an empty file we make here.
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).touch()
    expected = "an empty file (0 bytes)" if url.startswith("sqlite") else "holds no eidflow ledger"
    for question in (("history",), ("show", "SER-1")):
        result = run(*question, "--ledger", url)
        assert result.exit_code == 2, result.output
        assert expected in result.output
    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        assert sqlalchemy.inspect(connection).get_table_names() == []
    engine.dispose()


def test_resend_refuses_without_a_reason(ledger_url: str, tmp_path: Path) -> None:
    result = run("resend", eid(1), "--operator", "unnamed", "--ledger", ledger_url)
    assert result.exit_code == 2
    assert "--reason" in result.output
    assert not (tmp_path / "runs").exists()


def test_resend_writes_a_new_run_and_records_why(ledger_url: str, tmp_path: Path) -> None:
    out = tmp_path / "resend-run"
    result = run(
        "resend", "SER-2", "--operator", "unnamed", "--reason", "portal lost the upload",
        "--by", "alice", "--out", str(out), "--ledger", ledger_url,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "resend" and summary["counts"]["rows"] == 1
    [handoff_file] = [
        out / item["path"] for item in summary["outputs"] if item["kind"] == "operator"
    ]
    assert (out / "receipt.json").is_file()  # delivered in place: the run folder is the hand-off
    lines = handoff_file.read_text().splitlines()
    assert lines[0].startswith("EID,")
    assert [line.split(",")[0] for line in lines[1:]] == [eid(2)]
    assert "Dell Inc." in lines[1]
    story = json.loads(run("show", eid(2), "--ledger", ledger_url, "--json").output)
    resent = [line for line in story["devices"][0]["handoffs"] if line["resend_reason"]]
    assert [(line["resend_reason"], line["requested_by"], line["state"]) for line in resent] == [
        ("portal lost the upload", "alice", "delivered")
    ]


@pytest.mark.parametrize(
    ("key", "operator"),
    [(eid(1), "nobody"), (eid(99), "unnamed"), ("NO-SUCH-SERIAL", "unnamed")],
)
def test_resend_of_what_was_never_delivered_is_refused(
    ledger_url: str, key: str, operator: str
) -> None:
    result = run(
        "resend", key, "--operator", operator, "--reason", "x", "--ledger", ledger_url
    )  # fmt: skip
    assert result.exit_code == 2
    assert "eidflow:" in result.output


def test_resend_of_an_eid_with_wrong_check_digits_says_so(ledger_url: str) -> None:
    mistyped = eid(2)[:-2] + f"{(int(eid(2)[-2:]) + 1) % 100:02d}"
    result = run(
        "resend", printed(mistyped), "--operator", "unnamed", "--reason", "x", "--ledger", ledger_url
    )  # fmt: skip
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert "looks like an EID" in line and "check digits" in line
    assert "not in the ledger" not in line


@pytest.mark.postgres
def test_a_resend_taken_for_dead_while_alive_ends_delivered(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL: the re-send's session (its advisory lock) is lost, another run settles it
    as dead and releases its line, but the re-send goes on and delivers: its line is
    delivered after all (a re-send line is outside the exactly-once claim: nobody took it)."""
    seeded = open_ledger(pg_url)
    seeded.begin_run("run-1", str(tmp_path / "run-1"))
    seeded.claim_handoff("run-1", "unnamed", devices((1, "SER-1")))
    seeded.mark_delivered("run-1", "unnamed", [])
    seeded.finish_run("run-1", [], {})
    seeded.close()
    alive = open_ledger(pg_url)
    alive.begin_run("again", str(tmp_path / "again"), kind="resend")
    with alive.read() as connection:
        handoff = resending.handoff_frame(connection, [eid(1)], "unnamed")
    resending.claim_resend(alive, "again", resending.Request("unnamed", "lost", "bob"), handoff)
    alive._run_locks["again"].close()  # the lock's session ends: the run looks dead
    liveness.LIVE_HERE.discard("again")  # ... to any other process
    other = open_ledger(pg_url)
    try:
        other.begin_run("other", str(tmp_path / "other"))  # settles "again": folder incomplete
        alive.mark_delivered("again", "unnamed", [])
        alive.finish_run("again", [], {})
        with other.read() as connection:
            story = queries.device_story(connection, eid(1))
        assert [(line["run_id"], line["state"]) for line in story["handoffs"]] == [
            ("run-1", "delivered"),
            ("again", "delivered"),
        ]
    finally:
        alive.close()
        other.close()
