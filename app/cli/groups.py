"""``eidflow groups sync`` and ``eidflow groups mark-imported``: the static group kept in step.

``sync`` compares the devices the ledger says belong in the group with the group's real
members (Graph) and prints the plan; ``--apply`` makes the changes, each recorded in the
ledger with Graph's answer, under a run of kind ``groups-sync`` whose folder holds
``group-changes.csv`` and ``summary.json``. ``mark-imported`` records that an admin
imported a run's ``entra/group-members.csv`` by hand (no Graph needed).

Exit codes: 0 done (or nothing to do); 2 usage or configuration (no group, no Graph
settings, an unknown run, a group Graph does not know); 3 some changes failed (they are
recorded as failed; run the sync again).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.options import config_option, json_option, ledger_option, open_for_run, print_json
from eidflow.errors import EXIT_RUN_FAILED, ConfigError, EidflowError, printable

if TYPE_CHECKING:
    from app.settings import Settings
    from eidflow.graph import GraphClient

SHOWN = ("add", "remove", "kept", "unresolved")  # the plan's lines a table shows one by one


class SyncIncomplete(EidflowError):
    """Graph refused some changes; they are recorded as failed and tried again next time."""

    exit_code = EXIT_RUN_FAILED


@click.group("groups")
def groups_group() -> None:
    """Keep the static Entra device group in step with the ledger."""


def group_option(function: Any) -> Any:
    return click.option(
        "--group", "group_id", help="The group's object id (default: [entra] group_id)."
    )(function)


@groups_group.command("sync")
@click.option("--operator", "operator_name", help="Only the devices handed to this operator.")
@click.option("--apply", "apply", is_flag=True, help="Make the changes (default: show the plan).")
@click.option("--prune", is_flag=True, help="Remove members eidflow added that are not wanted.")
@click.option(
    "--prune-foreign", is_flag=True, help="Also remove members eidflow never added (careful)."
)
@group_option
@ledger_option
@config_option
@json_option
def sync(
    operator_name: str | None,
    apply: bool,
    prune: bool,
    prune_foreign: bool,
    group_id: str | None,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Show (or --apply) the changes that make the group hold exactly the wanted devices."""
    from app import group_runs
    from eidflow.core import group_plan
    from eidflow.graph import client_from_settings
    from eidflow.ledger import group_changes

    settings, ledger = open_for_run(config_file, ledger_url)
    try:
        group = _group_of(settings, group_id)
        _check_operator(settings, operator_name)
        _check_graph(settings)
        with client_from_settings(settings.graph) as graph:
            with ledger.read() as connection:
                handed = group_changes.handed_off(connection)
                ours = group_changes.recorded_members(connection, group)
                retired = group_changes.retired(connection)
            members = _members(graph, group)
            planned = group_plan.plan(
                handed,
                [member["id"] for member in members],
                ours,
                operator=operator_name,
                prune=prune,
                prune_foreign=prune_foreign,
                retired=retired,
            )
            report: dict[str, Any] = {
                "group_id": group,
                "operator": operator_name or "",
                "counts": group_plan.counts(planned),
                "plan": planned.to_dict("records"),
                "applied": None,
            }
            if apply:
                report["applied"] = group_runs.apply_plan(
                    settings, ledger, graph, group, planned, ours
                )
    finally:
        ledger.close()
    _show(report, as_json)
    failed = (report["applied"] or {}).get("counts", {}).get("failed", 0)
    if failed:
        raise SyncIncomplete(
            f"{failed} change(s) to group {group} failed (recorded in run"
            f" {report['applied']['run_id']}, {group_runs.CHANGES_FILE} says why).",
            todo="Run eidflow groups sync --apply again; only what is still missing is tried.",
        )


