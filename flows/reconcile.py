"""``reconcile-pending``: devices handed off but not yet in the group, checked again each day.

Against a fresh inventory (export files, or Graph), the devices that have enrolled since
become group members: listed in ``entra/`` of this run's folder, and added through Graph
when ``[graph] apply_memberships`` is on. Only members Graph confirms go into the ledger;
the others stay pending and come back the next day.

``eidflow reconcile`` (``app/cli/reconcile.py``) runs the same steps without Prefect:
``reconcile_with`` takes the difference as ``RunHooks`` (a task or its plain function,
the logger, progress and artifacts).

With ``[flows] answers_inbox`` set, the operators' answer files waiting there are recorded
too (``flows.answers_inbox``), before the funnel is read: the funnel counts their answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict

from app import funnel_view, profile_status
from app.profile_status import ProfileRead
from app.runfolder import new_run_id, prepare_run_dir, write_summary
from app.settings import Settings
from eidflow import __version__, schema
from eidflow.errors import ConfigError
from eidflow.graph import MembershipResult, add_members, client_from_settings
from eidflow.ledger import open_ledger
from exporters.entra import write_entra_files
from exporters.files import OutputFile
from exporters.funnel import FunnelTables
from flows import answers_inbox, artifacts, pending, runs
from flows.answers_inbox import AnswersTaken
from flows.retries import IO_RETRIES
from flows.settings_loader import load_flow_settings

IO: dict[str, Any] = {**IO_RETRIES, "cache_policy": NO_CACHE}
FLOW_NAME = "reconcile-pending"


class ReconcileParameters(BaseModel):
    """Overrides of eidflow.toml for one run; by default everything comes from the file."""

    model_config = ConfigDict(extra="forbid")

    config_file: str | None = None
    ledger_url: runs.LedgerUrlParameter = None
    inventory: str | None = None  # an Intune export instead of [flows] inventory / Graph
    entra_devices: str | None = None
    # Windows Autopilot identities: an export file, "graph" or "none" (None: [flows]
    # autopilot, else Graph when the inventory comes from Graph)
    autopilot: str | None = None
    apply_memberships: bool | None = None  # None: [graph] apply_memberships


@dataclass
class ReconcileOutcome:
    run_id: str
    run_dir: str = ""
    pending: int = 0
    by_intune_state: dict[str, int] = field(default_factory=dict)
    new_members: list[str] = field(default_factory=list)  # object ids listed in entra/
    membership: dict[str, Any] = field(default_factory=dict)  # MembershipResult counts, if applied
    membership_failures: dict[str, str] = field(default_factory=dict)  # object id → why
    recorded_members: list[str] = field(
        default_factory=list
    )  # object ids now members in the ledger
    # operator → the eSIM policy's statuses and EID checks read this run (Graph only)
    profile_statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers: AnswersTaken | None = None  # [flows] answers_inbox, when set

    def left_undone(self) -> list[str]:
        """What this run could not do, one phrase each: why its flow run ends Failed."""
        undone = []
        if self.membership_failures:
            undone.append(
                f"Graph refused {len(self.membership_failures)} of {len(self.new_members)}"
                " group membership(s); they are tried again on the next run"
            )
        if self.answers and self.answers.quarantined:
            undone.append(
                f"{len(self.answers.quarantined)} answer file(s) quarantined as unreadable"
            )
        if self.answers and self.answers.error:
            undone.append(f"the answers inbox could not be read ({self.answers.error})")
        return undone


@task(name="load-pending", **IO)
def load_pending(settings: Settings) -> pd.DataFrame:
    """Devices the ledger has delivered to an operator but not yet seen in the group."""
    ledger = open_ledger(settings.ledger.url)
    try:
        return ledger.pending_enrollment(settings.entra.group_id)
    finally:
        ledger.close()


@dataclass(frozen=True)
class Sources:
    """Where this run's inventory, Entra devices and Autopilot identities come from: a file,
    or ``""`` for Graph (Autopilot: ``"graph"``, a file, or ``""`` for none)."""

    inventory: str
    entra_devices: str
    autopilot: str
    autopilot_required: bool = True  # chosen, not implied by an inventory from Graph


@task(name="load-inventory", **IO)
def load_inventory(
    settings: Settings, sources: Sources, serials: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None]:
    """A fresh Intune inventory, Entra device list and Autopilot identities (of ``serials``):
    from export files, or from Graph (the DevicesWithInventory export job, else
    managedDevices: ``app.live_inventory``)."""
    import parsers
    from app import live_inventory
    from app.pipeline import load_input

    def autopilot(graph: Any) -> pd.DataFrame | None:
        if not sources.autopilot:
            return None
        if live_inventory.is_graph(sources.autopilot):
            return live_inventory.autopilot_identities(
                settings, graph, serials, required=sources.autopilot_required
            )
        data = load_input(sources.autopilot, settings)
        return parsers.read_autopilot_identities(Path(sources.autopilot).name, data)

    if sources.inventory:
        frame = parsers.read_intune_inventory(
            Path(sources.inventory).name, load_input(sources.inventory, settings)
        )
        entra = None
        if sources.entra_devices:
            data = load_input(sources.entra_devices, settings)
            entra = parsers.read_entra_devices(Path(sources.entra_devices).name, data)
        return frame, entra, autopilot(None)

    with client_from_settings(settings.graph) as graph:
        return (
            live_inventory.intune_inventory(settings, graph),
            live_inventory.entra_devices(settings, graph),
            autopilot(graph),
        )


@task(name="check-enrolment", cache_policy=NO_CACHE)
def check_enrolment(
    waiting: pd.DataFrame,
    inventory: pd.DataFrame,
    entra: pd.DataFrame | None,
    min_os: str,
    autopilot: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Intune state and Entra object id of each pending device, as of this inventory."""
    return pending.check_pending(waiting, inventory, entra, min_os, autopilot)


