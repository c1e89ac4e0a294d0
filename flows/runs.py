"""What every eidflow flow run does around its work, so that a person can find it and trust
its state: a name and tags that carry the eidflow run id, eidflow's log lines in the run's
log, no secret in its parameters, bounded crash retries, retried ledger outages, and an end
state that says Failed when something was left undone.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from pydantic import AfterValidator, Field

from eidflow.errors import LedgerBusy, LedgerLost

T = TypeVar("T")

# The packages whose log lines (a dead run settled, a new ledger) belong in the run's log.
EIDFLOW_LOGGERS = ("eidflow", "app", "parsers", "exporters", "flows")
RUN_TAG_PREFIX = "run:"
RETRIED_BY_AUTOMATION = "run again by the automation"  # flows.automations' AwaitingRetry message
TRANSIENT_LEDGER_ERRORS = (LedgerLost, LedgerBusy)
SECRET_QUERY_KEYS = {"password", "passfile", "sslpassword", "sslkey"}

SECRET_PARAMETER = (
    "{field} holds a password. Prefect keeps flow-run parameters in clear in its database,"
    " API and UI, so none may carry a credential. Put the URL without its password here, and"
    " the password in ~/.pgpass (or PGPASSWORD) on the workers; or give the whole URL as"
    " EIDFLOW_LEDGER__URL in the workers' environment, or in a Prefect Secret block named by"
    " [flows.secret_blocks] ledger_url in eidflow.toml."
)


# The same rule for the Prefect server, in the parameters' JSON schema: with it, a flow run
# asked for with a password in ledger_url is refused when created, before it is stored.
NO_PASSWORD_PATTERN = (
    r"^(?![A-Za-z][A-Za-z0-9+.-]*://[^/?#@]*:[^/?#@]*@)"
    r"(?!.*[?&](?:password|passfile|sslpassword|sslkey)=)"
)


def refuse_secret_url(value: str | None, field: str) -> str | None:
    """A pydantic validator's body: a URL with a password (``user:pw@``, ``?password=``)
    is refused, so that it is never stored as a flow-run parameter."""
    if not value:
        return value
    parts = urlsplit(value)
    query_keys = {key.lower() for key in parse_qs(parts.query, keep_blank_values=True)}
    if parts.password is not None or query_keys & SECRET_QUERY_KEYS:
        raise ValueError(SECRET_PARAMETER.format(field=field))
    return value


# The flows' ``ledger_url`` parameter: a URL without a password (checked by the flow's model
# and, through the JSON schema, by the Prefect server), or None.
LedgerUrlParameter = Annotated[
    str | None,
    AfterValidator(lambda value: refuse_secret_url(value, "ledger_url")),
    Field(
        description="A ledger URL without a password (credentials: environment, ~/.pgpass,"
        " or [flows.secret_blocks] ledger_url).",
        json_schema_extra={"pattern": NO_PASSWORD_PATTERN},
    ),
]


def run_name(run_id: str, manifests: list[str]) -> str:
    """The flow run's name: the eidflow run id, then the first manifest's file name.

    >>> run_name("20261203T101500Z-a1b2c3", ["s3://b/inbox/po-1187.xlsx", "x.csv"])
    '20261203T101500Z-a1b2c3 po-1187.xlsx +1'
    """
    if not manifests:
        return run_id
    first = manifests[0].rstrip("/").rsplit("/", 1)[-1]
    more = f" +{len(manifests) - 1}" if len(manifests) > 1 else ""
    return f"{run_id} {first}{more}"


def name_run(run_id: str, manifests: Sequence[str] = ()) -> None:
    """Rename the current flow run after the eidflow run and tag it ``run:<id>``."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    if not flow_run.id:
        return
    tags = sorted({*flow_run.tags, f"{RUN_TAG_PREFIX}{run_id}"})
    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run.id, name=run_name(run_id, list(manifests)), tags=tags)


@contextmanager
def logs_in_run() -> Iterator[None]:
    """eidflow's own loggers reach the Prefect run's log (and the console) while it runs."""
    from prefect.logging.handlers import APILogHandler

    handler = APILogHandler()
    handler.setLevel(logging.INFO)
    changed: list[tuple[logging.Logger, int]] = []
    for name in EIDFLOW_LOGGERS:
        logger = logging.getLogger(name)
        changed.append((logger, logger.level))
        logger.addHandler(handler)
        if logger.getEffectiveLevel() > logging.INFO:
            logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        for logger, level in changed:
            logger.removeHandler(handler)
            logger.setLevel(level)


