"""A Microsoft Graph emulator on loopback, for the endpoints eidflow uses.

Real HTTP (werkzeug), so the client's paging, throttling and batching run as in production:
- ``GET /v1.0/deviceManagement/managedDevices``, ``GET /v1.0/devices``,
  ``GET /v1.0/groups/{id}/members/microsoft.graph.device``: ``$select``, small pages with an
  absolute ``@odata.nextLink``;
- ``POST /v1.0/groups/{id}/members/$ref``: 204; 400 with Graph's message when already a member;
  404 when the directory object or group is unknown;
- ``POST /v1.0/$batch``: up to 20 requests, each answered (and throttled) on its own;
- a bearer-token check (401), and 429 with a fractional ``Retry-After`` on chosen requests;
  a token in ``expired_tokens`` is answered 401 ``InvalidAuthenticationToken`` "the token is
  expired", as Graph answers a token past its lifetime.

Groups by name, the eSIM setting definitions, configuration policies, permissions and
steady throttling live in ``tests/graph_emulator_intune.py`` (``GraphEmulator.intune``).

Use the ``graph_emulator`` fixture (import it into a conftest.py), or ``GraphEmulator`` directly.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from tests.graph_emulator_intune import IntuneTenant

ALREADY_EXISTS_MESSAGE = (
    "One or more added object references already exist for the following modified "
    "properties: 'members'."
)
EXPIRED_MESSAGE = "Lifetime validation failed, the token is expired."
_REF = re.compile(r"^https://graph\.microsoft\.com/v1\.0/directoryObjects/([0-9a-fA-F-]+)$")

Answer = tuple[int, dict[str, Any] | None, dict[str, str]]


@dataclass
class GraphEmulator:
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
            elif request.method == "POST" and request.path == "/v1.0/$batch":
                status, body, headers = self._batch(request.get_json(silent=True) or {})
            else:
                payload = request.get_json(silent=True) if request.data else None
                status, body, headers = self._route(
                    request.method, request.path.removeprefix("/v1.0"), dict(request.args), payload
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
            else:
                path, _, query = item["url"].partition("?")
                args = dict(pair.split("=", 1) for pair in query.split("&") if "=" in pair)
                status, body, headers = self._route(item["method"], path, args, item.get("body"))
            responses.append({"id": item["id"], "status": status, "headers": headers, "body": body})
        return 200, {"responses": responses}, {}

    def _route(self, method: str, path: str, args: dict[str, str], payload: Any) -> Answer:
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
            members = [{"id": oid} for oid in listed]
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