@task(name="emit-member-lists", **IO)
def emit_member_lists(members: pd.DataFrame, settings: Settings, run_dir: Path) -> list[OutputFile]:
    """The Entra bulk-import CSVs and Graph bodies for the new members."""
    return write_entra_files(members, settings.entra, run_dir)


@task(name="apply-memberships", **IO)
def apply_memberships(object_ids: list[str], settings: Settings) -> MembershipResult:
    """Add the new members to the group through Graph (only those not in it yet)."""
    with client_from_settings(settings.graph) as graph:
        return add_members(graph, settings.entra.group_id, object_ids)


@task(name="record-in-ledger", **IO)
def record_in_ledger(
    settings: Settings, run_id: str, run_dir: Path, checked: pd.DataFrame, confirmed: pd.DataFrame
) -> None:
    """The devices' new Intune states, and the memberships Graph confirmed."""
    ledger = open_ledger(settings.ledger.url)
    try:
        ledger.begin_run(run_id, str(run_dir.resolve()), kind="reconcile")
        try:
            ledger.record_intune_states(run_id, checked[list(pending.STATE_COLUMNS)])
            if not confirmed.empty:
                ledger.record_memberships(run_id, settings.entra.group_id, confirmed)
            ledger.finish_run(run_id, [], {"rows": len(checked)})
        except Exception as error:
            ledger.abort_run(run_id, str(error))
            raise
    finally:
        ledger.close()


@task(name="refresh-profile-statuses", **IO)
def refresh_profile_statuses(settings: Settings) -> list[ProfileRead]:
    """The eSIM policy's status per PC and the EID each device reports, read and recorded."""
    return profile_status.refresh(settings)


