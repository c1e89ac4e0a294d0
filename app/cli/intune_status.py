"""``eidflow intune status``: the eSIM policy's status on each PC handed off, and the EID the
device reports, read from Intune and recorded in the ledger (``app.profile_status``).

Exit codes: 0 read (an EID that differs from the manifest's is a loud line on stderr and a
``warning`` in the JSON, not a failure), 2 a mistake in the settings or a permission missing,
3 Graph failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.cli.options import config_option, json_option, print_json, settings_from
from eidflow.errors import EXIT_RUN_FAILED, ConfigError, printable

if TYPE_CHECKING:
    from app.profile_status import ProfileRead

LOUD_LINES = 20  # EIDs that differ, one line each; then a count
NAMED = 20  # devices eidflow never handed off, named; then a count


@click.command("status")
@click.option("--operator", "operator_name", default="", help="One operator (default: every one).")
@click.option("--policy-id", default="", help="The eSIM policy (default: what setup recorded).")
@config_option
@json_option
def status(operator_name: str, policy_id: str, config_file: Path | None, as_json: bool) -> None:
    """Read the eSIM profile's status per PC (and the EID each device reports) from Intune."""
    from app.profile_status import (
        NO_EIDS,
        PERMISSIONS,
        differs_lines,
        policies,
        read_and_record,
    )
    from eidflow.graph import GraphAccessDenied, GraphError
    from eidflow.graph.export_job import ExportJobFailed

    settings = settings_from(config_file, None)
    if not settings.graph.configured:
        raise ConfigError(
            "[graph] is not configured: intune status reads Intune's reports through Graph.",
            todo="Set tenant_id, client_id and a certificate or secret "
            "(README 'Connecting to Microsoft Graph').",
        )
    wanted = policies(settings, operator_name, policy_id)
    if not wanted:
        raise ConfigError(
            f"no eSIM policy is recorded for {operator_name or 'any operator'}.",
            todo="Run eidflow intune setup --operator NAME --apply, or pass --policy-id.",
        )
    try:
        reads = read_and_record(settings, wanted)
    except (GraphAccessDenied, ExportJobFailed) as error:
        if getattr(error, "status", 0) == 403:
            error.todo = (
                f"intune status needs the application permissions {PERMISSIONS}; "
                "`eidflow graph check` names the missing ones."
            )
        elif isinstance(error, ExportJobFailed):
            error.exit_code = EXIT_RUN_FAILED
        raise
    except GraphError as error:
        if not isinstance(error, ConfigError):
            error.exit_code = EXIT_RUN_FAILED
        raise
    for line in differs_lines(reads, LOUD_LINES):
        click.echo(printable(line), err=True)
    if as_json:
        print_json(
            {
                "operators": [read.as_dict() for read in reads],
                "warnings": [_differs_warning(read) for read in reads if read.differs]
                + ([NO_EIDS] if reads and not reads[0].tenant_reports_eids else []),
            }
        )
        return
    for read in reads:
        _report(read)


def _differs_warning(read: ProfileRead) -> str:
    return (
        f"{len(read.differs)} PC(s) handed to {read.operator} report another EID than the"
        " manifest's: the operator holds a wrong EID for them"
    )


def _report(read: ProfileRead) -> None:
    click.echo(
        printable(f"intune status for {read.operator} (policy {read.policy_id}):")
        + f" {read.recorded} PC(s) recorded"
    )
    statuses = ", ".join(f"{name} {count}" for name, count in read.statuses.items())
    click.echo(f"  profile: {statuses or 'no PC of ours in the report'}")
    checks = ", ".join(f"{name} {count}" for name, count in read.eid_checks.items())
    click.echo(f"  EID as the device reports it: {checks or '-'}")
    if read.foreign:
        names = ", ".join(
            device["device_name"] or device["intune_device_id"] for device in read.foreign[:NAMED]
        )
        more = f" and {len(read.foreign) - NAMED} more" if len(read.foreign) > NAMED else ""
        click.echo(
            printable(
                f"  {len(read.foreign)} device(s) in the report were never handed off by"
                f" eidflow (not recorded): {names}{more}"
            )
        )
