"""The run folder: its id, its place, and ``summary.json``, the run's commit point.

``summary.json`` is written last and atomically; a folder without it is an
incomplete run whose hand-off files are void (``docs/run-folder.md``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from eidflow import __version__, schema
from eidflow.errors import ConfigError
from exporters.files import OutputFile, write_bytes_atomic

SUMMARY_FILE = "summary.json"
RUN_MARKER = ".eidflow-run"  # in the run folder while a run is writing it


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id: UTC time plus a random suffix."""
    moment = now or datetime.now(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def prepare_run_dir(out: Path | None, runs_dir: Path, run_id: str) -> Path:
    """Create the run folder and hold it (``RUN_MARKER``); refuse one that already holds
    files, or that another run holds: two runs given the same ``--out`` at once would
    each write half a folder. ``write_summary`` (or ``release_run_dir``) lets it go.
    """
    run_dir = out if out is not None else runs_dir / run_id
    todo = "Give --out a new or empty folder; each run writes its own."
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: the run folder is a file.", todo=todo)
    if run_dir.exists() and any(run_dir.iterdir()):
        raise ConfigError(f"{run_dir}: the run folder is not empty.", todo=todo)
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        # O_EXCL: of two runs that both found the folder empty, exactly one gets it.
        handle = os.open(run_dir / RUN_MARKER, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        raise ConfigError(
            f"{run_dir}: another run has just started writing this run folder.", todo=todo
        ) from None
    except OSError as error:  # a parent is a file, no permission, a read-only disk
        raise ConfigError(
            f"{run_dir}: cannot create the run folder ({error.strerror}).", todo=todo
        ) from error
    os.write(handle, f"{run_id} {os.getpid()}\n".encode())
    os.close(handle)
    return run_dir


def release_run_dir(run_dir: Path) -> None:
    """Let the run folder go (its ``RUN_MARKER``): the run is over, complete or not."""
    (run_dir / RUN_MARKER).unlink(missing_ok=True)


RUN_ID = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")


def complete_run_ids(runs_dir: Path) -> list[str]:
    """The ids of the complete runs in ``runs_dir`` (folders named by their run id), sorted."""
    try:
        entries = list(os.scandir(runs_dir))
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        entry.name
        for entry in entries
        if RUN_ID.fullmatch(entry.name) and (Path(entry.path) / SUMMARY_FILE).is_file()
    )


def is_complete(run_dir: Path) -> bool:
    """Whether the run in this folder finished (its hand-off files are valid)."""
    return (run_dir / SUMMARY_FILE).is_file()


@dataclass
class InputRecord:
    """One input of the run, as summary.json reports it."""

    path: str
    kind: str = "manifest"  # manifest, inventory, entra_devices
    sha256: str = ""
    rows: int = 0
    error: str = ""
    transient: bool = False  # the error may pass: reading the file again later may work
    already_processed_by: str = ""
    # Rows held back because a run not finished then had claimed them: if it fails, they
    # are the next run's; so the manifest is not recorded as processed (read it again).
    claimed_by_running_runs: int = 0
    format: str = ""
    sheets: list[str] = field(default_factory=list)
    hidden_sheets: list[str] = field(default_factory=list)
    skipped: dict[str, Any] = field(default_factory=dict)
    nothing_usable: bool = False  # read, and every row rejected: the exit status is 1

    def as_dict(self) -> dict[str, Any]:
        record: dict[str, Any] = {
            "path": self.path,
            "kind": self.kind,
            "sha256": self.sha256,
            "rows": self.rows,
            "error": self.error or None,
        }
        if self.transient:
            record["transient"] = True
        if self.claimed_by_running_runs:
            record["claimed_by_running_runs"] = self.claimed_by_running_runs
        if self.nothing_usable:
            record["nothing_usable"] = True
        if self.kind == "manifest":
            record |= {
                "format": self.format,
                "sheets": self.sheets,
                "hidden_sheets": self.hidden_sheets,
                "skipped": self.skipped,
                "already_processed_by": self.already_processed_by or None,
            }
        return record


def counts(decisions: pd.DataFrame) -> dict[str, Any]:
    """Counts by status, reason, Intune state and warning, for summary.json and artifacts.

    Counted in Arrow: pandas' value_counts and str.split walk a million rows in Python.
    """
    accepted = (decisions[schema.STATUS] == "accepted").to_numpy(dtype=bool, na_value=False)
    warnings = pc.list_flatten(pc.split_pattern(_arrow_text(decisions[schema.WARNINGS]), ";"))
    return {
        "rows": len(decisions),
        "by_status": _value_counts(_arrow_text(decisions[schema.STATUS])),
        "by_reason": _value_counts(_arrow_text(decisions[schema.REASON])),
        "by_intune_state": _value_counts(_arrow_text(decisions[schema.INTUNE_STATE])),
        "by_warning": _value_counts(warnings),
        "by_operator": _value_counts(_arrow_text(decisions[schema.OPERATOR]).filter(accepted)),
    }


def _arrow_text(column: pd.Series) -> pa.Array:
    values = pa.array(column.astype("str"), type=pa.large_string())
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _value_counts(values: pa.Array) -> dict[str, int]:
    """How often each value other than empty or missing occurs, by value."""
    counted = pc.value_counts(values.filter(pc.not_equal(values, "")))
    pairs = zip(
        counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
    )
    return {str(key): int(value) for key, value in sorted(pairs)}


def build_summary(
    *,
    run_id: str,
    started_at: datetime,
    inputs: list[InputRecord],
    decisions: pd.DataFrame,
    outputs: list[OutputFile],
    ledger_url: str,
    exit_code: int,
) -> dict[str, Any]:
    """The content of summary.json."""
    return {
        "run_id": run_id,
        "eidflow_version": __version__,
        "started_at": started_at.isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "exit_status": exit_code,
        "ledger": _mask_password(ledger_url),
        "inputs": [record.as_dict() for record in inputs],
        "unreadable": [record.path for record in inputs if record.error],
        "skipped": _skipped_totals(inputs),
        "counts": counts(decisions),
        "outputs": [output.as_dict() for output in outputs],
    }


def write_summary(run_dir: Path, summary: dict[str, Any]) -> None:
    """Write summary.json atomically: the last file of a run, its commit point."""
    data = json.dumps(summary, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    release_run_dir(run_dir)  # the folder holds the run's files: nobody else can take it
    write_bytes_atomic(run_dir / SUMMARY_FILE, data)


def _skipped_totals(inputs: list[InputRecord]) -> dict[str, Any]:
    totals: dict[str, Any] = {
        "blank_rows": 0,
        "preamble_rows": 0,
        "footer_rows": 0,
        "sheets_without_table": [],
    }
    for record in inputs:
        for key, value in record.skipped.items():
            if isinstance(value, list):
                totals.setdefault(key, []).extend(
                    f"{Path(record.path).name}:{item}" for item in value
                )
            elif isinstance(value, int):
                totals[key] = totals.get(key, 0) + value
    return totals


def _mask_password(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
