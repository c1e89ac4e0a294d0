"""``eidflow ingest``: manifests in, a complete run folder out.

Wiring only: each step calls parsers, the pure core, the ledger or the exporters.
The steps go through a ``StepRunner`` so that a Prefect flow can run each one as a
task (``flows/ingest.py``) while the CLI calls them directly, without paying for
an orchestration engine; the run folder is the same either way.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import parsers
from app import funnel_view
from app.runfolder import (
    InputRecord,
    build_summary,
    complete_run_ids,
    new_run_id,
    prepare_run_dir,
    release_run_dir,
    write_summary,
)
from app.settings import Settings
from eidflow import schema
from eidflow.codes import GROUP_MEMBER_STATES, Reason, Status, WarningCode
from eidflow.core import actions, dedupe, reconcile, validate
from eidflow.errors import (
    EXIT_INPUT_UNREADABLE,
    EXIT_OK,
    ConfigError,
    DeliveryError,
    EidflowError,
    InputError,
    ManifestError,
)
from eidflow.identifiers import columns
from eidflow.ledger import DeadRun, Ledger, SqlLedger, Target, open_ledger, settle
from exporters import decisions as decisions_file
from exporters import delivery, entra, operator, report
from exporters.config import UNNAMED_OPERATOR
from exporters.files import OutputFile
from parsers.base import ManifestRead, empty_rows

T = TypeVar("T")
LOG = logging.getLogger("eidflow")


class StepRunner(Protocol):
    def __call__(self, name: str, fn: Callable[..., T], *args: Any, io: bool = False) -> T: ...


def run_directly(name: str, fn: Callable[..., T], *args: Any, io: bool = False) -> T:
    """The CLI's step runner: call the step; with ``eidflow -v``, say how long it took."""
    started = time.perf_counter()
    result = fn(*args)
    LOG.info("step %s: %.2f s", name, time.perf_counter() - started)
    return result


@dataclass
class IngestRequest:
    """What to ingest, as given on the command line or as flow parameters."""

    manifests: list[str]
    inventory: str | None = None
    entra_devices: str | None = None
    out_dir: Path | None = None
    oem_profile: str | None = None
    reprocess: bool = False  # read manifests the ledger has processed before, again
    new_ledger: bool = False  # the output root's earlier runs are not this ledger's, on purpose
    run_id: str | None = None  # chosen by the caller (a flow names its run after it); else new
    # Bytes of manifests the caller has read already, by source (the S3 inbox's objects, as
    # listed and hashed): the run reads those, not the source again.
    read_already: dict[str, bytes] = field(default_factory=dict, repr=False)
    # Windows Autopilot identities: an export file, "graph" or "none" (default: [inventory]
    # autopilot, else Graph when the inventory comes from Graph).
    autopilot: str | None = None


@dataclass
class RunResult:
    run_id: str
    run_dir: Path
    exit_code: int
    summary: dict[str, Any]
    inputs: list[InputRecord] = field(default_factory=list)

    @property
    def unreadable(self) -> list[InputRecord]:
        return [record for record in self.inputs if record.error]


