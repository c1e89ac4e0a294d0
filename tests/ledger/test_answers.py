"""Operators' answers in the ledger, on SQLite and PostgreSQL: recorded once, never overwritten."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

from eidflow.core import answers as judging
from eidflow.ledger import SqlLedger, answer_queries, queries
from eidflow.ledger import resend as resending
from eidflow.ledger.answers import record_answers
from tests.core.test_answers import ICCID, ICCID_19, rows
from tests.ledger.helpers import devices, eid

SAME_FILE = "cd" * 32


@pytest.fixture
def handed(ledger: SqlLedger, tmp_path: Path) -> SqlLedger:
    """EIDs 1-3 delivered to 'op'; EID 4 to 'other'."""
    ledger.begin_run("ingest", str(tmp_path / "ingest"))
    ledger.claim_handoff("ingest", "op", devices((1, "S1"), (2, "S2"), (3, "S3")))
    ledger.claim_handoff("ingest", "other", devices((4, "S4")))
    ledger.finish_run("ingest")
    return ledger


def answer(
    ledger: SqlLedger,
    run_id: str,
    *lines: tuple[str, str, str],
    finish: bool = True,
    sha256: str = "",
) -> list[str]:
    """Read these answer lines for 'op' in a run of their own (from a file of its own
    unless ``sha256`` names one); the verdicts."""
    files = [
        {
            "name": "answers.csv",
            "sha256": sha256 or hashlib.sha256(run_id.encode()).hexdigest(),
            "rows": 0,
        }
    ]
    ledger.begin_run(run_id, f"/runs/{run_id}", kind="answers")
    judged = judging.judge_in_run(judging.judge_rows(rows(*lines)))
    decided = record_answers(ledger, run_id, "op", judged, files)
    if finish:
        ledger.finish_run(run_id)
    return decided["status"].tolist()


def stored(ledger: SqlLedger) -> list[tuple[str, str, str]]:
    with ledger.read() as connection:
        return [
            (str(e), str(x), str(i))
            for e, x, i in connection.all("SELECT eid, answer, iccid FROM answers ORDER BY id")
        ]


def test_answers_are_recorded_with_where_they_came_from(handed: SqlLedger) -> None:
    verdicts = answer(
        handed,
        "a1",
        (eid(1), "Success", ICCID_19 + "F"),
        (eid(2), "Error", ""),
        (eid(4), "Success", ICCID),
        sha256=SAME_FILE,
    )
    assert verdicts == ["recorded", "recorded", "not_handed_off"]
    assert stored(handed) == [(eid(1), "accepted", ICCID_19), (eid(2), "rejected", "")]
    with handed.read() as connection:
        [line] = answer_queries.answer_lines(connection, eid(1))
        story = queries.device_story(connection, eid(2))
        runs = queries.history(connection, 5)
    assert (line["source_file"], line["row"], line["file_sha256"], line["run_id"]) == (
        "answers.csv",
        2,
        SAME_FILE,
        "a1",
    )
    assert [item["answer"] for item in story["answers"]] == ["rejected"]
    assert runs[0]["answers"] == {"op": {"accepted": 1, "rejected": 1}}
    assert runs[0]["answer_files"][0]["sha256"] == SAME_FILE


def test_the_same_answers_twice_change_nothing(handed: SqlLedger) -> None:
    lines = ((eid(1), "Success", ICCID), (eid(2), "Error", ""))
    assert answer(handed, "a1", *lines, sha256=SAME_FILE) == ["recorded", "recorded"]
    assert answer(handed, "a2", *lines, sha256=SAME_FILE) == ["already_recorded"] * 2
    assert answer(handed, "a3", *lines) == ["already_recorded"] * 2  # the same, in another file
    assert stored(handed) == [(eid(1), "accepted", ICCID), (eid(2), "rejected", "")]


def test_a_different_answer_later_is_a_conflict_not_an_overwrite(handed: SqlLedger) -> None:
    answer(handed, "a1", (eid(1), "Success", ICCID), (eid(2), "Success", ""))
    assert answer(
        handed,
        "a2",
        (eid(1), "Failed", ""),
        (eid(2), "Success", ICCID),
        (eid(3), "Success", ICCID_19),
    ) == ["conflict", "recorded", "recorded"]
    assert stored(handed)[-2:] == [(eid(2), "accepted", ICCID), (eid(3), "accepted", ICCID_19)]
    with handed.read() as connection:
        force = answer_queries.in_force(connection, "op", [eid(1), eid(2)])
    assert (force[eid(1)]["iccid"], force[eid(2)]["iccid"]) == (ICCID, ICCID)


def test_a_live_runs_answers_count_and_an_aborted_runs_do_not(handed: SqlLedger) -> None:
    assert answer(handed, "a1", (eid(1), "Success", ICCID), finish=False) == ["recorded"]
    assert answer(handed, "a2", (eid(1), "Error", "")) == ["conflict"]
    handed.abort_run("a1", "stopped")
    assert answer(handed, "a3", (eid(1), "Error", "")) == ["recorded"]
    with handed.read() as connection:
        assert [line["answer"] for line in answer_queries.answer_lines(connection, eid(1))] == [
            "rejected"
        ]


def test_after_a_resend_the_next_answer_is_taken(handed: SqlLedger, tmp_path: Path) -> None:
    answer(handed, "a1", (eid(1), "Error", ""))
    handed.begin_run("again", str(tmp_path / "again"), kind="resend")
    with handed.read() as connection:
        frame = resending.handoff_frame(connection, [eid(1)], "op")
    resending.claim_resend(handed, "again", resending.Request("op", "fixed", "me"), frame)
    handed.finish_run("again")
    assert answer(handed, "a2", (eid(1), "Success", ICCID)) == ["recorded"]
    with handed.read() as connection:
        lines = answer_queries.answer_lines(connection, eid(1))
    assert [(line["answer"], line["superseded_by"]) for line in lines] == [
        ("rejected", "again"),
        ("accepted", ""),
    ]


def test_many_eids_are_looked_up_in_batches(handed: SqlLedger, tmp_path: Path) -> None:
    handed.begin_run("big", str(tmp_path / "big"))
    handed.claim_handoff("big", "op", devices(*((n, f"B{n}") for n in range(10, 1210))))
    handed.finish_run("big")
    lines = [(eid(n), "Success", "") for n in range(10, 1210)]
    assert set(answer(handed, "a1", *lines)) == {"recorded"}
    assert set(answer(handed, "a2", *lines)) == {"already_recorded"}
    assert len(pd.Series(stored(handed))) == 1200


def test_an_old_file_read_again_after_a_resend_changes_nothing(
    handed: SqlLedger, tmp_path: Path
) -> None:
    """The answer a re-send superseded is not taken again from the file it came from."""
    answer(handed, "a1", (eid(1), "Error", ""), sha256=SAME_FILE)
    handed.begin_run("again", str(tmp_path / "again"), kind="resend")
    with handed.read() as connection:
        frame = resending.handoff_frame(connection, [eid(1)], "op")
    resending.claim_resend(handed, "again", resending.Request("op", "fixed", "me"), frame)
    handed.finish_run("again")
    assert answer(handed, "a2", (eid(1), "Error", ""), sha256=SAME_FILE) == ["already_recorded"]
    assert stored(handed) == [(eid(1), "rejected", "")]


CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    from eidflow.core import answers as judging
    from eidflow.ledger import open_ledger
    from eidflow.ledger.answers import record_answers
    from tests.core.test_answers import ICCID, rows
    from tests.ledger.helpers import eid

    url, run_dir, then = sys.argv[1], sys.argv[2], sys.argv[3]
    ledger = open_ledger(url)
    ledger.begin_run("dead-answers", run_dir, kind="answers")
    judged = judging.judge_in_run(judging.judge_rows(rows((eid(1), "Success", ICCID))))
    record_answers(ledger, "dead-answers", "op", judged, [{"name": "answers.csv", "sha256": "ef" * 32, "rows": 1}])
    ledger.start_delivery("dead-answers", {"rows": 1})
    if then == "complete":
        os.makedirs(run_dir, exist_ok=True)
        with open(os.path.join(run_dir, "summary.json"), "w") as handle:
            json.dump({"run_id": "dead-answers"}, handle)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


@pytest.mark.parametrize(("then", "counted"), [("complete", True), ("before_summary", False)])
def test_a_killed_answers_run_counts_only_if_its_summary_was_written(
    handed: SqlLedger, url: str, tmp_path: Path, then: str, counted: bool
) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(tmp_path / "dead"), then],
        cwd=Path(__file__).parents[2],
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    verdict = answer(handed, "next", (eid(1), "Success", ICCID))
    assert verdict == (["already_recorded"] if counted else ["recorded"])
    with handed.read() as connection:
        state = connection.scalar("SELECT state FROM runs WHERE run_id = 'dead-answers'")
    assert state == ("recovered" if counted else "abandoned")
