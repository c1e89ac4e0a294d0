"""``eidflow intune setup``: the static group, the eSIM profile and its assignment, planned first.

A plan by default (Graph is only read); ``--apply`` makes the changes; ``--export DIR`` writes the
policy body and the plan as JSON for review. Exit codes: 0 done (or planned), 2 a mistake in the
settings or a permission missing, 3 Graph failed. The ids found or created are recorded in the
ledger (``intune_setups``) and shown, so that ``[entra] group_id`` can name the group.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.options import config_option, json_option, print_json, settings_from
from eidflow.errors import EXIT_RUN_FAILED, ConfigError, printable

if TYPE_CHECKING:
    from app.settings import Settings
    from eidflow.intune.setup import Plan, Wanted

INTUNE_PERMISSIONS = (
    "Group.Read.All, Group.Create (or Group.ReadWrite.All), "
    "DeviceManagementConfiguration.ReadWrite.All"
)
_MARK = {"create": "+", "rename": "~", "update": "~", "assign": "+"}


@click.group("intune")
def intune_group() -> None:
    """The Intune side: the static device group, the eSIM profile, its assignment."""


@intune_group.command("setup")
@click.option("--operator", "operator_name", required=True, help="The operator profile's name.")
@click.option("--apply", "apply", is_flag=True, help="Make the changes (default: only plan).")
@click.option(
    "--export",
    "export_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Write the policy body and the plan as JSON to this folder.",
)
@config_option
@json_option
def setup(
    operator_name: str,
    apply: bool,
    export_dir: Path | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Plan (or, with --apply, make) the group, eSIM policy and assignment for an operator."""
    settings = settings_from(config_file, None)
    wanted = wanted_for(settings, operator_name)  # every check before any call
    from eidflow.graph import GraphAccessDenied, GraphError, client_from_settings
    from eidflow.intune.setup import apply_plan, make_plan

    try:
        with client_from_settings(settings.graph) as client:
            plan = make_plan(client, wanted)
            if export_dir is not None:
                export(export_dir, plan)
            after = apply_plan(client, plan) if apply and plan.changes else None
    except GraphAccessDenied as error:
        if error.status != 403:  # 401: the credential or token, which the todo already names
            raise
        error.todo = (
            f"intune setup needs the application permissions {INTUNE_PERMISSIONS}; "
            "`eidflow graph check` names the missing ones (docs/graph.md 'Connecting to Microsoft Graph')."
        )
        raise
    except GraphError as error:
        if not isinstance(error, ConfigError):
            error.exit_code = EXIT_RUN_FAILED
        raise
    final = after or plan
    if apply:
        record(settings, final)
    report(settings, plan, after, apply, as_json)


def wanted_for(settings: Settings, operator_name: str) -> Wanted:
    """What the settings ask for this operator; a wrong or missing entry is one clear error."""
    from eidflow.intune.server import check_server
    from eidflow.intune.setup import Wanted

    profile = next((p for p in settings.operators if p.name == operator_name), None)
    if profile is None:
        names = ", ".join(p.name for p in settings.operators)
        raise ConfigError(
            f"no operator profile named {operator_name!r} (profiles: {names}).",
            todo="Give --operator one of them, or add an [[operators]] entry to eidflow.toml.",
        )
    server = check_server(profile.smdp_server, where=f"[[operators]] {profile.name!r} smdp_server")
    if not settings.graph.configured:
        raise ConfigError(
            "[graph] is not configured: intune setup reads and changes the tenant through "
            "Microsoft Graph.",
            todo="Set tenant_id, client_id and a certificate or secret "
            "(docs/graph.md 'Connecting to Microsoft Graph').",
        )
    intune = settings.intune
    recorded = _recorded(settings, profile.name)
    return Wanted(
        operator=profile.name,
        server=server,
        group_name=intune.group_name.format(operator=profile.name),
        policy_name=intune.policy_name.format(operator=profile.name),
        auto_enable=intune.auto_enable,
        local_ui=intune.display_local_ui,
        owner_refs=tuple(intune.owner_refs()),
        group_id=settings.entra.group_id,
        recorded_group_id=str(recorded.get("group_id") or ""),
        recorded_policy_id=str(recorded.get("policy_id") or ""),
    )


def export(folder: Path, plan: Plan) -> None:
    """``intune-<operator>-policy.json`` and ``intune-<operator>-plan.json``, for review."""
    folder.mkdir(parents=True, exist_ok=True)
    name = f"intune-{plan.wanted.operator}"
    _write_json(folder / f"{name}-policy.json", plan.policy_body())
    _write_json(folder / f"{name}-plan.json", plan.as_dict())


def record(settings: Settings, plan: Plan) -> None:
    """The ids an apply left, in the ledger: the next plan, on any host, finds the group and
    the policy by id (a group renamed in the portal is drift, not a group to create again)."""
    from eidflow.ledger import intune_setups, open_ledger

    ledger = open_ledger(settings.ledger.url)
    try:
        with ledger.write() as connection:
            intune_setups.record(
                connection,
                plan.wanted.operator,
                {
                    "server": plan.wanted.server,
                    "group_id": plan.group_id,
                    "group_name": plan.wanted.group_name,
                    "policy_id": plan.policy_id,
                    "policy_name": plan.wanted.policy_name,
                },
                ledger.now(),
            )
    finally:
        ledger.close()


def report(settings: Settings, plan: Plan, after: Plan | None, apply: bool, as_json: bool) -> None:
    final = after or plan
    if as_json:
        print_json(
            {
                **plan.as_dict(),
                "applied": apply,
                "left": [change.as_dict() for change in final.changes] if apply else None,
                "group_id": final.group_id or None,
                "policy_id": final.policy_id or None,
            }
        )
        return
    wanted = plan.wanted
    state = "apply" if apply else "plan, nothing changed"
    click.echo(f"intune setup for {wanted.operator} (server {wanted.server}): {state}")
    for change in plan.changes:  # names come from the tenant: shown as written, escaped
        click.echo(printable(f"  {_MARK[change.action]} {change.target}: {change.detail}"))
    if not plan.changes:
        click.echo("  the tenant already holds the group, the eSIM policy and its assignment")
    elif not apply:
        click.echo(f"{len(plan.changes)} change(s); run again with --apply to make them.")
    else:
        left = len(final.changes)
        click.echo(f"applied {len(plan.changes)} change(s)" + (f"; {left} left" if left else ""))
    if final.group_id:
        name = (final.group or {}).get("displayName", wanted.group_name)
        click.echo(printable(f"group {final.group_id} ({name}); policy {final.policy_id or '-'}"))
        if final.group_id != settings.entra.group_id:
            click.echo(f'name it in eidflow.toml: [entra] group_id = "{final.group_id}"')


def _recorded(settings: Settings, operator: str) -> dict[str, Any]:
    """What the last apply recorded in the ledger for ``operator``; {} before any (a SQLite
    ledger not made yet is not made by a plan)."""
    from eidflow.ledger import intune_setups, parse
    from eidflow.ledger.connect import open_database

    url = parse(settings.ledger.url)
    if url.sqlite and (url.path is None or not url.path.exists()):
        return {}
    connection = open_database(url, create=False).connection
    try:
        with connection.transaction():
            return intune_setups.recorded(connection, operator)
    finally:
        connection.close()


def _write_json(path: Path, value: Any) -> None:
    """Whole or not at all: a temporary file beside it, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        json.dump(value, stream, indent=2, ensure_ascii=False)
        stream.write("\n")
    os.replace(temporary, path)


def _add_status() -> None:
    from app.cli.intune_status import status

    intune_group.add_command(status)


_add_status()