def load_input(source: str, settings: Settings) -> bytes:
    """The bytes of a local file or an ``s3://`` object.

    A local path that is a link is read through it, and errors name its target. What is
    not a regular file is refused before a byte is read: a named pipe would keep the run
    waiting for a writer, a device (``/dev/zero``) never ends.
    """
    if source.startswith("s3://"):
        from eidflow import s3

        return s3.read_object(source, settings)
    shown = shown_name(source)
    try:
        handle = os.open(source, os.O_RDONLY | _NONBLOCK)
    except FileNotFoundError:
        link = shown != source
        what = "the file it points to does not exist." if link else "file not found."
        raise InputError(shown, what, todo="Check the path.") from None
    except PermissionError:
        raise InputError(
            shown, "cannot be read (permission denied).", todo="Check its permissions."
        ) from None
    except OSError as error:  # a loop of links, a name too long
        raise InputError(
            shown, f"cannot be opened ({error.strerror}).", todo="Check the path."
        ) from None
    try:
        kind = _not_a_file(os.fstat(handle).st_mode)
        if kind:
            todo = "Name the files inside it." if kind == "a folder" else "Name a manifest file."
            raise InputError(shown, f"is {kind}, not a file.", todo=todo)
        with os.fdopen(handle, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(handle)


_NONBLOCK = getattr(os, "O_NONBLOCK", 0)  # opening a named pipe must not wait for a writer


def shown_name(source: str) -> str:
    """``source`` as messages name it: a link with its target, ``in.csv (a link to /x/y.csv)``."""
    if source.startswith("s3://") or not os.path.islink(source):
        return source
    return f"{source} (a link to {os.path.realpath(source)})"


def _not_a_file(mode: int) -> str:
    """What a path that is not a regular file is ("" for a file)."""
    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "a special file"


@dataclass
class References:
    """What the run reconciles against: the Intune inventory, the Entra devices, the Windows
    Autopilot identities (each ``None`` when not given)."""

    inventory: pd.DataFrame | None = None
    entra_devices: pd.DataFrame | None = None
    autopilot: pd.DataFrame | None = None
    records: list[InputRecord] = field(default_factory=list)


def read_references(request: IngestRequest, settings: Settings) -> References:
    """The Intune inventory, the Entra devices export and the Autopilot identities, if given.

    They are read before anything else: a run cannot reconcile without them, so an
    unreadable one stops the run at once as a usage error (exit 2), with nothing claimed.
    """
    from app.live_inventory import autopilot_source

    records: list[InputRecord] = []
    intune = request.inventory or settings.inventory.intune
    inventory = _read_reference(
        intune, parsers.read_intune_inventory, "inventory", settings, records
    )
    entra_devices = _read_reference(
        request.entra_devices or settings.inventory.entra_devices,
        parsers.read_entra_devices,
        "entra_devices",
        settings,
        records,
    )
    chosen = request.autopilot or settings.inventory.autopilot
    autopilot = _read_reference(
        autopilot_source(request.autopilot, settings.inventory.autopilot, intune),
        parsers.read_autopilot_identities,
        "autopilot" if chosen else "autopilot_implied",
        settings,
        records,
    )
    return References(inventory, entra_devices, autopilot, records)


def _from_graph(kind: str, settings: Settings, records: list[InputRecord]) -> pd.DataFrame | None:
    """``--inventory graph`` / ``--entra-devices graph`` / ``--autopilot graph``: the live
    tenant (app.live_inventory). Autopilot implied by ``--inventory graph`` is left out,
    with a warning, when the app may not read it."""
    from app import live_inventory

    frame: pd.DataFrame | None
    if kind == "inventory":
        frame = live_inventory.intune_inventory(settings)
    elif kind == "entra_devices":
        frame = live_inventory.entra_devices(settings)
    else:
        frame = live_inventory.autopilot_identities(settings, required=kind == "autopilot")
        kind = "autopilot"
    if frame is not None:
        records.append(InputRecord(live_inventory.GRAPH, kind, "", len(frame)))
    return frame


def _read_reference(
    source: str | None,
    reader: Callable[[str, bytes], pd.DataFrame],
    kind: str,
    settings: Settings,
    records: list[InputRecord],
) -> pd.DataFrame | None:
    if not source:
        return None
    if source.strip().lower() == "graph":
        return _from_graph(kind, settings, records)
    kind = "autopilot" if kind == "autopilot_implied" else kind
    try:
        data = load_input(source, settings)
        frame = reader(source, data)
    except InputError as error:
        error.file = shown_name(source) if error.file == source else error.file
        raise ConfigError(str(error), todo="Nothing was read or handed off.") from None
    records.append(InputRecord(source, kind, _sha256(data), len(frame)))
    return frame


def read_manifests(
    request: IngestRequest, settings: Settings, ledger: Ledger
) -> tuple[list[ManifestRead], list[InputRecord]]:
    """Read every manifest; an unreadable one is recorded with its error, the others go on."""
    reads: list[ManifestRead] = []
    records: list[InputRecord] = []
    seen: dict[str, str] = {}
    for source in request.manifests:
        record = InputRecord(source)
        records.append(record)
        try:
            given = request.read_already.get(source)
            data = given if given is not None else load_input(source, settings)
        except InputError as error:
            record.error, record.transient = str(error), error.transient
            continue
        record.sha256 = _sha256(data)
        # The same bytes again are skipped (an inbox redelivery, a rerun), unless asked:
        # rows held back as conflicts with another file are judged again once it is fixed.
        earlier = None if request.reprocess else ledger.manifest_seen(record.sha256)
        if earlier is not None or record.sha256 in seen:
            record.already_processed_by = earlier.run_id if earlier else seen[record.sha256]
            continue
        try:
            read = parsers.read_manifest(
                source, data, settings.parsers, profile=request.oem_profile, sha256=record.sha256
            )
        except ManifestError as error:
            error.file = shown_name(source) if error.file == source else error.file
            record.error = str(error)
            continue
        seen[record.sha256] = "this run"
        record.rows, record.format, record.sheets = len(read.rows), read.format, read.sheets
        record.hidden_sheets = read.hidden_sheets
        record.skipped = read.skipped.as_dict()
        reads.append(read)
    return reads, records


def validate_manifests(reads: list[ManifestRead]) -> pd.DataFrame:
    """All data rows of the run, in input order, with their first verdict."""
    rows = pd.concat([read.rows for read in reads], ignore_index=True) if reads else empty_rows()
    frame = validate.validate_rows(rows)
    hidden = [(read.source_file, sheet) for read in reads for sheet in read.hidden_sheets]
    if hidden:
        from_hidden = pd.Series(False, index=frame.index)
        for source, sheet in hidden:
            from_hidden |= (frame[schema.SOURCE_FILE] == source) & (frame[schema.SHEET] == sheet)
        from_hidden &= frame[schema.STATUS] == Status.ACCEPTED
        frame[schema.WARNINGS] = validate.add_warning(
            frame[schema.WARNINGS], from_hidden, WarningCode.SHEET_HIDDEN
        )
    return frame


CLAIMED_TEXT = (schema.EID, schema.SERIAL_NUMBER, schema.IMEI, schema.OPERATOR)


def dedupe_against_ledger(
    frame: pd.DataFrame,
    settings: Settings,
    ledger: Ledger,
    run_id: str,
    records: list[InputRecord] | None = None,
    *,
    claim: bool = True,
) -> pd.DataFrame:
    """Route accepted rows to operators, then claim their hand-offs: the ledger's claim is
    the one verdict on duplicates and conflicts, in the run and against earlier runs.

    The claim also records each claimed device's Intune state (reconciled before).
    Rows that lose lose their Intune columns too: those are for accepted rows only.
    ``claim=False`` (``eidflow check``): the same verdict, and nothing claimed or recorded.
    """
    accepted = frame[schema.STATUS] == Status.ACCEPTED
    frame[schema.OPERATOR] = ""
    routed_by = [column for column in (schema.SOURCE_FILE, schema.PO_NUMBER) if column in frame]
    frame.loc[accepted, schema.OPERATOR] = operator.route(
        frame.loc[accepted, routed_by], settings.operators
    )
    _say_unnamed_operator(frame.loc[accepted, schema.OPERATOR])
    manifests = [
        {"name": r.path, "sha256": r.sha256, "rows": r.rows, "error": r.error}
        for r in records or []
        if not r.already_processed_by and (r.sha256 or r.error)
    ]
    rows = np.flatnonzero(accepted.to_numpy(dtype=bool))
    columns.one_chunk(frame, CLAIMED_TEXT)  # the claim takes its lines from them, in slices
    # The claims are written while the run writes its files: nothing is delivered before
    # they are durable, as start_delivery, the ledger's next use, waits for their commit.
    verdict = (
        ledger.claim(run_id, frame, manifests, rows, overlap=True)
        if claim
        else ledger.judge(frame, rows)
    )
    frame = dedupe.apply_reasons(frame, verdict.reasons)
    elsewhere = verdict.held_by_others[verdict.reasons == ""] != ""
    if elsewhere.any():  # handed to this operator now, held by another already
        holds = pd.Series(False, index=frame.index)
        holds[elsewhere.index[elsewhere.to_numpy()]] = True
        frame[schema.WARNINGS] = validate.add_warning(
            frame[schema.WARNINGS], holds, WarningCode.HANDED_TO_OTHER_OPERATOR
        )
    held = (frame[schema.STATUS] != Status.ACCEPTED) & accepted
    if held.any():
        for column in schema.RECONCILED:
            if column in frame:
                frame.loc[held, column] = ""
    _name_earlier_handoffs(frame, ledger)
    _name_retirements(frame, ledger)
    return frame


def _name_retirements(frame: pd.DataFrame, ledger: Ledger) -> None:
    """``retired`` rows say which retirement holds them back: when, why, and the way back."""
    from eidflow.ledger import queries, retirements

    rows = np.flatnonzero((frame[schema.REASON] == Reason.RETIRED).to_numpy(dtype=bool))
    if not len(rows) or not isinstance(ledger, SqlLedger):
        return
    with ledger.read() as connection:
        retired = retirements.retired(connection)
    by_serial = {line["serial_number"]: line for line in retired.values() if line["serial_number"]}
    eids, serials = frame[schema.EID].iloc[rows], frame[schema.SERIAL_NUMBER].iloc[rows]
    named = np.zeros(len(frame), dtype=bool)
    sentences = []
    for row, eid, serial in zip(rows, eids, serials, strict=True):
        found = retired.get(eid) or by_serial.get(serial)
        if found is not None:
            named[row] = True
            when = queries.iso(found["started_at"])[:16].replace("T", " ")
            sentences.append(
                actions.RETIRED_DETAIL.format(
                    run_id=found["run_id"], when=when, reason=found["reason"], eid=found["eid"]
                )
            )
    frame[schema.DETAIL] = columns.on_rows(
        frame[schema.DETAIL].astype("str"),
        named,
        lambda chosen: pd.Series(sentences, index=chosen.index, dtype="str"),
    )


def _say_unnamed_operator(routed: pd.Series) -> None:
    """EIDs routed to the operator eidflow.toml gives no name: said, with where to name it."""
    if (routed == UNNAMED_OPERATOR).any():
        LOG.warning(
            "eidflow.toml names no operator: the accepted EIDs go to one called %r"
            ' (operator/%s/); give [[operators]] name = "…" the operator they are for'
            " (docs/configuration.md, Operator profiles).",
            UNNAMED_OPERATOR,
            UNNAMED_OPERATOR,
        )


def judge_against_ledger(
    frame: pd.DataFrame,
    settings: Settings,
    ledger: Ledger,
    run_id: str,
    records: list[InputRecord] | None = None,
) -> pd.DataFrame:
    """``dedupe_against_ledger``'s decisions, with nothing claimed (``eidflow check``)."""
    return dedupe_against_ledger(frame, settings, ledger, run_id, records, claim=False)


def _name_earlier_handoffs(frame: pd.DataFrame, ledger: Ledger) -> None:
    """``already_registered`` rows say which run handed the EID off, when, with which serial
    (the first ``queries.DESCRIBED_EARLIER`` of them; ``eidflow show`` tells the others)."""
    from eidflow.ledger import queries

    rows = np.flatnonzero((frame[schema.REASON] == Reason.ALREADY_REGISTERED).to_numpy(dtype=bool))
    rows = rows[: queries.DESCRIBED_EARLIER]
    if not len(rows) or not isinstance(ledger, SqlLedger):
        return
    eids, operators = frame[schema.EID].iloc[rows], frame[schema.OPERATOR].iloc[rows]
    with ledger.read() as connection:
        earlier = queries.earlier_handoffs(connection, eids.tolist())
    named = np.zeros(len(frame), dtype=bool)
    sentences = []
    for row, eid, name in zip(rows, eids, operators, strict=True):
        found = earlier.get((eid, name))
        if found is not None:
            named[row] = True
            sentences.append(
                f"Handed off to {name} by run {found['run_id']} on {found['started_at']} UTC"
                f" (serial {found['serial_number']}): not sent again. To send it again on"
                " purpose: eidflow resend."
            )
    frame[schema.DETAIL] = columns.on_rows(
        frame[schema.DETAIL].astype("str"),
        named,
        lambda chosen: pd.Series(sentences, index=chosen.index, dtype="str"),
    )


def reconcile_devices(
    frame: pd.DataFrame,
    inventory: pd.DataFrame | None,
    entra_devices: pd.DataFrame | None,
    settings: Settings,
    autopilot: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Intune state and Entra object id for accepted rows."""
    return reconcile.reconcile(
        frame, inventory, entra_devices, settings.reconcile.min_os_version, autopilot
    )


def emit_files(
    frame: pd.DataFrame, settings: Settings, run_dir: Path, run_id: str
) -> list[OutputFile]:
    """Operator hand-off files and Entra membership lists, written atomically."""
    outputs: list[OutputFile] = []
    accepted = (frame[schema.STATUS] == Status.ACCEPTED).to_numpy(dtype=bool, na_value=False)
    routed = pa.array(frame[schema.OPERATOR].astype("str"))
    for profile in sorted(settings.operators, key=lambda profile: profile.name):
        mine = accepted & pc.equal(routed, profile.name).to_numpy(zero_copy_only=False)
        if mine.any():  # only the columns its template reads are copied
            fields = [c.field for c in profile.columns if c.field and c.field in frame.columns]
            outputs += operator.write_operator_files(  # the copy is freed once its table is made
                frame[list(dict.fromkeys(fields))].iloc[np.flatnonzero(mine)],
                profile,
                run_dir,
                run_id,
            )
    members = accepted & (
        frame[schema.INTUNE_STATE].isin(GROUP_MEMBER_STATES) & (frame[schema.ENTRA_OBJECT_ID] != "")
    ).to_numpy(dtype=bool, na_value=False)
    listed = frame[[schema.EID, schema.SERIAL_NUMBER, schema.ENTRA_OBJECT_ID]]
    outputs += entra.write_entra_files(
        listed.iloc[np.flatnonzero(members)], settings.entra, run_dir
    )
    outputs.append(decisions_file.write_decisions(frame, run_dir))
    return outputs


def run_ingest(
    request: IngestRequest, settings: Settings, steps: StepRunner = run_directly
) -> RunResult:
    """Run the whole ingest and leave a complete run folder (summary.json last)."""
    started_at = datetime.now(UTC)
    check_request(request, settings)
    references = steps("read-references", read_references, request, settings, io=True)
    run_id = request.run_id or new_run_id(started_at)
    # The ledger first: a ledger that cannot be opened leaves no empty run folder behind.
    ledger = open_ledger(settings.ledger.url, target=reached_target(settings))
    try:
        check_output_root(ledger, settings.output.runs_dir, request.new_ledger)
        run_dir = prepare_run_dir(request.out_dir, settings.output.runs_dir, run_id)
        destination = delivery.destination_of(settings.delivery, run_dir, run_id)
        ledger.begin_run(run_id, str(run_dir.resolve()), destination=destination)
        run = RunInProgress(ledger, run_id, run_dir, destination, started_at)
        try:
            frame, records = decide(request, settings, ledger, references, run_id, steps)
            outputs = steps("emit", emit_files, frame, settings, run_dir, run_id, io=True)
            inputs = records + references.records
            summary = summarise(run_id, started_at, inputs, frame, outputs, ledger.url.shown)
            exit_code = summary["exit_status"]
            tables = funnel_view.run_tables(
                ledger,
                settings,
                run_id,
                [record.sha256 for record in records if record.sha256],
                summary["counts"]["by_status"].get(Status.ACCEPTED, 0),
            )
            outputs.append(report.write_report(frame, summary, run_dir, settings.report, tables))
            ledger.start_delivery(run_id, summary["counts"])  # the files are on their way
            run.delivering = True
            still_live = functools.partial(ledger.confirm_live, run_id)  # claims still stand
            outputs += steps(
                "deliver",
                delivery.deliver,
                run_dir,
                outputs,
                run_id,
                settings.delivery,
                still_live,
                io=True,
            )
            summary["outputs"] = [output.as_dict() for output in outputs]
            still_live()  # summary.json makes the files count
            write_summary(run_dir, summary)
        except Exception as error:
            run.fail(settings, error)
            raise
        try:
            steps("finish", _finish, ledger, run_id, frame, outputs, io=True)
        except EidflowError as error:  # e.g. the ledger connection lost just now
            raise type(error)(
                f"{error.what} The run folder {run_dir} is complete all the same (summary.json"
                " was written): its files count as handed off, and the next run records so.",
                todo=error.todo,
            ) from None
    finally:
        ledger.close()
    return RunResult(run_id, run_dir, exit_code, summary, inputs)


def decide(
    request: IngestRequest,
    settings: Settings,
    ledger: Ledger,
    references: References,
    run_id: str,
    steps: StepRunner = run_directly,
    *,
    claim: bool = True,
) -> tuple[pd.DataFrame, list[InputRecord]]:
    """Every row's decision, and the manifests' records: read, validate, reconcile, dedupe
    against the ledger (``claim=False``: judged only, nothing claimed: ``eidflow check``)."""
    reads, records = steps("read", read_manifests, request, settings, ledger, io=True)
    frame = steps("validate", validate_manifests, reads)
    del reads  # a million parsed rows are not needed twice: peak memory matters
    frame = steps(
        "reconcile",
        reconcile_devices,
        frame,
        references.inventory,
        references.entra_devices,
        settings,
        references.autopilot,
    )
    references.inventory = references.entra_devices = references.autopilot = None
    dedupe = dedupe_against_ledger if claim else judge_against_ledger
    frame = steps("dedupe", dedupe, frame, settings, ledger, run_id, records, io=True)
    _count_claimed_by_running_runs(frame, records)
    _flag_unusable(frame, records)
    return actions.describe(frame), records  # a sentence for accepted rows that need a person


def summarise(
    run_id: str,
    started_at: datetime,
    inputs: list[InputRecord],
    frame: pd.DataFrame,
    outputs: list[OutputFile],
    ledger_url: str,
) -> dict[str, Any]:
    """The run's summary; its exit status 1 when a manifest was unreadable or unusable."""
    failed = any(record.error or record.nothing_usable for record in inputs)
    return build_summary(
        run_id=run_id,
        started_at=started_at,
        inputs=inputs,
        decisions=frame,
        outputs=outputs,
        ledger_url=ledger_url,
        exit_code=EXIT_INPUT_UNREADABLE if failed else EXIT_OK,
    )


@dataclass
class RunInProgress:
    """A run under way (ingest or re-send), for its failure path."""

    ledger: SqlLedger
    run_id: str
    run_dir: Path
    destination: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    delivering: bool = False  # the ledger recorded that its files are on their way

    def deliver(
        self, settings: Settings, outputs: list[OutputFile], counts: dict[str, Any], todo: str
    ) -> list[OutputFile]:
        """Deliver ``outputs`` (a re-send's, a void's) as a hand-off, the receipt last;
        returns what the delivery wrote in the run folder. ``todo``: what to do when it fails."""
        self.ledger.start_delivery(self.run_id, counts)
        self.delivering = True
        try:
            still_live = functools.partial(self.ledger.confirm_live, self.run_id)
            return delivery.deliver(
                self.run_dir, outputs, self.run_id, settings.delivery, still_live
            )
        except DeliveryError as error:
            raise DeliveryError(error.what, todo=todo) from None

    def fail(self, settings: Settings, error: Exception) -> None:
        """The run failed: release its claims so that a rerun hands them off, unless its
        files reached their target (S3, an outbox) before it failed: the operator may take
        them, so its claims stand. When that cannot be told, or the ledger cannot be
        reached, the claims are held and the next run settles this one."""
        release_run_dir(self.run_dir)
        dead = DeadRun(self.run_id, 0, str(self.run_dir.resolve()), self.destination, True)
        try:
            if self.delivering and reached_target(settings)(dead):
                return
        except EidflowError:
            return
        try:
            self.ledger.abort_run(self.run_id, str(error) or type(error).__name__)
        except EidflowError as second:  # the ledger is gone too: settled by a later run
            LOG.warning("run %s: could not release its claims now (%s)", self.run_id, second)


def check_request(request: IngestRequest, settings: Settings) -> None:
    """The usage mistakes found before anything is read: an ``--oem-profile`` not defined."""
    profiles = settings.parsers.profiles
    if request.oem_profile and request.oem_profile not in profiles:
        known = ", ".join(sorted(profiles)) or "none"
        raise ConfigError(
            f"--oem-profile {request.oem_profile}: no parser profile of that name"
            f" (profiles defined: {known}).",
            todo=f"Fix the name, or add [parsers.profiles.{request.oem_profile}] to eidflow.toml.",
        )


def check_output_root(
    ledger: SqlLedger, runs_dir: Path, new_ledger: bool, *, dry: bool = False, where: str = ""
) -> None:
    """Refuse a ledger that has never seen the complete runs of the output root: the wrong
    ledger (another folder's, a new one made by mistake) would hand every EID off again.
    ``new_ledger``: a new ledger is meant; those runs are recorded as another ledger's.
    ``dry`` (``eidflow check``): nothing recorded or removed; ``where``: the ledger named."""
    unknown = ledger.unknown_runs(complete_run_ids(runs_dir))
    if not unknown:
        return
    if new_ledger:
        if not dry:
            ledger.record_foreign_runs(unknown)
        return
    if ledger.created and not dry:  # made just now by this run: it holds nothing, leave no trace
        ledger.discard()
    raise ConfigError(
        f"{runs_dir.resolve()} holds {len(unknown)} complete run(s) that the ledger at"
        f" {where or ledger.url.where}"
        f" has never seen (e.g. {unknown[-1]}): it is probably not the ledger those runs used,"
        " and EIDs they handed off would be handed off again.",
        todo="Point --ledger / [ledger] url at the ledger they used (eidflow history shows a"
        " ledger's runs); if a new ledger is meant, run again with --new-ledger.",
    )


def _count_claimed_by_running_runs(frame: pd.DataFrame, records: list[InputRecord]) -> None:
    """Per manifest, its rows another run still in progress had claimed (see InputRecord)."""
    held = frame.loc[frame[schema.REASON] == Reason.CLAIMED_BY_RUNNING_RUN, schema.SOURCE_FILE]
    if held.empty:
        return
    counts = held.value_counts()
    for record in records:
        record.claimed_by_running_runs = int(counts.get(record.path, 0))


def _flag_unusable(frame: pd.DataFrame, records: list[InputRecord]) -> None:
    """A manifest every row of which was rejected is flagged and said on stderr with its
    reasons: the run's exit status is 1, as for a file that could not be read."""
    read = [record for record in records if record.rows and not record.error]
    if not read:
        return
    usable = set(frame.loc[frame[schema.STATUS] != Status.REJECTED, schema.SOURCE_FILE].unique())
    for record in read:
        if record.path in usable:
            continue
        record.nothing_usable = True
        reasons = frame.loc[frame[schema.SOURCE_FILE] == record.path, schema.REASON]
        top = ", ".join(f"{count} {reason}" for reason, count in reasons.value_counts().items())
        LOG.warning(
            "%s: none of its %d row(s) is usable (%s rejected: %s). See decisions.csv for each"
            " row; ask the sender for a corrected file.",
            shown_name(record.path),
            record.rows,
            len(reasons),
            top,
        )


def reached_target(settings: Settings) -> Target:
    """For settling a run that died: did its files reach their target?

    The receipt at the S3 destination (asked with this configuration's endpoint and
    credentials; cannot be asked: ``DeliveryError``), the outbox's receipt file, or the
    run folder's summary.json where the run delivered in place.
    """

    def reached(run: DeadRun) -> bool:
        if run.destination.startswith("s3://"):
            return delivery.receipt_at(run.destination, settings.delivery) is not None
        return settle.reached_target(run)

    return reached


def _finish(ledger: Ledger, run_id: str, frame: pd.DataFrame, outputs: list[OutputFile]) -> None:
    """Tell the ledger the run is complete: its hand-offs are delivered.

    Its manifests and the devices' Intune states went in with the claims.
    """
    by_operator: dict[str, list[dict[str, Any]]] = {}
    for output in outputs:
        if output.kind == "operator":
            by_operator.setdefault(Path(output.path).parts[1], []).append(output.as_dict())
    for name in sorted(by_operator):
        ledger.mark_delivered(run_id, name, by_operator[name])
    ledger.finish_run(run_id)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
