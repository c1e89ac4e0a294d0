"""The eSIM policy's per-device status and the EID each device reports, read from Intune and
recorded in the ledger: ``eidflow intune status`` and the daily ``reconcile-pending``.

Two export jobs per read (``eidflow.graph.export_job``): ``DeviceStatusesByConfigurationProfile``
filtered on the policy that ``eidflow intune setup`` recorded for the operator, and the
``DevicesWithInventory`` columns that give each Intune device its serial number (the join to
the ledger) and, where the tenant has it, its EID. A tenant whose inventory export refuses the
EID column is read from ``managedDevices`` (no EID there): its EIDs are unknown, as they are
in a tenant where no device reports one.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from app.settings import Settings
from eidflow.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from eidflow.graph import GraphClient
    from eidflow.graph.export_job import ExportPolling

LOG = logging.getLogger("eidflow")
NO_EIDS = (
    "this tenant does not report EIDs (no device of the DevicesWithInventory export has one):"
    " the EID check stays unknown"
)
PERMISSIONS = "DeviceManagementConfiguration.Read.All, DeviceManagementManagedDevices.Read.All"


@dataclass
class ProfileRead:
    """What one read of one operator's eSIM policy found and recorded."""

    operator: str
    policy_id: str
    recorded: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # applied, pending, ... → PCs
    eid_checks: dict[str, int] = field(default_factory=dict)  # confirmed, differs, unknown → PCs
    differs: list[dict[str, str]] = field(default_factory=list)  # eid, serial, device_eid
    foreign: list[dict[str, str]] = field(default_factory=list)  # devices eidflow never handed off
    tenant_reports_eids: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def counts(self) -> dict[str, Any]:
        """The counts alone (a run's summary): statuses, EID checks, PCs that differ."""
        return {
            "policy_id": self.policy_id,
            "statuses": self.statuses,
            "eid_checks": self.eid_checks,
            "differs": len(self.differs),
            "not_handed_off": len(self.foreign),
        }


def policies(settings: Settings, operator: str = "", policy_id: str = "") -> list[tuple[str, str]]:
    """(operator, eSIM policy id) to read: ``policy_id`` for ``operator``, else what
    ``eidflow intune setup --apply`` recorded (for ``operator``, or every operator)."""
    from eidflow.ledger import intune_setups, open_ledger

    if policy_id:
        if not operator:
            names = [profile.name for profile in settings.operators]
            if len(names) != 1:
                raise ConfigError(
                    "--policy-id needs --operator: the PCs of which operator does it cover?",
                    todo="Pass --operator NAME with --policy-id.",
                )
            operator = names[0]
        return [(operator, policy_id)]
    names = [operator] if operator else [profile.name for profile in settings.operators]
    ledger = open_ledger(settings.ledger.url)
    try:
        with ledger.read() as connection:
            found = [(name, intune_setups.recorded(connection, name)) for name in names]
    finally:
        ledger.close()
    return [(name, recorded["policy_id"]) for name, recorded in found if recorded.get("policy_id")]


def read_and_record(
    settings: Settings,
    wanted: list[tuple[str, str]],
    graph: GraphClient | None = None,
    polling: ExportPolling | None = None,
) -> list[ProfileRead]:
    """Read each policy's statuses and the tenant's EIDs once; record them per PC."""
    from eidflow.graph import client_from_settings

    if graph is None:
        with client_from_settings(settings.graph) as own:
            return read_and_record(settings, wanted, own, polling)
    if not wanted:
        return []
    device_eids = _device_eids(graph, polling)
    reports_eids = bool((device_eids["device_eid"] != "").any())
    if not reports_eids:
        LOG.warning("%s.", NO_EIDS)
    return [
        _read_one(settings, graph, polling, operator, policy_id, device_eids, reports_eids)
        for operator, policy_id in wanted
    ]


