"""The answers inbox: operators' answer files, recorded by the daily ``reconcile-pending`` run.

``[flows] answers_inbox`` (a folder or an S3 prefix) holds one folder per ``[[operators]]``
name; each holds that operator's answer files (CSV or a workbook). The files of one
operator are recorded as one answers run (``app.answers``, as ``eidflow operator-response``
does), then filed away as the manifest inbox files them (``flows.inbox``): a recorded file
to ``archive/`` beside it, an unreadable one to ``quarantine/`` with its reason. A file
directly in the answers inbox, or in a folder that names no operator, is left where it is
and named in a warning: whose answer it is is never guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from app.answers import AnswersRun, record_answer_files
from app.settings import Settings
from eidflow.errors import ConfigError, printable
from eidflow.ledger import open_ledger
from flows import inbox
from flows.retries import IO_RETRIES
from flows.watch import InboxOutcome, file_away, file_unreadable, filed

IO: dict[str, Any] = {**IO_RETRIES, "cache_policy": NO_CACHE}


@dataclass(frozen=True)
class AnswerArrivals:
    """The answer files waiting, per operator, and those in no operator's folder."""

    by_operator: dict[str, list[inbox.Arrival]]
    not_placed: list[str]  # as "name" or "folder/name", relative to the answers inbox


@dataclass
class AnswersTaken:
    """What a run did with the answers inbox: one answers run per operator with files."""

    inbox: str
    runs: dict[str, str] = field(default_factory=dict)  # operator → its answers run id
    rows: dict[str, dict[str, int]] = field(default_factory=dict)  # operator → rows by status
    archived: list[str] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    left_for_next_run: list[str] = field(default_factory=list)
    not_placed: list[str] = field(default_factory=list)  # left where they are, unread
    skipped_busy: bool = False  # another run held the answers inbox
    error: str = ""  # why the answers inbox could not be read this time (the rest went on)


def check_answers_inbox(settings: Settings) -> None:
    """A folder answers inbox exists (checked before the run does anything)."""
    where = settings.flows.answers_inbox
    if where and not where.startswith("s3://") and not Path(where).is_dir():
        raise ConfigError(
            f"{where}: the answers inbox folder does not exist.",
            todo="Create it, with one folder per [[operators]] name in it, or set"
            ' [flows] answers_inbox = "" in eidflow.toml.',
        )


@task(name="list-answer-files", **IO)
def list_answer_files(answers_inbox: str, settings: Settings) -> AnswerArrivals:
    """The answer files in each operator's folder of the answers inbox, with their sha256."""
    operators = {item.name for item in settings.operators}
    files, folders = inbox.list_entries(answers_inbox, settings.delivery.s3)
    not_placed = list(files)
    by_operator: dict[str, list[inbox.Arrival]] = {}
    for folder in folders:
        where = inbox.subfolder(answers_inbox, folder)
        if folder in operators:
            by_operator[folder] = inbox.list_arrivals(where, settings.delivery.s3)
        else:
            names, _ = inbox.list_entries(where, settings.delivery.s3)
            not_placed += [f"{folder}/{name}" for name in names]
    return AnswerArrivals({k: v for k, v in by_operator.items() if v}, not_placed)


@task(name="record-answer-files", **IO)
def record_answer_arrivals(
    operator: str, arrivals: list[inbox.Arrival], settings: Settings
) -> AnswersRun:
    """One answers run over an operator's new answer files, recorded in the ledger."""
    ledger = open_ledger(settings.ledger.url)
    try:
        return record_answer_files(
            settings,
            ledger,
            tuple(arrival.source for arrival in arrivals),
            operator,
            read_already={arrival.source: arrival.data for arrival in arrivals if arrival.etag},
        )
    finally:
        ledger.close()


def take_answers(settings: Settings, call: Callable[..., Any], log: Any) -> AnswersTaken:
    """Record the answer files waiting in ``[flows] answers_inbox``, then file each away;
    each step through ``call`` (a Prefect task, or its plain function). A failure (S3 or
    the ledger still down after the retries) is told in ``error``: the run goes on."""
    taken = AnswersTaken(settings.flows.answers_inbox)
    try:
        _take_all(settings, taken, call, log)
    except Exception as error:
        taken.error = printable(str(error) or type(error).__name__)
        log.error("the answers inbox %s could not be read: %s", taken.inbox, taken.error)
    return taken


def _take_all(settings: Settings, taken: AnswersTaken, call: Callable[..., Any], log: Any) -> None:
    """Under the inbox's lock: list, warn of the files in no operator's folder, take each."""
    answers_inbox = taken.inbox
    with inbox.inbox_lock(answers_inbox) as free:
        if not free:
            log.warning("another run is reading the answers inbox %s; not read", answers_inbox)
            taken.skipped_busy = True
            return
        listed: AnswerArrivals = call(list_answer_files, answers_inbox, settings)
        taken.not_placed = listed.not_placed
        if listed.not_placed:
            log.warning(
                "left in the answers inbox %s, unread: %s; each belongs in the folder of the"
                " operator who sent it (one of: %s)",
                answers_inbox,
                ", ".join(listed.not_placed),
                ", ".join(sorted(item.name for item in settings.operators)),
            )
        for operator, arrivals in listed.by_operator.items():
            _take(operator, arrivals, settings, taken, call, log)


def _take(
    operator: str,
    arrivals: list[inbox.Arrival],
    settings: Settings,
    taken: AnswersTaken,
    call: Callable[..., Any],
    log: Any,
) -> None:
    """One operator's answer files: recorded, then archived or quarantined."""
    filing = InboxOutcome(settings.flows.answers_inbox)
    file_unreadable([a for a in arrivals if a.error], settings, filing, log)
    readable = [arrival for arrival in arrivals if not arrival.error]
    if readable:
        run: AnswersRun = call(record_answer_arrivals, operator, readable, settings)
        taken.runs[operator] = run.run_id
        taken.rows[operator] = dict(run.summary["counts"]["by_status"])
        records = {record.path: record for record in run.inputs}
        for arrival in readable:
            record = records[arrival.source]
            moved = call(file_away, arrival, record.error, settings, record.sha256)
            moves = filing.quarantined if record.error else filing.archived
            filed(filing, moves, moved, arrival, log)
            if record.error and not inbox.left_in_inbox(arrival, moved):
                log.warning("[run %s] quarantined %s: %s", run.run_id, arrival.name, record.error)
        log.info(
            "[run %s] %d answer file(s) from %s: %d row(s)",
            run.run_id,
            len(readable),
            operator,
            run.summary["counts"]["rows"],
        )
    taken.archived += filing.archived
    taken.quarantined += filing.quarantined
    taken.left_for_next_run += filing.left_for_next_run
