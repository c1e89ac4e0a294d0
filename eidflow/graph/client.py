"""A small synchronous Graph client: bearer token, paging, throttling, ``$batch``.

Plain ``httpx``. Throttled answers (429, 503, 504) are retried after their ``Retry-After``
(seconds, possibly fractional), a bounded number of times; so are connection errors.
Inside a ``$batch`` each request is answered, and throttled, on its own: only those are sent again.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)

from eidflow.errors import ConfigError, EidflowError
from eidflow.graph.auth import TokenProvider
from eidflow.graph.config import GRAPH_RESOURCE

RETRYABLE_STATUS = frozenset({429, 503, 504})
BATCH_LIMIT = 20  # Graph's JSON batching takes at most 20 requests per $batch
_FALLBACK_WAIT = 1.0  # seconds, when a throttled answer gives no Retry-After


class GraphError(EidflowError):
    """Graph answered with an error that retrying did not cure."""

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        super().__init__(
            f"Graph {method} {_path_of(url)} failed with HTTP {status}: {message}",
            todo="Check the app's Graph permissions and the ids in eidflow.toml, then rerun.",
        )
        self.status = status


class GraphAccessDenied(GraphError, ConfigError):
    """401/403: the token or the app's permissions are wrong; retrying will not help."""

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        super().__init__(method, url, status, message)
        self.todo = (
            "Check [graph] tenant_id/client_id and the credential, and the app's application"
            " permissions (admin consent): eidflow graph check names what each command needs"
            " and what is missing (the manual, docs/graph.md: 'Connecting to Microsoft Graph')."
        )


class GraphTokenRefused(GraphError, ConfigError):
    """401 "token is expired" again with a token just renewed: not the app's permissions."""

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        super().__init__(method, url, status, message)
        self.todo = (
            "The token was refused as expired, and so was a new one asked of Entra: check this"
            " machine's clock (and a fixed [graph] access_token, which cannot be renewed)."
        )


