"""``eidflow pending``: the PCs waiting at each step, held-back rows first, with what to do."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Any

import click

from app.cli.options import (
    ask,
    config_option,
    json_option,
    ledger_option,
    parse_since,
    print_json,
    settings_from,
    shipment_filters,
)
from eidflow.errors import printable


@click.command()
@click.option(
    "--step",
    default=None,
    help="Only the PCs waiting at this step, e.g. 'not enrolled yet' (default: every step"
    " but in the group).",
)
@shipment_filters
@click.option("--csv", "as_csv", is_flag=True, help="One line per PC waiting, as CSV.")
@ledger_option
@config_option
@json_option
def pending(
    step: str | None,
    po: str,
    manifest: str,
    operator: str,
    since: str | None,
    as_csv: bool,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """The PCs waiting at each step, from rows held back to the group, and what to do."""
    # the steps are the funnel's (pandas): checked here, not by click, so --help stays light
    from eidflow.ledger.pending import KEYS, STEPS, waiting

    if step is not None and step not in STEPS:
        choices = ", ".join(repr(name) for name in STEPS)
        raise click.BadParameter(f"{step!r} is no step; the steps: {choices}.", param_hint="--step")
    settings = settings_from(config_file, ledger_url)
    connection = ask(config_file, ledger_url)
    try:
        with connection.transaction():
            steps = waiting(
                connection,
                settings.entra.group_id,
                step=step or "",
                operator=operator,
                po=po,
                manifest=manifest,
                since=parse_since(since),
            )
    finally:
        connection.close()
    if as_json:
        print_json({"group_id": settings.entra.group_id, "steps": steps})
    elif not steps:
        click.echo(f"No PC waits {f'at {step!r}' if step else 'at any step'} that matches.")
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["step", *KEYS])
        for found in steps:
            for pc in found["pcs"]:
                writer.writerow([found["step"], *(pc[key] for key in KEYS)])
    else:
        _print(steps)


def _print(steps: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console() if sys.stdout.isatty() else Console(width=1000)
    for found in steps:
        table = Table(
            title=printable(f"{found['step']}: {len(found['pcs'])} PC(s); {found['todo']}")
        )
        for key in ("manifest", "eid", "serial_number", "operator", "where", "todo"):
            table.add_column(key.replace("_", " "), overflow="fold")
        for pc in found["pcs"]:
            table.add_row(
                printable(Path(pc["manifest"]).name),
                *(printable(pc[key]) for key in ("eid", "serial_number", "operator", "where")),
                printable(pc["todo"]),
            )
        console.print(table)