def refresh(settings: Settings) -> list[ProfileRead]:
    """Every operator's recorded policy, for ``reconcile-pending``: an app without the
    permissions is told so in a warning, and the reconcile goes on."""
    from eidflow.graph import GraphAccessDenied
    from eidflow.graph.export_job import ExportJobFailed

    wanted = policies(settings)
    if not wanted:
        return []
    try:
        return read_and_record(settings, wanted)
    except (GraphAccessDenied, ExportJobFailed) as error:
        if error.status != 403:
            raise
        LOG.warning(
            "eSIM profile statuses not read (%s): the app needs %s.", error.what, PERMISSIONS
        )
        return []


def differs_lines(reads: list[ProfileRead], limit: int = 20) -> list[str]:
    """One loud line per PC whose device reports another EID (the first ``limit``), then a count."""
    lines = [
        f"EID DIFFERS: {pc['serial_number']} was handed to {read.operator} with EID {pc['eid']}"
        f" but the device reports {pc['device_eid']}: the operator holds a wrong EID for that PC"
        for read in reads
        for pc in read.differs
    ]
    more = [f"EID DIFFERS: {len(lines) - limit} more PC(s)"] if len(lines) > limit else []
    return lines[:limit] + more


def _read_one(
    settings: Settings,
    graph: GraphClient,
    polling: ExportPolling | None,
    operator: str,
    policy_id: str,
    device_eids: pd.DataFrame,
    reports_eids: bool,
) -> ProfileRead:
    from eidflow.core import profile_status as p
    from eidflow.graph.export_job import DEVICE_STATUSES, STATUS_SELECT, export_report
    from eidflow.ledger import open_ledger, profile_statuses
    from parsers.reports import read_profile_statuses

    quoted = policy_id.replace("'", "''")
    data = export_report(
        graph, DEVICE_STATUSES, STATUS_SELECT, polling, filter_=f"(PolicyId eq '{quoted}')"
    )
    statuses = read_profile_statuses(f"graph:{DEVICE_STATUSES}.zip", data)
    ledger = open_ledger(settings.ledger.url)
    try:
        with ledger.write() as connection:
            claims = profile_statuses.handed_off(connection, operator)
            ours, foreign = p.join(statuses, device_eids, claims)
            recorded = profile_statuses.record(connection, ours, policy_id, ledger.now())
    finally:
        ledger.close()
    differs = ours[ours[p.EID_CHECK] == p.DIFFERS]
    return ProfileRead(
        operator=operator,
        policy_id=policy_id,
        recorded=recorded,
        statuses=_counts(ours.loc[ours[p.STATUS] != "", p.STATUS]),
        eid_checks=_counts(ours[p.EID_CHECK]),
        differs=differs[["eid", "serial_number", p.DEVICE_EID]].to_dict("records"),
        foreign=foreign.to_dict("records"),
        tenant_reports_eids=reports_eids,
    )


def _device_eids(graph: GraphClient, polling: ExportPolling | None) -> pd.DataFrame:
    """Intune device id, serial and reported EID of every device (EID "" where unknown)."""
    from eidflow import schema
    from eidflow.graph.devices import list_managed_devices
    from eidflow.graph.export_job import (
        DEVICES_WITH_INVENTORY,
        EID_SELECT,
        ExportJobFailed,
        export_report,
    )
    from parsers.reports import read_device_eids

    try:
        data = export_report(graph, DEVICES_WITH_INVENTORY, EID_SELECT, polling)
    except ExportJobFailed as error:
        if error.status in (401, 403):
            raise
        LOG.warning("%s; listing managedDevices instead (they carry no EID).", error.what)
        listed = list_managed_devices(graph)
        columns = [schema.INTUNE_DEVICE_ID, schema.SERIAL_NUMBER]
        return listed[columns].assign(device_eid="")
    return read_device_eids(f"graph:{DEVICES_WITH_INVENTORY}.zip", data)


def _counts(values: pd.Series) -> dict[str, int]:
    return {str(name): int(count) for name, count in values.value_counts().sort_index().items()}
