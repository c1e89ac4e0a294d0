"""Intune report export jobs: create, poll with a bound, download the zip at ``url``.

``POST /beta/deviceManagement/reports/exportJobs`` answers 201 with the job's ``id``; the job
goes ``notStarted`` → ``inProgress`` → ``completed`` (or ``failed``), and a completed job's
``url`` is a pre-signed link to a zip holding one CSV: it is fetched without the bearer
token (the link carries its own signature, so it is never shown in a message). Intune
limits export requests per tenant (about 100 a minute): the poll waits between calls.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from eidflow.errors import EidflowError
from eidflow.graph.client import GraphAccessDenied, GraphClient, GraphError

log = logging.getLogger(__name__)

EXPORT_JOBS = "/beta/deviceManagement/reports/exportJobs"
DEVICES_WITH_INVENTORY = "DevicesWithInventory"
# The report's column ids for what the core reads (Intune names them so in the job's CSV;
# ``parsers.exports`` knows them beside the admin center's friendly headers). ReferenceId
# is the Entra deviceId ("Azure AD Device ID"); unconfirmed for this report, so the
# managedDevices listing stays the fallback when the tenant refuses the selection.
INVENTORY_SELECT = (
    "DeviceId",
    "DeviceName",
    "SerialNumber",
    "IMEI",
    "ReferenceId",
    "OSVersion",
    "LastContact",
    "Manufacturer",
    "Model",
)
# The eSIM policy's per-device statuses (filtered on its PolicyId) and the EID column of the
# inventory (``eidflow intune status``); parsers.reports reads both by column name.
DEVICE_STATUSES = "DeviceStatusesByConfigurationProfile"
STATUS_SELECT = (
    "IntuneDeviceId",
    "DeviceName",
    "PolicyId",
    "PolicyStatus",
    "PspdpuLastModifiedTimeUtc",
)
EID_SELECT = ("DeviceId", "SerialNumber", "EID")
# Statuses that end a job; anything else (notStarted, inProgress) means poll again.
DONE = frozenset({"completed", "failed"})


class ExportJobFailed(EidflowError):
    """The job was refused, failed, or did not complete in time: list the devices instead."""

    def __init__(self, report: str, why: str, status: int = 0) -> None:
        super().__init__(f"the Intune {report} export job {why}")
        self.status = status


@dataclass(frozen=True)
class ExportPolling:
    """How long and how often a job is polled: soon at first, then every ``interval_seconds``
    (30 calls a minute, within Intune's ~100 export requests a minute per tenant)."""

    first_interval_seconds: float = 0.5
    interval_seconds: float = 2.0
    timeout_seconds: float = 600.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic


def export_report(
    client: GraphClient,
    report: str,
    select: tuple[str, ...],
    polling: ExportPolling | None = None,
    *,
    filter_: str = "",
) -> bytes:
    """The zip of ``report`` with the columns ``select``; raises :class:`ExportJobFailed`."""
    polling = polling or ExportPolling()
    body: dict[str, object] = {"reportName": report, "format": "csv", "select": list(select)}
    if filter_:
        body["filter"] = filter_
    try:
        job = client.request("POST", EXPORT_JOBS, json=body).json()
    except GraphAccessDenied as error:
        answer = error.what.split(": ", 1)[-1]  # Graph's message, after method and path
        raise ExportJobFailed(
            report, f"was refused (HTTP {error.status}: {answer})", error.status
        ) from None
    except GraphError as error:
        raise ExportJobFailed(report, f"was refused (HTTP {error.status})", error.status) from None
    job_id = str(job.get("id", ""))
    if not job_id:
        raise ExportJobFailed(report, "was created without an id")
    deadline = polling.clock() + polling.timeout_seconds
    wait = polling.first_interval_seconds
    while str(job.get("status", "")) not in DONE:
        if polling.clock() >= deadline:
            raise ExportJobFailed(report, f"did not complete in {polling.timeout_seconds:g} s")
        polling.sleep(wait)
        wait = min(wait * 2, polling.interval_seconds)
        job = client.request("GET", f"{EXPORT_JOBS}('{job_id}')").json()
    if job.get("status") != "completed" or not job.get("url"):
        raise ExportJobFailed(report, f"ended {job.get('status')!r}")
    log.info("export job %s completed", job_id)
    return download(str(job["url"]))


def download(url: str, timeout_seconds: float = 120.0, attempts: int = 3) -> bytes:
    """The bytes at a pre-signed link (no bearer token), a few tries on transient failures."""
    last = ""
    for attempt in range(attempts):
        try:
            response = httpx.get(url, timeout=timeout_seconds)
        except httpx.TransportError as error:
            last = f"no answer ({type(error).__name__})"
        else:
            if response.status_code == 200:
                return response.content
            last = f"HTTP {response.status_code}"
            if response.status_code < 500:
                break
        time.sleep(min(2.0**attempt, 10.0))
    # The link's query is its signature: the message names only the path.
    raise ExportJobFailed(
        "export", f"zip could not be downloaded from {httpx.URL(url).path}: {last}"
    )
