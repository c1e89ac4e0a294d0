"""reconcile-pending reads the answers inbox: the sample answer files of contoso-mobile,
recorded after a real ingest of the sample manifests, then archived; read once only."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import boto3
import pytest
from prefect.artifacts import Artifact

from eidflow.ledger import open_ledger
from eidflow.s3 import S3Settings
from flows.reconcile import ReconcileParameters, reconcile_pending
from tests.flows.runs import finished
from tests.flows.tenant import ANSWER_FILES, OPERATOR, SAMPLES, samples_ingested

pytestmark = pytest.mark.usefixtures("prefect_harness")


def accepted_in_funnel() -> int:
    table = Artifact.get("reconcile-pending-funnel")
    assert table is not None
    rows = json.loads(table.data) if isinstance(table.data, str) else table.data
    return int(next(row["PCs"] for row in rows if row["step"] == "accepted by the operator"))


def answers_in_ledger(tmp_path: Path) -> int:
    ledger = open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        with ledger.read() as connection:
            return int(connection.scalar("SELECT COUNT(*) FROM answers"))
    finally:
        ledger.close()


def test_the_daily_run_records_the_answer_files_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    answers = tmp_path / "answers"
    (answers / OPERATOR).mkdir(parents=True)
    for name in ANSWER_FILES:
        shutil.copy(SAMPLES / name, answers / OPERATOR / name)
    (answers / "fabrikam-tel").mkdir()
    (answers / "fabrikam-tel" / "whose.csv").write_bytes(b"EID,Status\n")
    (answers / "loose.csv").write_bytes(b"EID,Status\n")
    config = samples_ingested(tmp_path, str(answers))
    parameters = ReconcileParameters(config_file=str(config))

    with caplog.at_level(logging.WARNING):
        outcome = finished(reconcile_pending, parameters)

    taken = outcome.answers
    assert list(taken.runs) == [OPERATOR] and taken.quarantined == []
    # One run over both files: the EID installed on the 1st and failed on the 2nd is a
    # conflict within the run (both rows), so 3 of the CSV's rows and 4 of the workbook's.
    assert taken.rows[OPERATOR] == {
        "conflict": 4,
        "duplicate": 1,
        "invalid": 5,
        "not_handed_off": 1,
        "pending": 1,
        "recorded": 7,
    }
    assert sorted(Path(path).name for path in taken.archived) == sorted(ANSWER_FILES)
    assert sorted(p.name for p in (answers / OPERATOR).iterdir()) == ["archive"]
    assert sorted(p.name for p in (answers / OPERATOR / "archive").iterdir()) == sorted(
        ANSWER_FILES
    )
    assert answers_in_ledger(tmp_path) == 7
    assert accepted_in_funnel() == 4  # 0 before: nothing had been answered
    # Whose answer a file is is never guessed: both stay, named in one warning.
    assert taken.not_placed == ["loose.csv", "fabrikam-tel/whose.csv"]
    assert (answers / "loose.csv").exists() and (answers / "fabrikam-tel" / "whose.csv").exists()
    [warning] = [r.getMessage() for r in caplog.records if "unread" in r.getMessage()]
    assert "loose.csv, fabrikam-tel/whose.csv" in warning and OPERATOR in warning
    summary = json.loads((Path(outcome.run_dir) / "summary.json").read_text())
    assert summary["answers"]["runs"] == taken.runs
    answers_run = tmp_path / "runs" / taken.runs[OPERATOR]
    assert json.loads((answers_run / "summary.json").read_text())["kind"] == "answers"

    again = finished(reconcile_pending, parameters)
    assert again.answers.runs == {} and again.answers.archived == []
    assert answers_in_ledger(tmp_path) == 7 and accepted_in_funnel() == 4


def test_an_unreadable_answer_file_is_quarantined_and_the_run_ends_failed(
    tmp_path: Path,
) -> None:
    answers = tmp_path / "answers"
    (answers / OPERATOR).mkdir(parents=True)
    shutil.copy(SAMPLES / ANSWER_FILES[0], answers / OPERATOR / ANSWER_FILES[0])
    (answers / OPERATOR / "notes.csv").write_bytes(b"just a note\n")
    config = samples_ingested(tmp_path, str(answers))

    outcome = finished(
        reconcile_pending,
        ReconcileParameters(config_file=str(config)),
        state="Failed",
        says="1 answer file(s) quarantined",
    )

    assert [Path(path).name for path in outcome.answers.archived] == [ANSWER_FILES[0]]
    assert [Path(path).name for path in outcome.answers.quarantined] == ["notes.csv"]
    reason = (answers / OPERATOR / "quarantine" / "notes.csv.reason.txt").read_text()
    assert "no answer table" in reason
    assert accepted_in_funnel() == 3


def test_an_answers_inbox_on_s3(tmp_path: Path, s3_bucket: S3Settings) -> None:
    client = boto3.client("s3", endpoint_url=s3_bucket.endpoint_url, region_name=s3_bucket.region)
    for name in ANSWER_FILES:
        key = f"answers/{OPERATOR}/{name}"
        client.put_object(Bucket=s3_bucket.bucket, Key=key, Body=(SAMPLES / name).read_bytes())
    s3 = {"endpoint_url": s3_bucket.endpoint_url, "region": s3_bucket.region}
    config = samples_ingested(tmp_path, f"s3://{s3_bucket.bucket}/answers/", **{"delivery.s3": s3})

    outcome = finished(reconcile_pending, ReconcileParameters(config_file=str(config)))

    assert outcome.answers.rows[OPERATOR]["recorded"] == 7
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket.bucket)["Contents"]}
    assert {f"answers/{OPERATOR}/archive/{name}" for name in ANSWER_FILES} <= keys
    assert not {f"answers/{OPERATOR}/{name}" for name in ANSWER_FILES} & keys
    assert answers_in_ledger(tmp_path) == 7