@flow(name=FLOW_NAME)
def reconcile_pending(parameters: ReconcileParameters | None = None) -> Any:
    """Check handed-off devices against a fresh inventory; list and add the enrolled ones.
    Ends Failed when Graph refused some memberships (they come back the next day)."""
    parameters = parameters or ReconcileParameters()
    settings = load_flow_settings(parameters.config_file, parameters.ledger_url)
    refused = runs.heartbeat_refusal(settings.flows.heartbeat_seconds)
    if refused:
        return runs.failed_state(refused, None)
    progress = artifacts.Progress(FLOW_NAME, steps=6)
    hooks = RunHooks(
        call=lambda step, *args: step(*args),
        log=get_run_logger(),
        step=progress.step,
        name_run=runs.name_run,
        publish=lambda outcome, outputs: _publish(outcome, outputs, settings),
    )
    with runs.logs_in_run():
        outcome = reconcile_with(parameters, settings, hooks)
    undone = outcome.left_undone()
    if undone:
        return runs.failed_state(
            f"run {outcome.run_id}: {'; '.join(undone)}. The flow run's log says why for each.",
            outcome,
        )
    return outcome


@task(name="read-funnel", **IO)
def read_funnel(settings: Settings) -> FunnelTables:
    """Every shipment's funnel, as the ledger has it after this run's states and members."""
    shipments = funnel_view.all_shipments(settings.ledger.url, settings.entra.group_id)
    return funnel_view.tables_of(shipments, funnel_view.as_of("every shipment"))


def _publish(outcome: ReconcileOutcome, outputs: list[OutputFile], settings: Settings) -> None:
    """The run's counts and member lists, then the funnel its states and members moved."""
    artifacts.publish_reconcile_artifacts(outcome, outputs, FLOW_NAME)
    artifacts.publish_funnel_artifacts(read_funnel(settings), FLOW_NAME)


def _nothing(*_: Any) -> None:
    """A hook that does nothing (no Prefect: no progress artifact, no run name)."""


@dataclass(frozen=True)
class RunHooks:
    """What differs between the flow and ``eidflow reconcile``: how a step runs (a Prefect
    task, or its plain function), where the log goes, progress and artifacts."""

    call: Callable[..., Any]
    log: Any
    step: Callable[[str], None] = _nothing
    name_run: Callable[[str], None] = _nothing
    publish: Callable[[ReconcileOutcome, list[OutputFile]], None] = _nothing


def plain_hooks() -> RunHooks:
    """The steps as plain functions, logging to ``eidflow`` (the command line)."""
    return RunHooks(call=lambda step, *args: step.fn(*args), log=logging.getLogger("eidflow"))


def reconcile_with(
    parameters: ReconcileParameters, settings: Settings, hooks: RunHooks
) -> ReconcileOutcome:
    """The reconcile run; each step through ``hooks.call``. The run folder is always
    written, with empty lists when nothing is pending."""
    apply = (
        settings.graph.apply_memberships
        if parameters.apply_memberships is None
        else parameters.apply_memberships
    )
    sources = _inventory_sources(parameters, settings)
    if apply and not settings.entra.group_id:
        raise ConfigError(
            "apply_memberships is on but [entra] group_id is empty.",
            todo="Set the Entra group's object id in eidflow.toml.",
        )
    answers_inbox.check_answers_inbox(settings)
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    hooks.name_run(run_id)
    log, call = hooks.log, hooks.call
    waiting: pd.DataFrame = call(load_pending, settings)
    hooks.step("pending devices loaded")
    if waiting.empty:
        log.info("[run %s] no device is waiting for group membership", run_id)
        checked = pending.check_pending(waiting, None, None, settings.reconcile.min_os_version)
    else:
        serials = sorted(set(waiting[schema.SERIAL_NUMBER]))
        inventory_frame, entra_frame, autopilot_frame = call(
            load_inventory, settings, sources, serials
        )
        hooks.step("inventory loaded")
        checked = call(
            check_enrolment,
            waiting,
            inventory_frame,
            entra_frame,
            settings.reconcile.min_os_version,
            autopilot_frame,
        )
    members = pending.new_members(checked)
    run_dir = prepare_run_dir(None, settings.output.runs_dir, run_id)
    outputs = call(emit_member_lists, members, settings, run_dir)
    hooks.step("member lists written")
    outcome = ReconcileOutcome(
        run_id,
        str(run_dir),
        pending=len(checked),
        by_intune_state=pending.state_counts(checked),
        new_members=members[schema.ENTRA_OBJECT_ID].tolist(),
    )
    confirmed = _apply(members, settings, outcome, hooks) if apply else members.iloc[0:0]
    hooks.step("memberships applied" if apply else "memberships listed")
    outcome.recorded_members = confirmed[schema.ENTRA_OBJECT_ID].tolist()
    if settings.graph.configured:
        reads: list[ProfileRead] = call(refresh_profile_statuses, settings)
        outcome.profile_statuses = {read.operator: read.counts() for read in reads}
        for line in profile_status.differs_lines(reads):
            log.warning("[run %s] %s", run_id, line)
    if settings.flows.answers_inbox:
        outcome.answers = answers_inbox.take_answers(settings, call, log)
        hooks.step("operator answers recorded")
    write_summary(run_dir, _summary(outcome, settings, started_at, sources, outputs))
    call(record_in_ledger, settings, run_id, run_dir, checked, confirmed)
    hooks.publish(outcome, outputs)
    hooks.step("recorded")
    log.info(
        "[run %s] %d pending, %d new members (enrolled or Autopilot-registered), %d now"
        " members in the ledger",
        run_id,
        outcome.pending,
        len(outcome.new_members),
        len(outcome.recorded_members),
    )
    return outcome


