"""``eidflow status``: one funnel per shipment, and the PCs waiting at each step with what to do."""

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
    shipment_filters,
)
from eidflow.errors import ConfigError, printable


@click.command()
@shipment_filters
@click.option("--csv", "as_csv", is_flag=True, help="Every PC not done, one line each, as CSV.")
@click.option(
    "--xlsx",
    "xlsx_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the funnel to this workbook: a Funnel sheet with a bar chart.",
)
@ledger_option
@config_option
@json_option
def status(
    po: str,
    manifest: str,
    operator: str,
    since: str | None,
    as_csv: bool,
    xlsx_file: Path | None,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Each shipment's PCs from hand-off to eSIM: counts at each step, and who waits where."""
    from app import funnel_view
    from app.cli.options import settings_from

    settings = settings_from(config_file, ledger_url)
    connection = ask(config_file, ledger_url)
    try:
        with connection.transaction():
            shipments = funnel_view.read_shipments(
                connection,
                settings.entra.group_id,
                operator=operator,
                po=po,
                manifest=manifest,
                since=parse_since(since),
            )
    finally:
        connection.close()
    if xlsx_file is not None:
        _write_xlsx(xlsx_file, funnel_view.tables_of(shipments, _title(po, manifest, operator)))
    if as_json:
        print_json(
            {"group_id": settings.entra.group_id, "shipments": [s.as_dict() for s in shipments]}
        )
    elif as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["manifest", "eid", "serial_number", "operator", "action", "todo"])
        for shipment in shipments:
            for pc in shipment.stuck:
                writer.writerow(
                    [
                        shipment.manifest,
                        *(pc[k] for k in ("eid", "serial_number", "operator", "action", "todo")),
                    ]
                )
    else:
        _print(shipments, settings.entra.group_id)


def _title(po: str, manifest: str, operator: str) -> str:
    chosen = [
        f"{what} {value}"
        for what, value in (("PO", po), ("manifest", manifest), ("operator", operator))
        if value
    ]
    from app import funnel_view

    return funnel_view.as_of(", ".join(chosen) or "every shipment")


def _write_xlsx(path: Path, tables: Any) -> None:
    from exporters.funnel import write_funnel_workbook

    try:
        write_funnel_workbook(path, tables)
    except OSError as error:
        raise ConfigError(
            f"--xlsx {path}: cannot write the workbook ({error.strerror or error}).",
            todo="Give a path in a folder you can write to.",
        ) from None


def _print(shipments: list[Any], group_id: str) -> None:
    from rich.console import Console
    from rich.table import Table

    from eidflow.ledger import funnel

    console = Console() if sys.stdout.isatty() else Console(width=1000)
    if not shipments:
        console.print("No PC handed off by a complete run matches.")
        return
    if not group_id:
        console.print("[entra] group_id is not set: no PC counts as in the group.")
    for shipment in shipments:
        pos = f", PO {', '.join(shipment.po_numbers)}" if shipment.po_numbers else ""
        table = Table(
            title=printable(
                f"{Path(shipment.manifest).name}{pos}: {shipment.rows_read} row(s) read,"
                f" received {shipment.received_at[:16]}"
            )
        )
        table.add_column("step")
        table.add_column("PCs", justify="right")
        for step in funnel.STEPS:
            table.add_row(step, str(shipment.steps[step]))
        console.print(table)
        waiting = Table(show_header=True)
        waiting.add_column("waiting for")
        waiting.add_column("PCs", justify="right")
        waiting.add_column("what to do")
        for action, count in shipment.waiting.items():
            waiting.add_row(action, str(count), funnel.TODO[action])
        console.print(waiting)
