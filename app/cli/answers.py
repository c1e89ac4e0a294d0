"""``eidflow operator-response``: record what an operator answered about the EIDs it was handed.

Every row of every answer file gets a verdict in ``answer-decisions.csv`` (docs/answers.md,
"Operator answers"); the ledger records, per EID, accepted (with the ICCID) or rejected
(with the reason), from which file, sheet and row. A run folder like an ingest's:
``answer-decisions.csv``, then ``summary.json`` (``"kind": "answers"``) last.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from app.cli.options import config_option, json_option, ledger_option, open_for_run, print_json
from eidflow.errors import EXIT_INPUT_UNREADABLE, EXIT_OK, ConfigError, InputError, printable

if TYPE_CHECKING:
    import pandas as pd

    from app.runfolder import InputRecord
    from app.settings import Settings
    from eidflow.ledger import SqlLedger

RUN_KIND = "answers"


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
    settings, ledger = open_for_run(config_file, ledger_url)
    try:
        _check_names(settings, operator_name, response_profile)
        summary = _run(settings, ledger, files, operator_name, response_profile, out_dir)
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


def _check_names(settings: Settings, operator: str, profile: str) -> None:
    names = sorted(item.name for item in settings.operators)
    if operator not in names:
        raise ConfigError(
            f"no operator profile {operator!r}.",
            todo=f"Choose one of: {', '.join(names)} ([[operators]] in eidflow.toml).",
        )
    defined = settings.parsers.response_profiles
    if profile and profile not in defined:
        raise ConfigError(
            f"no response profile {profile!r} (defined: {', '.join(sorted(defined)) or 'none'}).",
            todo=f"Add [parsers.response_profiles.{profile}] to eidflow.toml or fix the name.",
        )


def _read(
    settings: Settings, sources: tuple[str, ...], profile: str
) -> tuple[list[pd.DataFrame], list[InputRecord]]:
    """The judged rows of each readable file, and what summary.json says of every file."""
    from app.pipeline import load_input, shown_name
    from app.runfolder import InputRecord
    from eidflow.core import answers as judging
    from parsers.answers import read_answers

    frames: list[pd.DataFrame] = []
    inputs: list[InputRecord] = []
    for source in sources:
        try:
            read = read_answers(
                source, load_input(source, settings), settings.parsers, profile=profile
            )
        except InputError as error:
            error.file = shown_name(source) if error.file == source else error.file
            click.echo(f"eidflow: {error}", err=True)
            inputs.append(InputRecord(source, kind="answers", error=str(error)))
            continue
        chosen = read.profile
        words = judging.vocabulary(
            chosen.accepted if chosen else (),
            chosen.rejected if chosen else (),
            chosen.pending if chosen else (),
        )
        frames.append(judging.judge_rows(read.rows, words))
        inputs.append(
            InputRecord(
                source,
                "answers",
                read.sha256,
                len(read.rows),
                sheets=read.sheets,
                format=read.format,
                skipped=read.skipped,
            )
        )
    return frames, inputs


def _run(
    settings: Settings,
    ledger: SqlLedger,
    sources: tuple[str, ...],
    operator: str,
    profile: str,
    out_dir: Path | None,
) -> dict[str, Any]:
    import pandas as pd

    from app.runfolder import new_run_id, prepare_run_dir, release_run_dir
    from eidflow import schema
    from eidflow.core import answers as judging
    from eidflow.ledger.answers import record_answers

    frames, inputs = _read(settings, sources, profile or operator)
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    run_dir = prepare_run_dir(out_dir, settings.output.runs_dir, run_id)
    try:
        ledger.begin_run(run_id, str(run_dir.resolve()), kind=RUN_KIND)
    except BaseException:
        release_run_dir(run_dir)
        raise
    try:
        rows = pd.concat(frames, ignore_index=True) if frames else judging.no_rows()
        rows = judging.judge_in_run(rows)
        files = [
            {"name": item.path, "sha256": item.sha256, "rows": item.rows}
            for item in inputs
            if not item.error
        ]
        decided = record_answers(ledger, run_id, operator, rows, files)
        decided[schema.DETAIL] = judging.details(decided)
        decided[schema.OPERATOR] = operator
        summary = _finish(ledger, run_id, run_dir, started_at, inputs, decided, operator)
    except BaseException as error:
        ledger.abort_run(run_id, printable(str(error) or type(error).__name__))
        release_run_dir(run_dir)
        raise
    return summary | {"run_dir": str(run_dir)}


def _finish(
    ledger: SqlLedger,
    run_id: str,
    run_dir: Path,
    started_at: datetime,
    inputs: list[InputRecord],
    decided: pd.DataFrame,
    operator: str,
) -> dict[str, Any]:
    """answer-decisions.csv, then summary.json last; then the run is complete."""
    from app.runfolder import write_summary
    from eidflow import __version__
    from eidflow.core import answers as judging
    from exporters.answers import write_answer_decisions

    output = write_answer_decisions(decided, run_dir)
    counts = judging.counts(decided)
    unreadable = [item.path for item in inputs if item.error]
    exit_status = EXIT_INPUT_UNREADABLE if unreadable else EXIT_OK
    ledger.start_delivery(run_id, counts)  # from now on, a dead run is settled by summary.json
    summary: dict[str, Any] = {
        "run_id": run_id,
        "kind": RUN_KIND,
        "eidflow_version": __version__,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "exit_status": exit_status,
        "operator": operator,
        "inputs": [_described(item) for item in inputs],
        "unreadable": unreadable,
        "counts": counts,
        "outputs": [output.as_dict()],
    }
    ledger.confirm_live(run_id)
    write_summary(run_dir, summary)
    ledger.finish_run(run_id, counts=counts)
    return summary


def _described(item: InputRecord) -> dict[str, Any]:
    """An answer file as summary.json lists it: as a manifest is, with its sheets and skips."""
    described = item.as_dict()
    if not item.error:
        described |= {"format": item.format, "sheets": item.sheets, "skipped": item.skipped}
    return described
