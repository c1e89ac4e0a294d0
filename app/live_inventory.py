"""The Intune inventory, the Entra devices and the Autopilot identities from Graph:
``--inventory graph``.

The inventory comes from the ``DevicesWithInventory`` export job, read by the same parser
as an export made by hand in the admin center, so that both give the same decisions;
when the tenant refuses the job (or it fails or times out), from the ``managedDevices``
listing. Entra devices come from ``/devices`` with ``$select``; Windows Autopilot
identities from ``windowsAutopilotDeviceIdentities`` (``eidflow.graph.autopilot``), also
when only the inventory is said to come from Graph.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from app.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from eidflow.graph import GraphClient
    from eidflow.graph.config import GraphSettings

GRAPH = "graph"  # the --inventory / --entra-devices / --autopilot value that means "ask Graph"
NONE = "none"  # the --autopilot value that means "no Autopilot identities", Graph or not
EXPORT_NAME = "graph:DevicesWithInventory.zip"  # how messages and summary.json name it
LOG = logging.getLogger("eidflow")


def is_graph(source: str | None) -> bool:
    return (source or "").strip().lower() == GRAPH


def intune_inventory(settings: Settings, graph: GraphClient | None = None) -> pd.DataFrame:
    """The Intune inventory of the tenant in ``[graph]``, as ``parsers`` gives it."""
    from eidflow.graph import client_from_settings

    if graph is None:
        with client_from_settings(_configured(settings)) as own:
            return intune_inventory(settings, own)
    import parsers
    from eidflow.graph.devices import list_managed_devices
    from eidflow.graph.export_job import (
        DEVICES_WITH_INVENTORY,
        INVENTORY_SELECT,
        ExportJobFailed,
        export_report,
    )

    try:
        data = export_report(graph, DEVICES_WITH_INVENTORY, INVENTORY_SELECT)
    except ExportJobFailed as error:
        LOG.warning("%s; listing managedDevices instead (slower on a large tenant).", error.what)
        return list_managed_devices(graph)
    return parsers.read_intune_inventory(EXPORT_NAME, data)


def entra_devices(settings: Settings, graph: GraphClient | None = None) -> pd.DataFrame:
    """The Entra devices of the tenant in ``[graph]``."""
    from eidflow.graph import client_from_settings, list_entra_devices

    if graph is None:
        with client_from_settings(_configured(settings)) as own:
            return list_entra_devices(own)
    return list_entra_devices(graph)


def autopilot_source(given: str | None, configured: str, inventory: str | None) -> str:
    """Where the Autopilot identities come from: a file, ``graph``, or ``""`` for nowhere.

    ``--autopilot``, else ``[inventory] autopilot``; when neither says, Graph if the Intune
    inventory comes from Graph (``none`` turns that off).
    """
    chosen = (given or configured or "").strip()
    if chosen:
        return "" if chosen.lower() == NONE else chosen
    return GRAPH if is_graph(inventory) else ""


def autopilot_identities(
    settings: Settings,
    graph: GraphClient | None = None,
    serials: Iterable[str] | None = None,
    *,
    required: bool = True,
) -> pd.DataFrame | None:
    """The Windows Autopilot identities of the tenant (of ``serials`` only, when given).

    Not ``required`` (Graph was chosen for the inventory, not for Autopilot): an app
    without ``DeviceManagementServiceConfig.Read.All`` is told so in a warning and the run
    goes on without Autopilot (``None``).
    """
    from eidflow.graph import GraphAccessDenied, client_from_settings
    from eidflow.graph.autopilot import find_autopilot_identities, list_autopilot_identities

    if graph is None:
        with client_from_settings(_configured(settings)) as own:
            return autopilot_identities(settings, own, serials, required=required)
    try:
        if serials is None:
            return list_autopilot_identities(graph)
        return find_autopilot_identities(graph, serials)
    except GraphAccessDenied as error:
        if required or error.status == 401:
            error.todo = AUTOPILOT_TODO
            raise
        LOG.warning(
            "Windows Autopilot identities not read (HTTP %d: the app needs"
            " DeviceManagementServiceConfig.Read.All); reconciling without them. %s",
            error.status,
            'Set [inventory] autopilot = "none" to stop asking.',
        )
        return None


AUTOPILOT_TODO = (
    "Grant the app the application permission DeviceManagementServiceConfig.Read.All (admin"
    ' consent), or pass --autopilot none (or [inventory] autopilot = "none").'
)


def _configured(settings: Settings) -> GraphSettings:
    from eidflow.errors import ConfigError

    if not settings.graph.configured:
        raise ConfigError(
            "--inventory graph / --entra-devices graph / --autopilot graph: [graph] is not"
            " configured.",
            todo="Set [graph] tenant_id, client_id and a certificate or EIDFLOW_GRAPH__CLIENT_SECRET"
            " (docs/graph.md 'Connecting to Microsoft Graph'), or pass export files instead.",
        )
    return settings.graph
