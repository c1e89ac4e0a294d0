"""``eidflow history``, ``show`` and ``resend``: asking the ledger, and re-sending on purpose.

Each prints a table for people, or JSON with ``--json``. The lead's ``eidflow/cli.py``
registers them on the main group.
"""

from __future__ import annotations

import functools
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eidflow import __version__
from eidflow.errors import EXIT_INPUT_UNREADABLE, ConfigError
from eidflow.identifiers import InvalidChecksum, ValidationError
from eidflow.identifiers import eid as eid_rules
from eidflow.ledger import LedgerUrl, parse, queries

# Imported where used: --help, history and show start without pandas (or the settings'
# libraries, for --help).
if TYPE_CHECKING:
    import pandas as pd
    from rich.console import Console

    from eidflow.ledger import SqlLedger
    from eidflow.ledger import resend as resending
    from eidflow.ledger.db import Connection
    from eidflow.pipeline import RunInProgress
    from eidflow.settings import Settings
    from exporters.config import OperatorProfile

ledger_option = click.option(
    "--ledger", "ledger_url", help="sqlite:///path or postgresql://… (default: from eidflow.toml)."
)
config_option = click.option(
    "--config", "config_file", type=click.Path(path_type=Path), help="eidflow.toml."
)
json_option = click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")


def _settings(config_file: Path | None, ledger_url: str | None) -> Settings:
    from eidflow.settings import load_settings

    overrides: dict[str, Any] = {"ledger": {"url": ledger_url}} if ledger_url else {}
    return load_settings(config_file, **overrides)


def _open(config_file: Path | None, ledger_url: str | None) -> tuple[Settings, SqlLedger]:
    """Settings and the ledger, for a command that begins a run: that settles dead runs,
    so the ledger asks where a dead run delivered whether it handed its files off."""
    from eidflow.ledger import open_ledger
    from eidflow.pipeline import reached_target

    settings = _settings(config_file, ledger_url)
    target = reached_target(settings)
    return settings, open_ledger(settings.ledger.url, target=target, create=False)


def _ask(config_file: Path | None, ledger_url: str | None) -> Connection:
    """A connection to the ledger, for a question (nothing is written, nothing created)."""
    from eidflow.ledger.connect import open_database

    settings = _settings(config_file, ledger_url)
    return open_database(parse(settings.ledger.url), create=False).connection


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, default=str))


@click.command()
@ledger_option
@config_option
@json_option
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many runs, newest first.",
)
def history(ledger_url: str | None, config_file: Path | None, as_json: bool, limit: int) -> None:
    """Runs, the manifests they received and their hand-offs, newest first."""
    from rich.console import Console
    from rich.table import Table

    connection = _ask(config_file, ledger_url)
    try:
        with connection.transaction():
            runs = queries.history(connection, limit)
    finally:
        connection.close()
    if as_json:
        _print_json({"runs": runs})
        return
    table = Table(title="eidflow runs (newest first)")
    for header in ("run", "started (UTC)", "kind", "state", "manifests", "rows", "hand-offs"):
        table.add_column(header, overflow="fold")
    for run in runs:
        manifests = "\n".join(
            f"{Path(item['name']).name} ({item['rows']} rows, sha256 {item['sha256'][:12]})"
            for item in run["manifests"]
        )
        handoffs = "\n".join(
            f"{operator}: " + ", ".join(f"{count} {state}" for state, count in states.items())
            for operator, states in run["handoffs"].items()
        )
        rows = run["counts"].get("rows", "")
        table.add_row(
            run["run_id"],
            run["started_at"][:19],
            run["kind"],
            run["state"],
            manifests or "-",
            str(rows),
            handoffs or "-",
        )
    Console().print(table)


@click.command()
@click.argument("key")
@ledger_option
@config_option
@json_option
def show(key: str, ledger_url: str | None, config_file: Path | None, as_json: bool) -> None:
    """Where an EID or serial number came from, to whom it went, its Intune state and groups."""
    connection = _ask(config_file, ledger_url)
    try:
        with connection.transaction():
            stories = [
                queries.device_story(connection, eid) for eid in queries.find_eids(connection, key)
            ]
    finally:
        connection.close()
    if as_json:
        _print_json({"key": key, "devices": stories})
    elif stories:
        from rich.console import Console

        console = Console()
        for story in stories:
            _print_story(console, story)
    if not stories:
        click.echo(
            f"eidflow: {key!r} is not in the ledger (no such EID or serial number).", err=True
        )
        sys.exit(EXIT_INPUT_UNREADABLE)


