"""``eidflow schedules apply``: the deployments of prefect.yaml get eidflow.toml's schedules.

prefect.yaml holds no schedules (``schedules: null``): eidflow.toml's ``[flows]`` is their one
source, for these deployments as for ``eidflow serve``'s (``flows.schedules``).
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.automations import need_server
from app.cli.options import config_option


@click.group("schedules")
def schedules_group() -> None:
    """The schedules of the inbox and daily deployments, from eidflow.toml's [flows]."""


@schedules_group.command("apply")
@config_option
@click.option("--dry-run", is_flag=True, help="Say what would change; change nothing.")
def apply_command(config_file: Path | None, dry_run: bool) -> None:
    """Give the Prefect server's inbox and daily deployments eidflow.toml's schedules."""
    from app.settings import load_settings
    from flows import schedules

    settings = load_settings(config_file)
    need_server("eidflow schedules")
    for change in schedules.apply(settings.flows, dry_run=dry_run):
        click.echo(change.line())
    if dry_run:
        click.echo("dry run: nothing changed")
