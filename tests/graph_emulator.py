"""A Microsoft Graph emulator on loopback, for the endpoints eidflow uses.

Real HTTP (werkzeug), so the client's paging, throttling and batching run as in production:
- ``GET /v1.0/deviceManagement/managedDevices``, ``GET /v1.0/devices``,
  ``GET /v1.0/groups/{id}/members/microsoft.graph.device``: ``$select``, small pages with an
  absolute ``@odata.nextLink``;
- ``POST /v1.0/groups/{id}/members/$ref``: 204; 400 with Graph's message when already a member;
  404 when the directory object or group is unknown;
- ``POST /v1.0/$batch``: up to 20 requests, each answered (and throttled) on its own;
- ``GET /v1.0/deviceManagement/windowsAutopilotDeviceIdentities``: paged, ``$filter`` by
  ``contains(serialNumber,'…')`` (the Autopilot block);
- a bearer-token check (401), and 429 with a fractional ``Retry-After`` on chosen requests;
  a token in ``expired_tokens`` is answered 401 ``InvalidAuthenticationToken`` "the token is
  expired", as Graph answers a token past its lifetime.

Groups by name, the eSIM setting definitions, configuration policies, permissions and
steady throttling live in ``tests/graph_emulator_intune.py`` (``GraphEmulator.intune``).

Use the ``graph_emulator`` fixture (import it into a conftest.py), or ``GraphEmulator`` directly.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.graph_emulator_intune import INVENTORY_EXTRA, IntuneTenant

ALREADY_EXISTS_MESSAGE = (
    "One or more added object references already exist for the following modified "
    "properties: 'members'."
)
EXPIRED_MESSAGE = "Lifetime validation failed, the token is expired."
_REF = re.compile(r"^https://graph\.microsoft\.com/v1\.0/directoryObjects/([0-9a-fA-F-]+)$")

Answer = tuple[int, dict[str, Any] | None, dict[str, str]]


# -- groups sync and export jobs (wt-groups) ---------------------------------------------
# One block, apart from the rest: members removed through $batch, member listings with
# deviceId, Intune export jobs and their zip, transient 503 and throttling every Nth call.

DOWNLOAD_PREFIX = "/export-downloads/"
_EXPORT_JOBS = re.compile(r"/deviceManagement/reports/exportJobs(?:\('([^']+)'\)|/([^/]+))?")
_MEMBER_REF = re.compile(r"/groups/([^/]+)/members/([^/]+)/\$ref")
# What a managedDevice field is called in the DevicesWithInventory export job's CSV.
EXPORT_COLUMNS = {
    "DeviceId": "id",
    "DeviceName": "deviceName",
    "SerialNumber": "serialNumber",
    "IMEI": "imei",
    "ReferenceId": "azureADDeviceId",
    "OSVersion": "osVersion",
    "LastContact": "lastSyncDateTime",
    "Manufacturer": "manufacturer",
    "Model": "model",
}


class _GroupsSyncRoutes:
    """The routes of this block; ``GraphEmulator`` holds the state they use."""

    groups: dict[str, set[str]]
    devices: list[dict[str, Any]]
    managed_devices: list[dict[str, Any]]
    base_url: str
    export_jobs: dict[str, dict[str, Any]]
    export_polls_to_complete: int
    refuse_export_jobs: int
    fail_export_jobs: bool
    throttle_every: int
    throttle_every_batch_item: int
    throttle_retry_after: str
    unavailable_every: int
    refuse_batches: set[int]
    batch_posts: int

    def _batch(self, document: dict[str, Any]) -> Answer:
        raise NotImplementedError

    def _batch_or_refuse(self, document: dict[str, Any]) -> Answer:
        self.batch_posts += 1
        if self.batch_posts in self.refuse_batches:
            return _error(500, "InternalServerError", "The batch could not be processed.")
        return self._batch(document)

    def _groups_sync_route(self, method: str, path: str, payload: Any) -> Answer | None:
        """The answer of this block's routes, ``None`` for the others."""
        removal = _MEMBER_REF.fullmatch(path)
        if removal is not None and method == "DELETE":
            return self._remove_member(removal.group(1), removal.group(2).lower())
        job = _EXPORT_JOBS.fullmatch(path.removeprefix("/beta"))  # on v1.0 and beta alike
        if job is None:
            return None
        job_id = job.group(1) or job.group(2)
        if method == "POST" and job_id is None:
            return self._create_export_job(payload or {})
        if method == "GET" and job_id is not None:
            return self._poll_export_job(job_id)
        return _error(405, "BadRequest", "Method not allowed.")

    def _remove_member(self, group_id: str, object_id: str) -> Answer:
        if group_id not in self.groups:
            return _not_found(group_id)
        if object_id not in self.groups[group_id]:
            return _not_found(object_id)
        self.groups[group_id].discard(object_id)
        return 204, None, {}

    def _create_export_job(self, payload: dict[str, Any]) -> Answer:
        if self.refuse_export_jobs:
            return _error(
                self.refuse_export_jobs, "Forbidden", "Not allowed to export this report."
            )
        report = str(payload.get("reportName"))
        refused = self.intune.refuse_report(report, list(payload.get("select") or []))
        if refused is not None:
            return refused
        job_id = f"{report}_{len(self.export_jobs) + 1:08d}-0000-4000-8000-000000000000"
        self.export_jobs[job_id] = {
            "id": job_id,
            "reportName": report,
            "filter": payload.get("filter", ""),
            "select": list(payload.get("select") or EXPORT_COLUMNS),
            "format": payload.get("format", "csv"),
            "snapshotId": None,
            "localizationType": payload.get(
                "localizationType", "localizedValuesAsAdditionalColumn"
            ),
            "status": "notStarted",
            "url": None,
            "requestDateTime": "2026-12-04T18:00:00Z",
            "expirationDateTime": "0001-01-01T00:00:00Z",
        }
        return 201, dict(self.export_jobs[job_id]), {}

    def _poll_export_job(self, job_id: str) -> Answer:
        job = self.export_jobs.get(job_id)
        if job is None:
            return _not_found(job_id)
        job["_polls"] = job.get("_polls", 0) + 1
        if job["_polls"] < self.export_polls_to_complete:
            job["status"] = "inProgress"
        elif self.fail_export_jobs:
            job["status"] = "failed"
        else:
            job["status"] = "completed"
            job["url"] = f"{self.base_url}{DOWNLOAD_PREFIX}{job_id}.zip?sig=emulated"
        return 200, {key: value for key, value in job.items() if key != "_polls"}, {}

    def _download(self, path: str) -> Response:
        job = self.export_jobs.get(path.removeprefix(DOWNLOAD_PREFIX).removesuffix(".zip"))
        if job is None or job["status"] != "completed":
            return Response("<Error><Code>BlobNotFound</Code></Error>", status=404)
        return Response(self.export_zip(job["id"], job["select"]), content_type="application/zip")

    def export_zip(self, job_id: str, select: list[str]) -> bytes:
        """The zip Intune leaves at a job's ``url``: one CSV named after the job."""
        job = self.export_jobs.get(job_id, {})
        rows = self.intune.report_rows(job.get("reportName", ""), job.get("filter", ""))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(select)
        for device in self.managed_devices if rows is None else rows:
            fields = EXPORT_COLUMNS | INVENTORY_EXTRA if rows is None else {}
            values = [device.get(fields.get(column, column)) for column in select]
            writer.writerow(["" if value is None else value for value in values])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{job_id}.csv", out.getvalue().encode("utf-8-sig"))
        return buffer.getvalue()

    def _member(self, object_id: str) -> dict[str, Any]:
        device = next((d for d in self.devices if str(d["id"]).lower() == object_id), None)
        return {"id": object_id, "deviceId": device.get("deviceId") if device else None}

    def _transient(self, number: int) -> Answer | None:
        if self.throttle_every and number % self.throttle_every == 0:
            return _throttled(self.throttle_retry_after)
        if self.unavailable_every and number % self.unavailable_every == 0:
            status, body, _ = _error(503, "ServiceUnavailable", "The service is unavailable.")
            return status, body, {"Retry-After": self.throttle_retry_after}
        return None

    def _batch_item_throttled(self, number: int) -> bool:
        every = self.throttle_every_batch_item
        return bool(every) and number % every == 0


