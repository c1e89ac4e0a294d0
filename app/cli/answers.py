"""``eidflow operator-response``: record what an operator answered about the EIDs it was handed.

The run itself is ``app.answers.record_answer_files`` (the daily flow's answers inbox runs
it too): every row's verdict in ``answer-decisions.csv``, then ``summary.json`` last.
"""

from __future__ import annotations

from pathlib import Path

import click

from app.cli.options import config_option, json_option, ledger_option, open_for_run, print_json
from eidflow.errors import printable


@click.command("operator-response")
@click.argument("files", nargs=-1, required=True)
@click.option("--operator", "operator_name", required=True, help="The operator who answered.")
@click.option(
    "--response-profile",
    default="",
    help="Read the files with this [parsers.response_profiles.NAME] (default: the operator's).",
)
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="The run folder.")
@ledger_option
@config_option
@json_option
def operator_response(
    files: tuple[str, ...],
    operator_name: str,
    response_profile: str,
    out_dir: Path | None,
    ledger_url: str | None,
    config_file: Path | None,
    as_json: bool,
) -> None:
    """Record an operator's answer FILES (CSV or XLSX): accepted with the ICCID, rejected with
    the reason; every row's verdict goes to answer-decisions.csv."""
    from app.answers import check_names, record_answer_files

    settings, ledger = open_for_run(config_file, ledger_url)
    try:
        check_names(settings, operator_name, response_profile)
        summary = record_answer_files(
            settings, ledger, files, operator_name, response_profile, out_dir,
            say_unreadable=lambda error: click.echo(f"eidflow: {error}", err=True),
        ).summary  # fmt: skip
    finally:
        ledger.close()
    if as_json:
        print_json(summary)
    else:
        _say_what_needs_a_look(summary["counts"]["by_status"], operator_name)
        by_status = summary["counts"]["by_status"]
        said = ", ".join(f"{count} {status}" for status, count in by_status.items()) or "no rows"
        click.echo(
            printable(
                f"run {summary['run_id']}: {summary['counts']['rows']} answer row(s) from"
                f" {operator_name}: {said} -> {summary['run_dir']} (see answer-decisions.csv)"
            )
        )
    raise SystemExit(summary["exit_status"])


LOOK = {
    "conflict": "conflicting answer(s): nothing overwritten, ask the operator which stands",
    "not_handed_off": "answer(s) for EIDs never delivered to {operator}: not taken",
    "invalid": "row(s) that cannot be used (EID, status or ICCID)",
}


def _say_what_needs_a_look(by_status: dict[str, int], operator: str) -> None:
    """One line on stderr per kind of row a person should look at."""
    for status, said in LOOK.items():
        if by_status.get(status):
            line = f"eidflow: {by_status[status]} {said.format(operator=operator)}"
            click.echo(printable(f"{line}; see answer-decisions.csv."), err=True)
