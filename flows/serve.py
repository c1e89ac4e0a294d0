"""``eidflow serve``: the scheduled deployments, served from this process against a Prefect server.

- ``watch-inbox/inbox``: every ``[flows] inbox_interval_seconds`` (or ``inbox_cron``), one run
  at a time (a run due while another is running is cancelled, not queued);
- ``reconcile-pending/daily``: ``[flows] reconcile_cron``;
- ``ingest-manifests/manual``: no schedule, for bulk purchases:
  ``prefect deployment run ingest-manifests/manual --params '{"parameters": {"manifests": [...]}}'``.

Schedules only run with a real server (``prefect server start``): the ephemeral server that
Prefect starts when ``PREFECT_API_URL`` is unset creates no scheduled runs and says nothing,
so this command checks for a server first and explains what to do when there is none.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eidflow.errors import EXIT_USAGE, EidflowError

if TYPE_CHECKING:  # imported where used: eidflow --help does not pay for them
    from app.settings import Settings

NO_SERVER = """\
eidflow serve: {problem}
Schedules run only on a real Prefect server (the temporary one Prefect starts by itself
creates no scheduled runs). To run one on this machine:
    prefect server start                      # API and UI on http://127.0.0.1:4200
and in the shell that runs eidflow serve (and every worker):
    export PREFECT_API_URL=http://127.0.0.1:4200/api
    # or once: prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api
Then run eidflow serve again. docs/team.md, "Running it for a team", describes a shared setup (PostgreSQL, workers)."""


def server_problem(api_url: str | None, timeout: float = 5.0) -> str | None:
    """Why no Prefect server can be used at ``api_url``, or None when it answers."""
    if not api_url:
        return "PREFECT_API_URL is not set."
    import httpx

    try:
        response = httpx.get(f"{api_url.rstrip('/')}/health", timeout=timeout)
    except httpx.HTTPError as error:
        return f"no Prefect server answers at PREFECT_API_URL={api_url} ({type(error).__name__})."
    if response.status_code != 200:
        return f"PREFECT_API_URL={api_url} answered /health with HTTP {response.status_code}."
    return None


def config_parameter(config_file: Path | None) -> str | None:
    """The config file the scheduled runs read, as an absolute path (they may run elsewhere)."""
    if config_file is not None:
        return str(config_file.resolve())
    from app.settings import DEFAULT_CONFIG_FILE

    default = Path(DEFAULT_CONFIG_FILE)
    return str(default.resolve()) if default.is_file() else None


def build_deployments(settings: Settings, config_file: str | None) -> list[Any]:
    """The three deployments, with the schedules of ``settings.flows``."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron, Interval

    from flows.automations import RETRY_TAG
    from flows.ingest import ingest_manifests
    from flows.reconcile import reconcile_pending
    from flows.watch import watch_inbox

    flow_settings = settings.flows
    tz = flow_settings.timezone
    inbox_schedule = (
        Cron(flow_settings.inbox_cron, timezone=tz)
        if flow_settings.inbox_cron
        else Interval(flow_settings.inbox_interval_seconds, timezone=tz)
    )
    common = {"config_file": config_file} if config_file else {}
    one_at_a_time = ConcurrencyLimitConfig(
        limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
    )
    return [
        watch_inbox.to_deployment(
            "inbox",
            schedules=[inbox_schedule],
            parameters={"parameters": common},
            concurrency_limit=one_at_a_time,
            tags=["eidflow"],
            description=f"Ingest new manifests from {flow_settings.inbox}",
        ),
        reconcile_pending.to_deployment(
            "daily",
            schedules=[Cron(flow_settings.reconcile_cron, timezone=tz)],
            parameters={"parameters": common},
            concurrency_limit=one_at_a_time,
            tags=["eidflow"],
            description="Add devices that enrolled since their hand-off to the Entra group",
        ),
        ingest_manifests.to_deployment(
            "manual",
            tags=["eidflow", RETRY_TAG],
            description="Ingest the manifests given as parameters (bulk purchases)",
        ),
    ]


@click.command("serve")
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="eidflow.toml (default: ./eidflow.toml if present).",
)
@click.option("--limit", type=int, default=None, help="At most this many runs at once here.")
def serve(config_file: Path | None, limit: int | None) -> None:
    """Run the scheduled flows (inbox, daily reconcile) against a Prefect server."""
    from prefect.settings import get_current_settings

    problem = server_problem(get_current_settings().api.url)
    if problem:
        click.echo(NO_SERVER.format(problem=problem), err=True)
        sys.exit(EXIT_USAGE)
    try:
        from app.settings import load_settings

        settings = load_settings(config_file)
        deployments = build_deployments(settings, config_parameter(config_file))
    except EidflowError as error:
        click.echo(f"eidflow: {error}", err=True)
        sys.exit(error.exit_code)
    import os

    import prefect

    # The flow runs are subprocesses of this one: they send heartbeats at this pace.
    os.environ["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"] = str(settings.flows.heartbeat_seconds)
    prefect.serve(*deployments, limit=limit)


if __name__ == "__main__":
    serve()