# -- end of the groups sync block ---------------------------------------------------------


# -- Windows Autopilot identities (wt-autopilot) ------------------------------------------
# One block, apart from the rest: GET /deviceManagement/windowsAutopilotDeviceIdentities,
# paged like the other listings, with $filter=contains(serialNumber,'…') (a substring match,
# case-insensitive, as Graph's). Every listing is logged in ``autopilot_queries``.

AUTOPILOT_PATH = "/deviceManagement/windowsAutopilotDeviceIdentities"
_CONTAINS_SERIAL = re.compile(r"^contains\(serialNumber,\s*'((?:[^']|'')*)'\)$")


class _AutopilotRoutes:
    """The route of this block; ``GraphEmulator`` holds the identities."""

    autopilot_identities: list[dict[str, Any]]
    autopilot_queries: list[str]  # the $filter of each listing ("" for none)
    refuse_autopilot: int

    def _page(self, path: str, items: list[dict[str, Any]], args: dict[str, str]) -> Answer:
        raise NotImplementedError

    def _autopilot_route(self, method: str, path: str, args: dict[str, str]) -> Answer | None:
        if path != AUTOPILOT_PATH:
            return None
        if method != "GET":
            return _error(405, "BadRequest", "Method not allowed.")
        if self.refuse_autopilot:
            return _error(self.refuse_autopilot, "Forbidden", "Application is not authorized.")
        given = args.get("$filter", "")
        if "$skiptoken" not in args:
            self.autopilot_queries.append(given)
        if not given:
            return self._page(path, self.autopilot_identities, args)
        match = _CONTAINS_SERIAL.fullmatch(given.strip())
        if match is None:
            return _error(400, "BadRequest", f"Invalid filter clause: {given}")
        wanted = match.group(1).replace("''", "'").lower()
        found = [
            item
            for item in self.autopilot_identities
            if wanted in str(item.get("serialNumber") or "").lower()
        ]
        return self._page(path, found, args)


