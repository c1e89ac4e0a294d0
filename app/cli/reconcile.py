"""``eidflow reconcile``: the daily re-reconciliation as a command, for admins without Prefect.

The same steps as the ``reconcile-pending`` flow (``flows.reconcile``), run as plain
functions: devices handed off but not yet recorded as group members (and members registered
in Autopilot that have not enrolled yet) are checked against a fresh inventory (export files,
or ``graph``, with the Autopilot identities); the new members are listed in the run
folder's ``entra/``, and added through Graph with ``--apply``. Without Graph, ``eidflow
groups mark-imported RUN`` records that the admin imported the run's list by hand, so those
devices stop coming back.

Exit codes: 0 done; 2 usage or configuration; 3 Graph refused some memberships (they are
tried again on the next run).
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.options import config_option, json_option, ledger_option, print_json, settings_from
from eidflow.errors import EXIT_RUN_FAILED, EidflowError, printable


class MembershipsRefused(EidflowError):
    exit_code = EXIT_RUN_FAILED


@click.command()
@click.option(
    "--inventory",
    help='Intune "All devices" export (CSV or zip), or "graph" (default: [flows] inventory,'
    " or Graph when [flows] inventory_source is graph).",
)
@click.option("--entra-devices", help='Entra "Download devices" CSV, or "graph".')
@click.option(
    "--autopilot",
    help='Windows Autopilot devices export (CSV), "graph", or "none" (default: [flows]'
    " autopilot, else Graph when the inventory comes from Graph).",
)
@click.option(
    "--apply/--no-apply",
    "apply",
    default=None,
    help="Add the new members (enrolled, or registered in Autopilot) through Graph"
    " (default: [graph] apply_memberships).",
)
@ledger_option
@config_option
@json_option
def reconcile(
    inventory: str | None,
    entra_devices: str | None,
    autopilot: str | None,
    apply: bool | None,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Check handed-off devices against a fresh inventory; list (and --apply) the new members."""
    from dataclasses import asdict

    from flows.reconcile import ReconcileParameters, plain_hooks, reconcile_with

    settings = settings_from(config_file, ledger_url)
    parameters = ReconcileParameters(
        inventory=inventory,
        entra_devices=entra_devices,
        autopilot=autopilot,
        apply_memberships=apply,
    )
    outcome = reconcile_with(parameters, settings, plain_hooks())
    if as_json:
        print_json(asdict(outcome))
    else:
        states = ", ".join(f"{n} {state}" for state, n in outcome.by_intune_state.items())
        click.echo(
            printable(
                f"run {outcome.run_id}: {outcome.pending} pending ({states or 'none'}),"
                f" {len(outcome.new_members)} new member(s) listed,"
                f" {len(outcome.recorded_members)} recorded as members -> {outcome.run_dir}"
            )
        )
        if outcome.answers:
            taken = outcome.answers
            click.echo(
                printable(
                    f"answers inbox {taken.inbox}: {len(taken.archived)} file(s) recorded and"
                    f" archived, {len(taken.quarantined)} quarantined,"
                    f" {len(taken.not_placed)} in no operator's folder"
                )
            )
    if outcome.membership_failures:
        raise MembershipsRefused(
            f"run {outcome.run_id}: Graph refused {len(outcome.membership_failures)} of"
            f" {len(outcome.new_members)} group membership(s); they are tried again on the next"
            " run.",
            todo="eidflow groups sync shows the group's state.",
        )