def _print_story(console: Console, story: dict[str, Any]) -> None:
    from rich.table import Table

    device = story["device"]
    facts = Table(title=f"EID {device['eid']}", show_header=False)
    facts.add_column("field", style="bold")
    facts.add_column("value")
    for label, value in (
        ("serial number", device.get("serial_number", "")),
        ("IMEI", device.get("imei", "")),
        ("model", " ".join(filter(None, (device.get("manufacturer"), device.get("model"))))),
        ("first seen", f"{device.get('source_file', '')} row {device.get('row', '')}"),
        ("first run", f"{device.get('first_run', '')} at {device.get('first_seen_at', '')}"),
        ("manifest sha256", device.get("manifest_sha256") or ""),
        ("Intune state", f"{device.get('intune_state', '')} {device.get('entra_object_id', '')}"),
    ):
        facts.add_row(label, str(value))
    console.print(facts)
    _print_lines(
        console,
        "hand-offs",
        [_handoff_line(line) for line in story["handoffs"]],
        ("operator", "state", "run", "when", "file", "re-send"),
    )
    _print_lines(
        console,
        "Intune state history",
        story["intune_states"],
        ("recorded_at", "intune_state", "entra_object_id", "run_id"),
    )
    _print_lines(
        console, "group memberships", story["groups"], ("group_id", "entra_object_id", "added_at")
    )


def _handoff_line(line: dict[str, Any]) -> dict[str, str]:
    when = f"staged {line['staged_at']}"
    if line["delivered_at"]:
        when += f"\ndelivered {line['delivered_at']}"
    if line["released_at"]:
        when += f"\nreleased {line['released_at']}"
    again = f"{line['resend_reason']} ({line['requested_by']})" if line["resend_reason"] else ""
    return {
        "operator": line["operator"],
        "state": line["state"],
        "run": line["run_id"],
        "when": when,
        "file": "\n".join(Path(path).name for path in line["file"].split("; ") if path),
        "re-send": again,
    }


def _print_lines(
    console: Console, title: str, lines: list[dict[str, Any]], keys: tuple[str, ...]
) -> None:
    if not lines:
        console.print(f"{title}: none")
        return
    from rich.table import Table

    table = Table(title=title)
    for key in keys:
        table.add_column(key.replace("_", " "), overflow="fold")
    for line in lines:
        table.add_row(*(str(line.get(key) or "") for key in keys))
    console.print(table)


