"""What the ledger commands share: their options, and how they reach settings and ledger.

Heavy libraries are imported where used: ``--help``, ``history`` and ``show`` start
without pandas (and ``--help`` without the settings' libraries).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from eidflow.ledger import parse

if TYPE_CHECKING:
    from app.settings import Settings
    from eidflow.ledger import SqlLedger
    from eidflow.ledger.db import Connection

ledger_option = click.option(
    "--ledger", "ledger_url", help="sqlite:///path or postgresql://… (default: from eidflow.toml)."
)
config_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="eidflow.toml."
)
json_option = click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
Command = TypeVar("Command", bound=Callable[..., Any])


def shipment_filters(command: Command) -> Command:
    """``--po``, ``--manifest``, ``--operator``, ``--since``: which PCs ``status`` and
    ``pending`` tell about."""
    for option in reversed(
        (
            click.option("--po", default="", help="Only the PCs of this purchase order number."),
            click.option(
                "--manifest",
                default="",
                help="Only this manifest (its name, or its sha256's start).",
            ),
            click.option("--operator", default="", help="Only the PCs handed to this operator."),
            click.option(
                "--since", default=None, help="Only manifests received since this date (UTC)."
            ),
        )
    ):
        command = option(command)
    return command


def parse_since(value: str | None) -> datetime | None:
    """``--since`` as a moment (UTC unless it says otherwise); None when not given."""
    from eidflow.errors import ConfigError

    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--since {value!r} is not a date.",
            todo="Write it as 2026-12-01 (or 2026-12-01T08:00).",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def settings_from(config_file: Path | None, ledger_url: str | None) -> Settings:
    from app.settings import load_settings

    overrides: dict[str, Any] = {"ledger": {"url": ledger_url}} if ledger_url else {}
    return load_settings(config_file, **overrides)


def open_for_run(config_file: Path | None, ledger_url: str | None) -> tuple[Settings, SqlLedger]:
    """Settings and the ledger, for a command that begins a run: that settles dead runs,
    so the ledger asks where a dead run delivered whether it handed its files off."""
    from app.pipeline import reached_target
    from eidflow.ledger import open_ledger

    settings = settings_from(config_file, ledger_url)
    target = reached_target(settings)
    return settings, open_ledger(settings.ledger.url, target=target, create=False)


def ask(config_file: Path | None, ledger_url: str | None) -> Connection:
    """A connection to the ledger, for a question (nothing is written, nothing created)."""
    from eidflow.ledger.connect import open_database

    settings = settings_from(config_file, ledger_url)
    return open_database(parse(settings.ledger.url), create=False).connection


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def mistyped_eid(key: str) -> str:
    """Why ``key``, 32 digits as an EID is typed, cannot be one ("" when it can, or is no EID)."""
    from eidflow.identifiers import InvalidChecksum, ValidationError
    from eidflow.identifiers import eid as eid_rules

    number = eid_rules.compact(key)
    if len(number) != eid_rules.LENGTH or not number.isdigit():
        return ""
    try:
        eid_rules.validate(key)
    except InvalidChecksum:
        return (
            f"{key!r} looks like an EID, but its check digits ({number[-2:]}) do not match"
            " its other 30 digits: a digit is mistyped."
        )
    except ValidationError as error:
        return f"{key!r} looks like an EID, but is not one: {error}."
    return ""