@groups_group.command("mark-imported")
@click.argument("run_id")
@group_option
@ledger_option
@config_option
def mark_imported(
    run_id: str, group_id: str | None, ledger_url: str | None, config_file: Path | None
) -> None:
    """Record that RUN's entra/group-members.csv was imported into the group by hand."""
    from app import group_runs
    from eidflow.ledger import enrolment

    settings, ledger = open_for_run(config_file, ledger_url)
    try:
        group = _group_of(settings, group_id)
        with ledger.read() as connection:
            found = connection.rows(
                "SELECT run_dir, state FROM runs WHERE run_id = :run_id", {"run_id": run_id}
            )
        if not found:
            raise ConfigError(
                f"run {run_id}: no such run in the ledger at {ledger.url.where}.",
                todo="eidflow history lists the runs.",
            )
        listed = group_runs.listed_members(
            run_id, Path(str(found[0]["run_dir"])), str(found[0]["state"])
        )
        with ledger.write() as connection:
            members = group_runs.with_eids(connection, listed)
            before = connection.scalar(
                "SELECT COUNT(*) FROM memberships WHERE group_id = :g", {"g": group}
            )
            enrolment.record_memberships(connection, run_id, group, members, ledger.now())
            after = connection.scalar(
                "SELECT COUNT(*) FROM memberships WHERE group_id = :g", {"g": group}
            )
    finally:
        ledger.close()
    unknown = len(listed) - len(members)
    click.echo(
        printable(
            f"run {run_id}: {int(after) - int(before)} member(s) of group {group} recorded"
            f" ({len(listed)} listed, {len(members) - (int(after) - int(before))} recorded before"
            + (f", {unknown} unknown to the ledger" if unknown else "")
            + ")"
        )
    )


def _members(graph: GraphClient, group: str) -> list[dict[str, str]]:
    from eidflow.graph import GraphError
    from eidflow.graph.groups_sync import read_members

    try:
        return read_members(graph, group)
    except GraphError as error:
        if error.status != 404:
            raise
        raise ConfigError(
            f"group {group}: Graph knows no such group.",
            todo="Check [entra] group_id (or --group): the group's object id in Entra.",
        ) from None


def _show(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    counts = report["counts"]
    click.echo(
        f"group {report['group_id']}"
        + (f" (operator {report['operator']})" if report["operator"] else "")
        + ": "
        + ", ".join(f"{counts[verdict]} {verdict}" for verdict in counts)
    )
    lines = [line for line in report["plan"] if line["verdict"] in SHOWN]
    if lines:
        header = ("verdict", "why", "entra_object_id", "eid", "serial_number", "operator")
        widths = [max(len(h), *(len(str(line[h])) for line in lines)) for h in header]
        for cells in [header, *([line[h] for h in header] for line in lines)]:
            row = "  ".join(
                str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)
            )
            click.echo(printable(row.rstrip()))
    applied = report["applied"]
    if applied is None:
        if counts["add"] or counts["remove"]:
            click.echo("nothing was changed: add --apply to make these changes")
    elif not applied["run_id"]:
        click.echo("nothing to change")
    else:
        done = ", ".join(f"{n} {outcome}" for outcome, n in applied["counts"].items() if n)
        click.echo(f"run {applied['run_id']}: {done or 'no change'} -> {applied['run_dir']}")


def _group_of(settings: Settings, group_id: str | None) -> str:
    group = (group_id or settings.entra.group_id).strip()
    if not group:
        raise ConfigError(
            "no group: [entra] group_id is empty and --group was not given.",
            todo="Set [entra] group_id in eidflow.toml to the static group's object id.",
        )
    return group


def _check_operator(settings: Settings, operator_name: str | None) -> None:
    known = sorted(profile.name for profile in settings.operators)
    if operator_name is not None and operator_name not in known:
        raise ConfigError(
            f"--operator {operator_name}: no operator profile of that name"
            f" (profiles: {', '.join(known)}).",
            todo="Name one of the [[operators]] of eidflow.toml.",
        )


def _check_graph(settings: Settings) -> None:
    if not settings.graph.configured:
        raise ConfigError(
            "groups sync needs Microsoft Graph: [graph] is not configured.",
            todo="Set [graph] tenant_id, client_id and a certificate or"
            " EIDFLOW_GRAPH__CLIENT_SECRET (docs/graph.md 'Connecting to Microsoft Graph').",
        )
