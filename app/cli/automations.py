"""``eidflow automations``: the Prefect automations and the notification block the flows need.

``apply`` creates or updates them on the Prefect server of ``PREFECT_API_URL`` (a plan with
``--dry-run``); ``notify-via`` saves the Teams, Slack or webhook block that ``[flows]
notify_block`` names.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from app.cli.options import config_option
from eidflow.errors import EXIT_USAGE, ConfigError

NOTIFY_KINDS = {
    # kind: (Prefect block class, its block type slug)
    "teams": ("MicrosoftTeamsWebhook", "ms-teams-webhook"),
    "slack": ("SlackWebhook", "slack-webhook"),
    "webhook": ("CustomWebhookNotificationBlock", "custom-webhook"),
}


def need_server(command: str = "eidflow automations") -> None:
    """Exit 2, saying how to start one, unless a Prefect server answers at PREFECT_API_URL."""
    from prefect.settings import get_current_settings

    from flows.serve import NO_SERVER, server_problem

    problem = server_problem(get_current_settings().api.url)
    if problem:
        click.echo(NO_SERVER.format(problem=problem).replace("eidflow serve", command), err=True)
        sys.exit(EXIT_USAGE)


@click.group("automations")
def automations_group() -> None:
    """Prefect automations: crashed runs marked and retried, failures told to a person."""


@automations_group.command("apply")
@config_option
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
def apply_command(config_file: Path | None, dry_run: bool) -> None:
    """Create or update eidflow's automations on the Prefect server (matched by name)."""
    from app.settings import load_settings
    from flows import automations

    settings = load_settings(config_file)
    need_server()
    changes = automations.apply(settings.flows, dry_run=dry_run)
    for change in changes:
        click.echo(change.line())
    flows = settings.flows
    click.echo(
        f"heartbeat every {flows.heartbeat_seconds} s: a run silent for"
        f" {automations.unresponsive_after(flows).seconds} s is Crashed; crashed manual runs"
        f" are retried {flows.crash_retries} time(s); notifications: "
        + (flows.notify_block or "none ([flows] notify_block)")
        + (" (dry run: nothing changed)" if dry_run else "")
    )


@automations_group.command("notify-via")
@click.argument("kind", type=click.Choice(sorted(NOTIFY_KINDS)))
@click.option("--name", default="eidflow-alerts", show_default=True, help="The block's name.")
@click.option(
    "--url",
    envvar="EIDFLOW_NOTIFY_URL",
    prompt="Webhook URL",
    hide_input=True,
    help="The incoming webhook's URL (asked for when not given; it is a secret: stored as one).",
)
def notify_via_command(kind: str, name: str, url: str) -> None:
    """Save the Prefect notification block that eidflow's failures are sent through."""
    import prefect.blocks.notifications as notifications

    need_server()
    if not url.startswith("https://") and not url.startswith("http://"):
        raise ConfigError("the webhook URL must start with https://.", todo="Copy it again.")
    class_name, slug = NOTIFY_KINDS[kind]
    block_class = getattr(notifications, class_name)
    if kind == "webhook":
        block = block_class(
            name="eidflow",
            url=url,
            json_data={"subject": "{{subject}}", "text": "{{body}}"},
        )
    else:
        block = block_class(url=url)
    block.save(name, overwrite=True)
    click.echo(
        f"saved the {kind} block {slug}/{name}. In eidflow.toml: [flows] notify_block ="
        f' "{slug}/{name}", then: eidflow automations apply'
    )