@click.command()
@click.argument("keys", nargs=-1, required=True)
@click.option(
    "--operator", "operator_name", required=True, help="The operator profile to re-send to."
)
@click.option("--reason", default="", help="Why (recorded in the ledger). Required.")
@click.option("--by", "requested_by", default="", help="Who asks (default: the login name).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="The run folder.")
@ledger_option
@config_option
@json_option
def resend(
    keys: tuple[str, ...],
    operator_name: str,
    reason: str,
    requested_by: str,
    out_dir: Path | None,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Hand EIDs (or serial numbers) to an operator again, on purpose, with a reason."""
    if not reason.strip():
        raise click.UsageError("a re-send needs --reason TEXT; it is recorded in the ledger.")
    settings, ledger = _open(config_file, ledger_url)
    try:
        summary = _resend(
            settings,
            ledger,
            keys,
            operator_name,
            reason.strip(),
            requested_by or getpass.getuser(),
            out_dir,
        )
    finally:
        ledger.close()
    if as_json:
        _print_json(summary)
    else:
        click.echo(
            f"run {summary['run_id']}: re-sent {summary['counts']['rows']} EID(s) to "
            f"{operator_name} -> {summary['run_dir']}"
        )


def _resend(
    settings: Settings,
    ledger: SqlLedger,
    keys: tuple[str, ...],
    operator_name: str,
    reason: str,
    requested_by: str,
    out_dir: Path | None,
) -> dict[str, Any]:
    """Write the re-send run and deliver it like an ingest's hand-off: the re-send lines
    are staged first, delivered once the receipt and summary.json are written, released
    if the delivery fails; a re-send killed midway is settled like any dead run."""
    from eidflow.ledger import resend as resending
    from eidflow.pipeline import RunInProgress
    from eidflow.runfolder import new_run_id, prepare_run_dir
    from exporters.delivery import destination_of

    profiles = {profile.name: profile for profile in settings.operators}
    if operator_name not in profiles:
        raise ConfigError(
            f"no operator profile {operator_name!r}.",
            todo=f"Choose one of: {', '.join(sorted(profiles))} ([[operators]] in eidflow.toml).",
        )
    with ledger.read() as connection:
        eids = _resolve(connection, keys)
        handoff = resending.handoff_frame(connection, eids, operator_name)
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    run_dir = prepare_run_dir(out_dir, settings.output.runs_dir, run_id)
    destination = destination_of(settings.delivery, run_dir, run_id)
    ledger.begin_run(run_id, str(run_dir.resolve()), kind="resend", destination=destination)
    run = RunInProgress(ledger, run_id, run_dir, destination, started_at)
    request = resending.Request(operator_name, reason, requested_by)
    try:
        resending.claim_resend(ledger, run_id, request, handoff)
        summary, handed = _write_and_deliver(
            settings, handoff, profiles[operator_name], request, run
        )
    except Exception as error:  # released, unless its file reached S3 or the outbox
        run.fail(settings, error)
        raise
    ledger.mark_delivered(run_id, operator_name, handed)
    ledger.finish_run(run_id)
    return summary | {"run_dir": str(run_dir)}


def _write_and_deliver(
    settings: Settings,
    handoff: pd.DataFrame,
    profile: OperatorProfile,
    request: resending.Request,
    run: RunInProgress,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The operator files, delivered (``receipt.json``), then ``summary.json`` last.

    Returns the summary and the operator files handed off."""
    from eidflow.errors import DeliveryError
    from eidflow.runfolder import write_summary
    from exporters import delivery
    from exporters.operator import write_operator_files

    run_dir, run_id, started_at = run.run_dir, run.run_id, run.started_at
    outputs = write_operator_files(handoff, profile, run_dir, run_id)
    handed = [output.as_dict() for output in outputs]
    counts = {"rows": len(handoff), "by_operator": {request.operator: len(handoff)}}
    run.ledger.start_delivery(run_id, counts)
    run.delivering = True
    try:
        still_live = functools.partial(run.ledger.confirm_live, run_id)
        outputs += delivery.deliver(run_dir, outputs, run_id, settings.delivery, still_live)
    except DeliveryError as error:
        raise DeliveryError(
            error.what,
            todo="No receipt was written: this re-send is void and the ledger records it as"
            " not delivered. Fix the cause (network, credentials, bucket policy), then run"
            " the same eidflow resend again.",
        ) from None
    summary: dict[str, Any] = {
        "run_id": run_id,
        "kind": "resend",
        "eidflow_version": __version__,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "exit_status": 0,
        "resend": {
            "operator": request.operator,
            "reason": request.reason,
            "requested_by": request.requested_by,
        },
        "inputs": [],
        "counts": counts,
        "outputs": [output.as_dict() for output in outputs],
    }
    run.ledger.confirm_live(run_id)
    write_summary(run_dir, summary)
    return summary, handed


def _resolve(connection: Any, keys: tuple[str, ...]) -> list[str]:
    eids: list[str] = []
    for key in keys:
        _refuse_mistyped_eid(key)
        found = queries.find_eids(connection, key)
        if not found:
            raise ConfigError(
                f"{key!r} is not in the ledger.", todo="Check the EID or serial number."
            )
        eids += [eid for eid in found if eid not in eids]
    return eids


def _refuse_mistyped_eid(key: str) -> None:
    """32 digits are taken for an EID (``queries.find_eids``): say so when they cannot be one."""
    number = eid_rules.compact(key)
    if len(number) != eid_rules.LENGTH or not number.isdigit():
        return
    try:
        eid_rules.validate(key)
    except InvalidChecksum:
        raise ConfigError(
            f"{key!r} looks like an EID, but its check digits ({number[-2:]}) do not match"
            " its other 30 digits: a digit is mistyped.",
            todo="Copy the EID again from the manifest or the hand-off file.",
        ) from None
    except ValidationError as error:
        raise ConfigError(
            f"{key!r} looks like an EID, but is not one: {error}.",
            todo="Copy the EID again from the manifest or the hand-off file.",
        ) from None


@click.group("ledger")
def ledger_group() -> None:
    """Back the ledger up, or restore it from a backup (SQLite; PostgreSQL: pg_dump)."""


def _ledger_url(config_file: Path | None, ledger_url: str | None) -> LedgerUrl:
    return parse(_settings(config_file, ledger_url).ledger.url)


@ledger_group.command("backup")
@click.argument("file", type=click.Path(path_type=Path))
@ledger_option
@config_option
def backup_command(file: Path, ledger_url: str | None, config_file: Path | None) -> None:
    """Copy the ledger to FILE (a new file), while runs may go on; the copy is checked."""
    from eidflow.ledger import backup

    url = _ledger_url(config_file, ledger_url)
    written = backup.backup(url, file)
    click.echo(f"ledger {url.where} backed up to {written} ({written.stat().st_size:,} bytes)")


@ledger_group.command("restore")
@click.argument("file", type=click.Path(path_type=Path))
@ledger_option
@config_option
def restore_command(file: Path, ledger_url: str | None, config_file: Path | None) -> None:
    """Replace the ledger with the backup FILE (the replaced ledger is kept beside it)."""
    from eidflow.ledger import backup

    url = _ledger_url(config_file, ledger_url)
    kept = backup.restore(url, file)
    click.echo(
        f"ledger {url.where} restored from {file}"
        + (f"; the ledger it replaced is kept as {kept}" if kept else "")
        + ". Runs made after this backup are unknown to it now: the next ingest refuses an"
        " output root holding them until you point it at the right ledger."
    )