def crashes_before(limit: int) -> str:
    """Why this run must not go on, when the automation has already run it again after
    more than ``limit`` crashes; "" otherwise. A retry a person starts is always allowed."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.objects import StateType
    from prefect.runtime import flow_run

    if not flow_run.id:
        return ""
    with get_client(sync_client=True) as client:
        states = sorted(client.read_flow_run_states(flow_run.id), key=lambda s: s.timestamp)
    scheduled = [state for state in states if state.type == StateType.SCHEDULED]
    if not scheduled or RETRIED_BY_AUTOMATION not in (scheduled[-1].message or ""):
        return ""
    crashes = sum(state.type == StateType.CRASHED for state in states)
    if crashes <= limit:
        return ""
    return (
        f"this run crashed {crashes} times ([flows] crash_retries = {limit}); it is not run"
        " again by itself. Look at the worker host (memory, disk, the worker's log), then"
        " retry it from the UI: the ledger hands off only what no run delivered."
    )


def heartbeat_refusal(expected_seconds: int) -> str:
    """Why a deployment's run must not go on: it sends heartbeats slower than the crash
    automation expects (``[flows] heartbeat_seconds``), so it would be marked Crashed while it
    works, and a crashed manual run retried beside itself. "" otherwise, and outside a
    deployment (a run called in this process has no automation watching it). A run sending
    none is warned of: it is never marked Crashed, by mistake or when it dies."""
    from prefect.logging import get_run_logger
    from prefect.runtime import deployment
    from prefect.settings import get_current_settings

    if not deployment.id:
        return ""
    pace = get_current_settings().flows.heartbeat_frequency
    where = (
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY in the worker's environment or the deployment's"
        " job variables (prefect.yaml; eidflow serve sets it)"
    )
    if pace is None:
        get_run_logger().warning(
            "this run sends no heartbeats: if its worker dies it is not marked Crashed and"
            " holds its concurrency slot. Set %s to %d.",
            where,
            expected_seconds,
        )
        return ""
    if pace <= expected_seconds:
        return ""
    return (
        f"this run would send a heartbeat every {pace} s, but [flows] heartbeat_seconds ="
        f" {expected_seconds}: the automation would mark it Crashed while it works. Set {where}"
        f" to {expected_seconds}, or change [flows] heartbeat_seconds and run eidflow"
        " automations apply again. Nothing was read or handed off."
    )


def retry_ledger_outages(
    work: Callable[[], T], delays: list[float], sleep: Callable[[float], None] = time.sleep
) -> T:
    """``work()``, run again after each delay while the ledger is unreachable or busy (the
    server down or restarting, a connection reset, a serialization failure); a configuration
    error is never retried. A failed attempt leaves a void run that the next one settles."""
    log = logging.getLogger("flows")
    for attempt, delay in enumerate([*delays, None], start=1):
        try:
            return work()
        except TRANSIENT_LEDGER_ERRORS as error:
            if delay is None:
                raise
            log.warning(
                "attempt %d: %s; trying again in %g s", attempt, error.what.rstrip("."), delay
            )
            sleep(delay)
    raise AssertionError("unreachable")


class LeftUndone(Exception):
    """A flow run that did its work but left some of it undone: the Failed state's data.

    Prefect resolves a Failed state's data into an exception (a worker's run raises it at the
    end), so the run's outcome travels inside one."""

    def __init__(self, message: str, outcome: Any) -> None:
        super().__init__(message)
        self.outcome = outcome


def failed_state(message: str, outcome: Any) -> Any:
    """A Failed end state that keeps the run's outcome (its artifacts are already written)."""
    from prefect.states import Failed

    return Failed(message=message, data=LeftUndone(message, outcome))


def outcome_of(state: Any, kind: type[T]) -> T:
    """What a flow run called in this process returned, Failed or not; its error if it raised."""
    value = state.result(raise_on_failure=False)
    if isinstance(value, LeftUndone):
        value = value.outcome
    if isinstance(value, BaseException):
        raise value
    if not isinstance(value, kind):
        raise TypeError(f"the flow run returned {type(value).__name__}, not {kind.__name__}")
    return value
