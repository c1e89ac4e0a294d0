"""``eidflow check``: an ingest's decisions, report and messages, with nothing claimed or sent.

The same steps as ``app.pipeline.run_ingest`` up to and including the dedupe, which asks
the ledger's verdict in one read transaction (``SqlLedger.judge``, without the claim
lock: a concurrent ingest does not wait for it). No run is begun, nothing is claimed,
recorded or delivered. decisions.csv and report.xlsx go to ``--out`` or to
``<runs_dir>/checks/check-<id>/``: a folder with no summary.json, not named like a run,
that ``history``, settling and the output root's check never count.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from app.pipeline import (
    IngestRequest,
    RunResult,
    check_output_root,
    check_request,
    decide,
    read_references,
    summarise,
)
from app.runfolder import new_run_id, prepare_run_dir, release_run_dir
from app.settings import Settings
from eidflow.ledger import SqlLedger, open_ledger, parse
from exporters import decisions as decisions_file
from exporters import report

LOG = logging.getLogger("eidflow")
CHECKS_DIR = "checks"  # under the output root: where a check's files go without --out


def run_check(request: IngestRequest, settings: Settings) -> RunResult:
    """Decide every row as ``eidflow ingest`` would now; write decisions.csv and report.xlsx."""
    started_at = datetime.now(UTC)
    check_request(request, settings)
    references = read_references(request, settings)
    check_id = f"check-{new_run_id(started_at)}"
    url = parse(settings.ledger.url)
    with _ledger_to_judge(settings) as ledger:
        runs_dir = settings.output.runs_dir
        check_output_root(ledger, runs_dir, request.new_ledger, dry=True, where=url.where)
        out_dir = prepare_run_dir(request.out_dir, runs_dir / CHECKS_DIR, check_id)
        try:
            frame, records = decide(request, settings, ledger, references, check_id, claim=False)
            outputs = [decisions_file.write_decisions(frame, out_dir)]
            inputs = records + references.records
            summary = summarise(check_id, started_at, inputs, frame, outputs, url.shown)
            outputs.append(report.write_report(frame, summary, out_dir, settings.report))
        finally:
            release_run_dir(out_dir)
    return RunResult(check_id, out_dir, summary["exit_status"], summary, inputs)


@contextlib.contextmanager
def _ledger_to_judge(settings: Settings) -> Iterator[SqlLedger]:
    """The ledger, opened without creating it; where a SQLite ledger does not exist yet, an
    empty one in a temporary folder, gone afterwards (the first ingest creates the real one)."""
    url = parse(settings.ledger.url)
    if url.path is None or url.path.exists():
        ledger = open_ledger(url, create=False)
        try:
            yield ledger
        finally:
            ledger.close()
        return
    LOG.warning(
        "no ledger at %s yet: judged as against an empty ledger (eidflow ingest creates it)",
        url.where,
    )
    with tempfile.TemporaryDirectory(prefix="eidflow-check-") as folder:
        empty = open_ledger(f"sqlite:///{Path(folder) / 'ledger.db'}")
        try:
            yield empty
        finally:
            empty.close()