def _apply(
    members: pd.DataFrame, settings: Settings, outcome: ReconcileOutcome, hooks: RunHooks
) -> pd.DataFrame:
    """Add ``members`` through Graph; the lines of those Graph confirms are in the group."""
    if members.empty:
        return members
    result: MembershipResult = hooks.call(apply_memberships, outcome.new_members, settings)
    outcome.membership = result.counts()
    outcome.membership_failures = dict(result.failed)
    log = hooks.log
    for object_id in result.missing:
        log.warning("[run %s] %s is no longer in Entra: not added", outcome.run_id, object_id)
    for object_id, why in result.failed.items():
        log.warning("[run %s] could not add %s to the group: %s", outcome.run_id, object_id, why)
    return members[members[schema.ENTRA_OBJECT_ID].isin(result.members)]


def _summary(
    outcome: ReconcileOutcome,
    settings: Settings,
    started_at: datetime,
    sources: Sources,
    outputs: list[OutputFile],
) -> dict[str, Any]:
    """summary.json of a reconcile run: written last in its folder, like an ingest run's."""
    return {
        "kind": "reconcile_pending",
        "eidflow_version": __version__,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "group_id": settings.entra.group_id,
        "inventory": sources.inventory or "graph",
        "autopilot": sources.autopilot or None,
        **{key: value for key, value in asdict(outcome).items() if key != "run_dir"},
        "outputs": [output.as_dict() for output in outputs],
    }


def _inventory_sources(parameters: ReconcileParameters, settings: Settings) -> Sources:
    """Export files (parameters, then [flows]); "" (or "graph") means Graph. Autopilot:
    the parameter, then [flows] autopilot, then Graph when the inventory comes from it."""
    from app.live_inventory import autopilot_source

    inventory = parameters.inventory or (
        settings.flows.inventory if settings.flows.inventory_source == "file" else ""
    )
    entra_devices = parameters.entra_devices or (
        settings.flows.entra_devices if settings.flows.inventory_source == "file" else ""
    )
    inventory = "" if inventory.strip().lower() == "graph" else inventory
    entra_devices = "" if entra_devices.strip().lower() == "graph" else entra_devices
    if not inventory and not settings.graph.configured:
        raise ConfigError(
            "reconcile-pending needs an inventory: none is configured.",
            todo="Set [flows] inventory (an Intune export) or configure [graph] and set "
            '[flows] inventory_source = "graph".',
        )
    chosen = parameters.autopilot or settings.flows.autopilot
    autopilot = autopilot_source(
        parameters.autopilot, settings.flows.autopilot, inventory or "graph"
    )
    if autopilot and autopilot.lower() == "graph" and not settings.graph.configured:
        raise ConfigError(
            "--autopilot graph: [graph] is not configured.",
            todo='Configure [graph], pass an Autopilot devices export, or "none".',
        )
    return Sources(inventory, entra_devices, autopilot, autopilot_required=bool(chosen))
