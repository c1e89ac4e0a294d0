"""``eidflow graph check``: the Graph permissions each command needs, and whether the app has them.

Nothing is changed: the token's ``roles`` claim is read (never shown) and one read-only call is
made per readable permission. Exit codes: 0 every permission there (or not tellable), 2 one missing
or the settings wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from app.cli.options import config_option, json_option, print_json, settings_from
from eidflow.errors import ConfigError

if TYPE_CHECKING:
    from eidflow.graph.permissions import CommandCheck, Permission


class PermissionsMissing(ConfigError):
    """The app lacks application permissions some commands need."""


@click.group("graph")
def graph_group() -> None:
    """Microsoft Graph: what eidflow's app registration may do."""


@graph_group.command("check")
@config_option
@json_option
def check(config_file: Path | None, as_json: bool) -> None:
    """For each command, the permissions it needs and whether the app has them."""
    from eidflow.graph import client_from_settings, msal_token_provider, static_token
    from eidflow.graph.permissions import (
        README_STEP,
        check_commands,
        check_permissions,
        token_roles,
    )

    settings = settings_from(config_file, None)
    graph = settings.graph
    if not graph.configured:
        raise ConfigError(
            "[graph] is not configured: there is no app to check.",
            todo="Set tenant_id, client_id and a certificate or secret "
            "(docs/graph.md 'Connecting to Microsoft Graph').",
        )
    token = (
        static_token(graph.access_token.get_secret_value())
        if graph.access_token is not None
        else msal_token_provider(graph)
    )
    roles = token_roles(token())
    with client_from_settings(graph, token=token) as client:
        permissions = check_permissions(client, roles, settings.entra.group_id)
    commands = check_commands(permissions)
    missing = [p.name for p in permissions if p.status == "missing"]
    if as_json:
        print_json(
            {
                "client_id": graph.client_id or None,
                "token_lists_roles": roles is not None,
                "permissions": [p.as_dict() for p in permissions],
                "commands": [c.as_dict() for c in commands],
                "missing": missing,
                "grant_them": README_STEP if missing else None,
            }
        )
    else:
        _print(permissions, commands, roles is not None)
    if missing:
        raise PermissionsMissing(
            f"the app lacks {len(missing)} Graph permission(s): {', '.join(missing)}.",
            todo=f"Grant them as application permissions with admin consent: {README_STEP}.",
        )


def _print(
    permissions: list[Permission], commands: list[CommandCheck], token_lists_roles: bool
) -> None:
    width = max(len(p.name) for p in permissions)
    click.echo("permissions (application):")
    for permission in permissions:
        click.echo(f"  {permission.name:<{width}}  {permission.status:<7}  {permission.how}")
    if not token_lists_roles:
        click.echo(
            "  (the token lists no roles: write permissions cannot be told without a change)"
        )
    click.echo("commands:")
    width = max(len(c.command) for c in commands)
    for command in commands:
        if command.missing:
            state = f"missing {', '.join(command.missing)}"
        elif command.unknown:
            state = f"cannot tell {', '.join(command.unknown)}"
        else:
            state = "ok"
        click.echo(f"  {command.command:<{width}}  {state}")
