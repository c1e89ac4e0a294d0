"""``eidflow history`` and ``eidflow show``: asking the ledger, as tables or ``--json``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.options import (
    ask,
    config_option,
    json_option,
    ledger_option,
    mistyped_eid,
    print_json,
)
from eidflow.errors import EXIT_INPUT_UNREADABLE, EXIT_USAGE, printable
from eidflow.ledger import outcome_queries, queries

if TYPE_CHECKING:
    from rich.console import Console


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
    from rich.table import Table

    connection = ask(config_file, ledger_url)
    try:
        with connection.transaction():
            runs = queries.history(connection, limit)
    finally:
        connection.close()
    if as_json:
        print_json({"runs": runs})
        return
    table = Table(title="eidflow runs (newest first)")
    for header in ("run", "started (UTC)", "kind", "state", "manifests", "rows", "hand-offs"):
        table.add_column(header, overflow="fold")
    for run in runs:
        manifests = "\n".join(
            f"{Path(item['name']).name} ({item['rows']} rows, sha256 {item['sha256'][:12]})"
            for item in run["manifests"] + run.get("answer_files", [])
        )
        handoffs = "\n".join(
            [
                f"{operator}: " + ", ".join(f"{count} {state}" for state, count in states.items())
                for operator, states in run["handoffs"].items()
            ]
            + [
                f"{operator} answered: " + ", ".join(f"{n} {answer}" for answer, n in got.items())
                for operator, got in run.get("answers", {}).items()
            ]
            + ([run["correction"]] if run.get("correction") else [])
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
    _console().print(table)


@click.command()
@click.argument("key")
@ledger_option
@config_option
@json_option
def show(key: str, ledger_url: str | None, config_file: Path | None, as_json: bool) -> None:
    """Where an EID, serial number or IMEI came from, to whom it went, its Intune state and
    groups; and the rows eidflow read and did not hand off (rejected, duplicate, conflict)."""
    connection = ask(config_file, ledger_url)
    try:
        with connection.transaction():
            stories = [
                queries.device_story(connection, eid) for eid in queries.find_eids(connection, key)
            ]
            rows = outcome_queries.rows_for(connection, key)
    finally:
        connection.close()
    if as_json:
        print_json({"key": key, "devices": stories, "rows": rows})
    elif stories or rows:
        console = _console()
        for kind, found in _newest_first(stories, rows):
            if kind == "row":
                _print_row(console, found)
            else:
                _print_story(console, found)
    if not stories and not rows:
        mistake = mistyped_eid(key)
        if mistake:  # the ledger holds only valid EIDs: the one typed cannot be there
            click.echo(printable(f"eidflow: {mistake} Copy it again from the manifest."), err=True)
            sys.exit(EXIT_USAGE)
        click.echo(
            f"eidflow: {key!r} is not in the ledger (no such EID, serial number or IMEI).",
            err=True,
        )
        sys.exit(EXIT_INPUT_UNREADABLE)


def _newest_first(
    stories: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any]]]:
    """Devices (by their latest hand-off) and rows not handed off (by their run), newest first."""

    def latest(story: dict[str, Any]) -> str:
        times = [line["staged_at"] for line in story["handoffs"] if line.get("staged_at")]
        return max(times, default=str(story["device"].get("first_seen_at") or ""))

    found = [(latest(story), "device", story) for story in stories]
    found += [(row["started_at"], "row", row) for row in rows]
    found.sort(key=lambda item: item[0], reverse=True)
    return [(kind, item) for _, kind, item in found]


def _print_row(console: Console, row: dict[str, Any]) -> None:
    """A row read and not handed off: what was read, where, by which run, why, what to do."""
    from rich.table import Table

    facts = Table(title=printable(f"Not handed off: {row['status']} ({row['reason']})"))
    facts.add_column("field", style="bold")
    facts.add_column("value", overflow="fold")
    sheet = f" sheet {row['sheet']}" if row["sheet"] else ""
    again = (
        f" (first read by {row['first_run_id']})" if row["first_run_id"] != row["run_id"] else ""
    )
    for label, value in (
        ("EID as written", row["eid_raw"]),
        ("EID", row["eid"]),
        ("serial number", row["serial_number"]),
        ("IMEI", row["imei"]),
        ("read from", f"{Path(row['source_file']).name}{sheet} row {row['row']}"),
        ("manifest sha256", row["file_sha256"]),
        ("run", f"{row['run_id']} ({row['run_state']}) at {row['started_at']}{again}"),
        ("why", row["detail"]),
        ("what to do", row["todo"]),
    ):
        facts.add_row(label, printable(str(value)))
    console.print(facts)


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
        *_answer_facts(story.get("answers", [])),
        *_retired_fact(story.get("corrections", [])),
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
        "voids and retirements",
        story.get("corrections", []),
        ("recorded_at", "action", "reason", "requested_by", "run_id", "voided_run", "withdrawal"),
    )
    _print_lines(
        console,
        "operator answers",
        [_answer_line(line) for line in story.get("answers", [])],
        ("operator", "answer", "said", "ICCID", "from", "recorded"),
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
    _print_lines(
        console,
        "group changes (eidflow groups sync)",
        story.get("group_changes", []),
        ("changed_at", "group_id", "action", "outcome", "http_status"),
    )


def _handoff_line(line: dict[str, Any]) -> dict[str, str]:
    when = f"staged {line['staged_at']}"
    if line["delivered_at"]:
        when += f"\ndelivered {line['delivered_at']}"
    if line["released_at"]:  # given back: by its run's failure, or voided or retired
        gone = line["state"] if line["state"] in ("voided", "retired") else "released"
        when += f"\n{gone} {line['released_at']}"
    again = f"{line['resend_reason']} ({line['requested_by']})" if line["resend_reason"] else ""
    return {
        "operator": line["operator"],
        "state": line["state"],
        "run": line["run_id"],
        "when": when,
        "file": "\n".join(Path(path).name for path in line["file"].split("; ") if path),
        "re-send": again,
    }


def _retired_fact(corrections: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Retired now: since when and why (the latest retirement line is not an undo)."""
    lines = [line for line in corrections if line["action"] in ("retire", "undo")]
    if not lines or lines[-1]["action"] != "retire":
        return []
    line = lines[-1]
    return [("RETIRED", f"since {line['recorded_at']} ({line['reason']}, run {line['run_id']})")]