@dataclass(frozen=True)
class BatchAnswer:
    """One request's answer inside a ``$batch`` response."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str]

    @property
    def message(self) -> str:
        return str(self.body.get("error", {}).get("message", "")) if self.body else ""


class GraphClient:
    """Talks to Graph at ``base_url`` with tokens from ``token``."""

    def __init__(
        self,
        token: TokenProvider,
        *,
        base_url: str = GRAPH_RESOURCE,
        timeout_seconds: float = 30.0,
        max_attempts: int = 6,
        max_retry_wait_seconds: float = 120.0,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout_seconds)
        self._max_attempts = max_attempts
        self._max_wait = max_retry_wait_seconds
        self._sleep_kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}

    def __enter__(self) -> GraphClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def url(self, path: str) -> str:
        return (
            path
            if path.startswith("https://") or path.startswith("http://")
            else self.base_url + path
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send one request, retrying throttled answers; raise :class:`GraphError` on failure."""
        url = self.url(path)
        response = self._send_retrying(method, url, **kwargs)
        if _token_expired(response):  # once: a new token, and the request again
            response = self._send_retrying(method, url, renew=True, **kwargs)
            if _token_expired(response):
                raise GraphTokenRefused(method, url, response.status_code, _error_message(response))
        if response.status_code in (401, 403):
            raise GraphAccessDenied(method, url, response.status_code, _error_message(response))
        if response.status_code >= 400:
            raise GraphError(method, url, response.status_code, _error_message(response))
        return response

    def iter_values(
        self, path: str, params: dict[str, str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following ``@odata.nextLink`` verbatim."""
        next_url: str | None = self.url(path)
        first_params = params
        while next_url:
            page = self.request("GET", next_url, params=first_params).json()
            first_params = None  # the next link already carries the query
            yield from page.get("value", [])
            next_url = page.get("@odata.nextLink")

    def batch(self, requests: list[dict[str, Any]]) -> dict[str, BatchAnswer]:
        """Send up to 20 requests as one ``$batch``; re-send only the throttled ones.

        Each request is a dict with ``id``, ``method``, ``url`` (relative to ``/v1.0``) and
        optionally ``body``. Returns the final answer for every id.
        """
        if len(requests) > BATCH_LIMIT:
            raise ValueError(f"a $batch takes at most {BATCH_LIMIT} requests, got {len(requests)}")
        answers: dict[str, BatchAnswer] = {}
        pending = {request["id"]: request for request in requests}

        def send_pending() -> dict[str, BatchAnswer]:
            body = {"requests": [_batch_entry(request) for request in pending.values()]}
            response = self.request("POST", "/v1.0/$batch", json=body)
            throttled: dict[str, BatchAnswer] = {}
            for item in response.json().get("responses", []):
                answer = BatchAnswer(
                    status=int(item.get("status", 0)),
                    body=item.get("body") or {},
                    headers={str(k): str(v) for k, v in (item.get("headers") or {}).items()},
                )
                answers[str(item["id"])] = answer
                if answer.status in RETRYABLE_STATUS:
                    throttled[str(item["id"])] = answer
                else:
                    pending.pop(str(item["id"]), None)
            return throttled

        self._retrying(retry_if_result(bool))(send_pending)
        return answers

    def _send_retrying(
        self, method: str, url: str, *, renew: bool = False, **kwargs: Any
    ) -> httpx.Response:
        """The answer once throttling is over (throttled answers retried), renewing the token
        first when asked."""
        retrying = self._retrying(
            retry_if_result(lambda response: response.status_code in RETRYABLE_STATUS)
            | retry_if_exception_type(httpx.TransportError)
        )
        renew_next = renew  # the first attempt only: retries after throttling reuse the token

        def send() -> httpx.Response:
            nonlocal renew_next
            token = self._token(renew=True) if renew_next else self._token()
            renew_next = False
            headers = {"Authorization": f"Bearer {token}", **kwargs.get("headers", {})}
            others = {key: value for key, value in kwargs.items() if key != "headers"}
            return self._http.request(method, url, headers=headers, **others)

        try:
            response: httpx.Response = retrying(send)
        except httpx.TransportError as error:
            raise GraphError(method, url, 0, f"no answer ({type(error).__name__})") from None
        return response

    def _retrying(self, retry: Any) -> Retrying:
        return Retrying(
            retry=retry,
            stop=stop_after_attempt(self._max_attempts),
            wait=self._wait,
            retry_error_callback=_last_result,
            **self._sleep_kwargs,
        )

    def _wait(self, state: RetryCallState) -> float:
        """Seconds before the next attempt: the largest ``Retry-After`` given, capped."""
        outcome = state.outcome
        if outcome is None or outcome.failed:
            return min(_FALLBACK_WAIT * 2 ** (state.attempt_number - 1), self._max_wait)
        result = outcome.result()
        if isinstance(result, httpx.Response):
            values = [result.headers.get("Retry-After")]
        else:  # throttled batch answers
            values = [answer.headers.get("Retry-After") for answer in result.values()]
        waits = [parse_retry_after(value) for value in values]
        known = [wait for wait in waits if wait is not None]
        return min(max(known) if known else _FALLBACK_WAIT, self._max_wait)


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (Graph sends a number, possibly fractional); ``None`` if unusable.

    >>> parse_retry_after("2.5"), parse_retry_after("-1"), parse_retry_after("Wed, 21 Oct")
    (2.5, 0.0, None)
    """
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is unusable


def _last_result(state: RetryCallState) -> Any:
    """When attempts run out, hand back the last answer (the caller reports it) or raise."""
    assert state.outcome is not None
    if state.outcome.failed:
        error = state.outcome.exception()
        assert error is not None
        raise error
    return state.outcome.result()


def _batch_entry(request: dict[str, Any]) -> dict[str, Any]:
    entry = {"id": request["id"], "method": request["method"], "url": request["url"]}
    if "body" in request:
        entry["body"] = request["body"]
        entry["headers"] = {"Content-Type": "application/json"}
    return entry


def _token_expired(response: httpx.Response) -> bool:
    """Graph's answer to a token past its lifetime: 401 ``InvalidAuthenticationToken``,
    "…the token is expired" (a wrong or empty token is answered with another message)."""
    if response.status_code != 401:
        return False
    try:
        error = response.json().get("error", {})
    except (json.JSONDecodeError, AttributeError):
        return False
    return (
        error.get("code") == "InvalidAuthenticationToken"
        and "expired" in str(error.get("message", "")).lower()
    )


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", {}).get("message", "")) or response.reason_phrase
    except (json.JSONDecodeError, AttributeError):
        return response.reason_phrase


def _path_of(url: str) -> str:
    """The URL without host or query, for messages (queries can be long; never a token)."""
    return httpx.URL(url).path
