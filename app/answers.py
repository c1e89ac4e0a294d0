"""Record operator answer files in one run: what ``eidflow operator-response`` and the daily
flow's answers inbox both do.

Every row of every file gets a verdict in ``answer-decisions.csv`` (docs/answers.md,
"Operator answers"); the ledger records, per EID, accepted (with the ICCID) or rejected
(with the reason), from which file, sheet and row. A run folder like an ingest's:
``answer-decisions.csv``, then ``summary.json`` (``"kind": "answers"``) last. The ledger
keeps each file's sha256, so the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eidflow.errors import EXIT_INPUT_UNREADABLE, EXIT_OK, ConfigError, InputError, printable

if TYPE_CHECKING:
    import pandas as pd

    from app.runfolder import InputRecord
    from app.settings import Settings
    from eidflow.ledger import SqlLedger

RUN_KIND = "answers"


@dataclass
class AnswersRun:
    """One answers run: its folder, its summary.json and what it read of each file."""

    run_id: str
    run_dir: Path
    summary: dict[str, Any]
    inputs: list[InputRecord] = field(default_factory=list)


def check_names(settings: Settings, operator: str, profile: str = "") -> None:
    """``operator`` names an ``[[operators]]`` profile, ``profile`` a response profile."""
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


def _nothing(_: str) -> None:
    """Where a file's read error goes when nobody is told (it is in summary.json)."""


def record_answer_files(
    settings: Settings,
    ledger: SqlLedger,
    sources: tuple[str, ...],
    operator: str,
    profile: str = "",
    out_dir: Path | None = None,
    *,
    read_already: Mapping[str, bytes] | None = None,
    say_unreadable: Callable[[str], None] = _nothing,
) -> AnswersRun:
    """Judge and record the answer files ``sources`` (paths or s3 URLs; ``read_already``:
    the bytes of some, already read) as one run of ``operator``'s answers."""
    import pandas as pd

    from app.runfolder import new_run_id, prepare_run_dir, release_run_dir
    from eidflow import schema
    from eidflow.core import answers as judging
    from eidflow.ledger.answers import record_answers

    frames, inputs = _read(
        settings, sources, profile or operator, read_already or {}, say_unreadable
    )
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
    return AnswersRun(run_id, run_dir, summary | {"run_dir": str(run_dir)}, inputs)


def _read(
    settings: Settings,
    sources: tuple[str, ...],
    profile: str,
    read_already: Mapping[str, bytes],
    say_unreadable: Callable[[str], None],
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
            given = read_already.get(source)
            data = given if given is not None else load_input(source, settings)
            read = read_answers(source, data, settings.parsers, profile=profile)
        except InputError as error:
            error.file = shown_name(source) if error.file == source else error.file
            say_unreadable(str(error))
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