def _answer_facts(answers: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The answer in force from each operator (the latest not superseded by a re-send)."""
    latest: dict[str, dict[str, Any]] = {}
    for line in answers:
        latest[line["operator"]] = line
    return [
        (
            f"answer of {operator}",
            f"{line['answer']}"
            + (f" ICCID {line['iccid']}" if line["iccid"] else "")
            + (f": {line['reason']}" if line["reason"] else "")
            + (f" (re-sent since, in {line['superseded_by']})" if line["superseded_by"] else ""),
        )
        for operator, line in latest.items()
    ]


def _answer_line(line: dict[str, Any]) -> dict[str, str]:
    said = " ".join(filter(None, (line["operator_status"], line["reason"])))
    where = f"{Path(line['source_file']).name}"
    where += f" sheet {line['sheet']}" if line["sheet"] else ""
    return {
        "operator": line["operator"],
        "answer": line["answer"] + (" (superseded)" if line["superseded_by"] else ""),
        "said": said,
        "ICCID": line["iccid"],
        "from": f"{where} row {line['row']}",
        "recorded": f"{line['recorded_at']} {line['run_id']}",
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


def _console() -> Console:
    """A terminal's own width; piped or under cron, no width at all to squeeze into (rich
    would take 80 columns and fold run ids and paths)."""
    import sys

    from rich.console import Console

    return Console() if sys.stdout.isatty() else Console(width=1000)
