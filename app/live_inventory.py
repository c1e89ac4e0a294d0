"""The Intune inventory and the Entra devices from Graph: ``--inventory graph``.

The inventory comes from the ``DevicesWithInventory`` export job, read by the same parser
as an export made by hand in the admin center, so that both give the same decisions;
when the tenant refuses the job (or it fails or times out), from the ``managedDevices``
listing. Entra devices come from ``/devices`` with ``$select``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.settings import Settings

if TYPE_CHECKING:
    import pandas as pd

    from eidflow.graph import GraphClient
    from eidflow.graph.config import GraphSettings

GRAPH = "graph"  # the --inventory / --entra-devices value that means "ask Graph"
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


def _configured(settings: Settings) -> GraphSettings:
    from eidflow.errors import ConfigError

    if not settings.graph.configured:
        raise ConfigError(
            "--inventory graph / --entra-devices graph: [graph] is not configured.",
            todo="Set [graph] tenant_id, client_id and a certificate or EIDFLOW_GRAPH__CLIENT_SECRET"
            " (README 'Connecting to Microsoft Graph'), or pass export files instead.",
        )
    return settings.graph
