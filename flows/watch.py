"""``watch-inbox``: ingest the manifests that arrived in the inbox, one run at a time.

New manifests are told apart by the sha256 of their bytes (the ledger remembers every
manifest a complete run processed), so a file dropped twice, or left behind by a run that
died after its ledger commit, is archived without a second hand-off. After the run, every
manifest it read goes to ``archive/``, every unreadable one to ``quarantine/`` with its reason,
except one that failed to read for a passing reason (network, storage service): it stays in
the inbox for the next run. If the run fails (ledger busy, delivery failed), the files stay
in the inbox for the next run too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict

from app.pipeline import IngestRequest, RunResult
from app.runfolder import new_run_id
from app.settings import Settings
from eidflow.ledger import open_ledger
from flows import inbox, runs
from flows.ingest import ingest_with_artifacts
from flows.retries import IO_RETRIES
from flows.settings_loader import load_flow_settings

IO: dict[str, Any] = {**IO_RETRIES, "cache_policy": NO_CACHE}
FLOW_NAME = "watch-inbox"


class WatchParameters(BaseModel):
    """Overrides of eidflow.toml for one run; by default everything comes from the file."""

    model_config = ConfigDict(extra="forbid")

    inbox: str | None = None  # a folder or s3://bucket/prefix/; None: [flows] inbox
    config_file: str | None = None
    ledger_url: runs.LedgerUrlParameter = None


@dataclass
class InboxOutcome:
    inbox: str
    run_id: str = ""  # the ingest run, when there was something new
    exit_code: int = 0
    archived: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    left_for_next_run: list[str] = field(default_factory=list)  # unreadable for now
    already_processed: list[str] = field(default_factory=list)
    skipped_busy: bool = False  # another run held the inbox
    held_rows: int = 0  # rows another run not finished had claimed (their files stay)
    unreadable_for_now: int = 0  # files left in the inbox because they could not be read

    def left_undone(self) -> list[str]:
        """What this run could not do, one phrase each: why its flow run ends Failed."""
        undone = []
        if self.quarantined:
            undone.append(f"{len(self.quarantined)} file(s) quarantined")
        if self.unreadable_for_now:
            undone.append(
                f"{self.unreadable_for_now} file(s) unreadable for now, left in the inbox"
            )
        if self.held_rows:
            undone.append(f"{self.held_rows} row(s) held back for a run not finished yet")
        return undone

    def line(self) -> str:
        return (
            f"{len(self.archived)} archived, {len(self.quarantined)} quarantined,"
            f" {len(self.left_for_next_run)} left for the next run"
        )


@task(name="list-arrivals", **IO)
def list_arrivals(inbox_url: str, settings: Settings) -> list[inbox.Arrival]:
    """The manifests waiting in the inbox, with their sha256."""
    return inbox.list_arrivals(inbox_url, settings.delivery.s3)


@task(name="sort-out-seen", **IO)
def sort_out_seen(
    arrivals: list[inbox.Arrival], settings: Settings
) -> tuple[list[inbox.Arrival], list[inbox.Arrival]]:
    """(new, already processed by a complete run), by sha256 in the ledger."""
    ledger = open_ledger(settings.ledger.url)
    try:
        seen = [a for a in arrivals if ledger.manifest_seen(a.sha256) is not None]
    finally:
        ledger.close()
    return [a for a in arrivals if a not in seen], seen


@task(name="file-away", **IO)
def file_away(
    arrival: inbox.Arrival, reason: str, settings: Settings, read_sha256: str = ""
) -> str:
    """Move one manifest to archive/, or to quarantine/ when ``reason`` says it was unreadable;
    one rewritten since it was read (``read_sha256``) stays in the inbox."""
    if reason:
        return inbox.quarantine(arrival, reason, settings.delivery.s3, read_sha256)
    return inbox.archive(arrival, settings.delivery.s3, read_sha256)


@flow(name=FLOW_NAME)
def watch_inbox(parameters: WatchParameters | None = None) -> Any:
    """Ingest what is new in the inbox, then archive or quarantine each file."""
    parameters = parameters or WatchParameters()
    settings = load_flow_settings(parameters.config_file, parameters.ledger_url)
    inbox_url = parameters.inbox or settings.flows.inbox
    refused = runs.heartbeat_refusal(settings.flows.heartbeat_seconds)
    if refused:
        return runs.failed_state(refused, None)
    with runs.logs_in_run():
        outcome = _watch(inbox_url, settings)
    undone = outcome.left_undone()
    if undone:
        return runs.failed_state(
            f"run {outcome.run_id or '-'} on {inbox_url}: {'; '.join(undone)} ({outcome.line()});"
            " the flow run's log says why for each file.",
            outcome,
        )
    return outcome


def _watch(inbox_url: str, settings: Settings) -> InboxOutcome:
    log = get_run_logger()
    outcome = InboxOutcome(inbox_url)
    with inbox.inbox_lock(inbox_url) as free:
        if not free:
            log.warning("another watch-inbox run is working on %s; this one stops", inbox_url)
            outcome.skipped_busy = True
            return outcome
        listed: list[inbox.Arrival] = list_arrivals(inbox_url, settings)
        arrivals = [arrival for arrival in listed if not arrival.error]
        file_unreadable([arrival for arrival in listed if arrival.error], settings, outcome, log)
        new, seen = sort_out_seen(arrivals, settings)
        for arrival in seen:
            moved = file_away(arrival, "", settings)
            filed(outcome, outcome.already_processed, moved, arrival, log)
        if seen:
            log.info("%d manifest(s) were processed before; archived again", len(seen))
        if not new:
            log.info("nothing new in %s", inbox_url)
            return outcome
        result = _ingest(new, settings)
        outcome.run_id, outcome.exit_code = result.run_id, result.exit_code
        outcome.held_rows = sum(record.claimed_by_running_runs for record in result.inputs)
        records = {record.path: record for record in result.inputs if record.kind == "manifest"}
        for arrival in new:
            record = records.get(arrival.source)
            if record is not None and record.claimed_by_running_runs:
                # Another run, not finished, holds some of its rows: if it fails, the next
                # run here must read this file again, so it stays in the inbox.
                outcome.left_for_next_run.append(arrival.source)
                log.warning(
                    "[run %s] left %s in the inbox: %d row(s) are being handed off by a run"
                    " not finished yet",
                    result.run_id,
                    arrival.name,
                    record.claimed_by_running_runs,
                )
                continue
            if record is not None and record.transient:
                outcome.left_for_next_run.append(arrival.source)
                outcome.unreadable_for_now += 1
                log.warning(
                    "[run %s] left %s in the inbox for the next run: %s",
                    result.run_id,
                    arrival.name,
                    record.error,
                )
                continue
            error = record.error if record is not None else ""
            read = record.sha256 if record is not None else ""
            moved = file_away(arrival, error, settings, read)
            filed(outcome, outcome.quarantined if error else outcome.archived, moved, arrival, log)
            if error and not inbox.left_in_inbox(arrival, moved):
                log.warning("[run %s] quarantined %s: %s", result.run_id, arrival.name, error)
    log.info("[run %s] %s", outcome.run_id, outcome.line())
    return outcome


def filed(
    outcome: InboxOutcome, moves: list[str], moved: str, arrival: inbox.Arrival, log: Any
) -> None:
    """Note where ``arrival`` went (``moved``) in ``outcome``: into ``moves``, or left in
    the inbox for the next run."""
    if inbox.left_in_inbox(arrival, moved):
        outcome.left_for_next_run.append(moved)
        log.warning(
            "%s was rewritten since it was read: left in the inbox as %s for the next run",
            arrival.source,
            moved,
        )
    elif moved:
        moves.append(moved)
    else:
        log.warning("%s left the inbox before it could be filed away", arrival.source)


def file_unreadable(
    arrivals: list[inbox.Arrival], settings: Settings, outcome: InboxOutcome, log: Any
) -> None:
    """Files the listing could not read: quarantined with the reason, or left in the inbox
    when the reason may pass (S3 throttling, a 5xx) or the file cannot even be moved."""
    for arrival in arrivals:
        if not arrival.transient:
            try:
                moved = inbox.quarantine(arrival, arrival.error, settings.delivery.s3)
            except Exception as error:  # e.g. S3 denies copying what it denies reading
                log.warning(
                    "%s: %s; cannot quarantine it either (%s)", arrival.name, arrival.error, error
                )
            else:
                filed(outcome, outcome.quarantined, moved, arrival, log)
                log.warning("quarantined %s: %s", arrival.name, arrival.error)
                continue
        outcome.left_for_next_run.append(arrival.source)
        outcome.unreadable_for_now += 1
        log.warning("left %s in the inbox for the next run: %s", arrival.name, arrival.error)


def _ingest(new: list[inbox.Arrival], settings: Settings) -> RunResult:
    """One ingest run over the new manifests, each step a task; then its artifacts."""
    file_inventory = settings.flows.inventory_source == "file"
    request = IngestRequest(
        manifests=[arrival.source for arrival in new],
        # S3 objects as listed (the version of their ETag), so each is downloaded once
        read_already={arrival.source: arrival.data for arrival in new if arrival.etag},
        inventory=(settings.flows.inventory or None) if file_inventory else None,
        entra_devices=(settings.flows.entra_devices or None) if file_inventory else None,
        autopilot=settings.flows.autopilot or None,
        run_id=new_run_id(),
    )
    return ingest_with_artifacts(request, settings, FLOW_NAME)