def autopilot_identity(
    serial: str, device_id: str, managed_device_id: str = "", **extra: Any
) -> dict[str, Any]:
    """A windowsAutopilotDeviceIdentity as Graph v1.0 gives it: registered, not enrolled
    (the zero GUID) unless ``managed_device_id`` is given."""
    return {
        "id": f"ap-{serial}-{device_id[-4:]}",
        "groupTag": "SCHOOL-ESIM",
        "purchaseOrderIdentifier": "PO-1190",
        "serialNumber": serial,
        "productKey": "",
        "manufacturer": "Lenovo",
        "model": "ThinkPad T14s Gen 6",
        "enrollmentState": "enrolled" if managed_device_id else "notContacted",
        "lastContactedDateTime": "0001-01-01T00:00:00Z",
        "addressableUserName": "",
        "userPrincipalName": "",
        "azureActiveDirectoryDeviceId": device_id,
        "managedDeviceId": managed_device_id or "00000000-0000-0000-0000-000000000000",
        "displayName": "",
    } | extra


# -- end of the Autopilot block -----------------------------------------------------------


@dataclass
class GraphEmulator(_GroupsSyncRoutes, _AutopilotRoutes):
    """The tenant's state, the emulator's behaviour knobs, and a log of what was asked."""

    token: str = "emulator-token"
    expired_tokens: set[str] = field(default_factory=set)  # refused as past their lifetime
    page_size: int = 2
    managed_devices: list[dict[str, Any]] = field(default_factory=list)
    devices: list[dict[str, Any]] = field(default_factory=list)  # Entra: id, deviceId, displayName
    groups: dict[str, set[str]] = field(default_factory=dict)  # group id → member object ids
    # Members not yet seen by the listing (Graph's directory replicates with a lag).
    unlisted_members: set[str] = field(default_factory=set)
    throttle_requests: dict[int, str] = field(
        default_factory=dict
    )  # Nth HTTP request → Retry-After
    throttle_batch_items: dict[int, str] = field(
        default_factory=dict
    )  # Nth $batch item → Retry-After
    log: list[tuple[str, str]] = field(default_factory=list)  # (method, path) of every HTTP request
    batch_items: list[tuple[str, str]] = field(
        default_factory=list
    )  # (method, url) of $batch items
    base_url: str = ""
    intune: IntuneTenant = field(default_factory=IntuneTenant)  # tests/graph_emulator_intune.py
    # -- groups sync and export jobs (wt-groups): see _GroupsSyncRoutes -----------------
    export_jobs: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → job
    export_polls_to_complete: int = 2  # GETs of a job before it is completed
    refuse_export_jobs: int = 0  # HTTP status answered to POST exportJobs (0: accepted)
    fail_export_jobs: bool = False  # jobs end "failed" instead of "completed"
    throttle_every: int = 0  # every Nth HTTP request answers 429 (0: never)
    throttle_every_batch_item: int = 0  # every Nth $batch item answers 429 (0: never)
    throttle_retry_after: str = "0.01"
    unavailable_every: int = 0  # every Nth HTTP request answers 503 (0: never)
    refuse_batches: set[int] = field(default_factory=set)  # Nth $batch POST → 500
    batch_posts: int = 0
    # -- Windows Autopilot (wt-autopilot): see _AutopilotRoutes ------------------------
    autopilot_identities: list[dict[str, Any]] = field(default_factory=list)
    autopilot_queries: list[str] = field(default_factory=list)  # $filter of each listing
    refuse_autopilot: int = 0  # HTTP status answered to the listing (0: answered)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> GraphEmulator:
        self._server = make_server(
            "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    # -- HTTP -------------------------------------------------------------------------
    @Request.application  # type: ignore[untyped-decorator,misc]
    def _wsgi(self, request: Request) -> Response:
        with self._lock:
            self.log.append((request.method, request.path))
            number = len(self.log)
            given = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if request.path.startswith(DOWNLOAD_PREFIX):  # pre-signed: no bearer token
                return self._download(request.path)
            if given in self.expired_tokens:
                status, body, headers = _error(401, "InvalidAuthenticationToken", EXPIRED_MESSAGE)
            elif request.headers.get("Authorization") != f"Bearer {self.token}":
                status, body, headers = _error(
                    401, "InvalidAuthenticationToken", "Access token is empty or invalid."
                )
            elif number in self.throttle_requests:
                status, body, headers = _throttled(self.throttle_requests[number])
            elif (fault := self.intune.fault(number)) is not None:
                status, body, headers = fault
            elif (transient := self._transient(number)) is not None:
                status, body, headers = transient
            elif request.method == "POST" and request.path == "/v1.0/$batch":
                status, body, headers = self._batch_or_refuse(request.get_json(silent=True) or {})
            else:
                payload = request.get_json(silent=True) if request.data else None
                path = request.path.removeprefix("/v1.0")  # /beta/… stays: Intune routes match it
                status, body, headers = self._route(
                    request.method, path, dict(request.args), payload
                )
        text = "" if body is None else json.dumps(body)
        return Response(text, status=status, headers=headers, content_type="application/json")

    def _batch(self, document: dict[str, Any]) -> Answer:
        requests = document.get("requests", [])
        if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
            return _error(400, "BadRequest", "Invalid batch payload format: 1 to 20 requests.")
        responses = []
        for item in requests:
            self.batch_items.append((item["method"], item["url"]))
            if len(self.batch_items) in self.throttle_batch_items:
                status, body, headers = _throttled(self.throttle_batch_items[len(self.batch_items)])
            elif self._batch_item_throttled(len(self.batch_items)):
                status, body, headers = _throttled(self.throttle_retry_after)
            else:
                path, _, query = item["url"].partition("?")
                args = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
                status, body, headers = self._route(item["method"], path, args, item.get("body"))
            responses.append({"id": item["id"], "status": status, "headers": headers, "body": body})
        return 200, {"responses": responses}, {}

    def _route(self, method: str, path: str, args: dict[str, str], payload: Any) -> Answer:
        if (synced := self._groups_sync_route(method, path, payload)) is not None:
            return synced
        if (registered := self._autopilot_route(method, path, args)) is not None:
            return registered
        intune = self.intune.route(self, method, path, args, payload)
        if intune is not None:
            return intune
        if method == "GET" and path == "/deviceManagement/managedDevices":
            return self._page(path, self.managed_devices, args)
        if method == "GET" and path == "/devices":
            return self._page(path, self.devices, args)
        match = re.fullmatch(r"/groups/([^/]+)/members/(microsoft\.graph\.device|\$ref)", path)
        if match is None:
            return _error(400, "BadRequest", f"Resource not found for the segment '{path}'.")
        group_id, segment = match.groups()
        if group_id not in self.groups:
            return _not_found(group_id)
        if method == "GET" and segment == "microsoft.graph.device":
            listed = sorted(self.groups[group_id] - self.unlisted_members)
            members = [self._member(oid) for oid in listed]
            return self._page(path, members, args)
        if method == "POST" and segment == "$ref":
            return self._add_member(group_id, payload)
        return _error(405, "Request_BadRequest", "Method not allowed.")

    def _add_member(self, group_id: str, payload: Any) -> Answer:
        ref = _REF.match(str((payload or {}).get("@odata.id", "")))
        if ref is None:
            return _error(400, "Request_BadRequest", "Invalid object identifier in @odata.id.")
        object_id = ref.group(1).lower()
        if object_id not in {str(device["id"]).lower() for device in self.devices}:
            return _not_found(object_id)
        if object_id in self.groups[group_id]:
            return _error(400, "Request_BadRequest", ALREADY_EXISTS_MESSAGE)
        self.groups[group_id].add(object_id)
        return 204, None, {}

    def _page(self, path: str, items: list[dict[str, Any]], args: dict[str, str]) -> Answer:
        skip = int(args.get("$skiptoken", "0"))
        fields = [name for name in args.get("$select", "").split(",") if name]
        page = items[skip : skip + self.page_size]
        body: dict[str, Any] = {
            "value": [{k: v for k, v in item.items() if not fields or k in fields} for item in page]
        }
        if skip + self.page_size < len(items):
            query = {k: v for k, v in args.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(skip + self.page_size)
            body["@odata.nextLink"] = f"{self.base_url}/v1.0{path}?{urlencode(query, safe='$,')}"
        return 200, body, {}


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        """No access log on stderr."""


def _error(status: int, code: str, message: str) -> Answer:
    return status, {"error": {"code": code, "message": message, "innerError": {}}}, {}


def _not_found(object_id: str) -> Answer:
    return _error(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property "
        "objects are not present.",
    )


def _throttled(retry_after: str) -> Answer:
    status, body, _ = _error(429, "TooManyRequests", "Too many requests.")
    return status, body, {"Retry-After": retry_after}


@pytest.fixture
def graph_emulator() -> Iterator[GraphEmulator]:
    """A fresh, running emulator per test (starts in milliseconds)."""
    emulator = GraphEmulator().start()
    try:
        yield emulator
    finally:
        emulator.stop()
