"""A void's withdrawal file: the EIDs an operator should drop, and why.

CSV in the operator's dialect (delimiter, encoding, line ending, quoting; always with its
header), one line per EID: the EID, its serial as handed off, the run that handed it off,
the reason. Written atomically beside the hand-off files, under ``operator/<name>/``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from exporters.config import OperatorProfile
from exporters.files import OutputFile, atomic_path, sha256_file
from exporters.operator import pandas_csv
from exporters.safe import neutralise, neutralise_text

HEADERS = ("EID", "Serial Number", "Original Run", "Reason")


def withdrawal_path(operator: str, voided_run_id: str) -> str:
    """Where the withdrawal of ``voided_run_id`` goes in the run folder (and at the target)."""
    return f"operator/{operator}/{operator}_withdrawal_{voided_run_id}.csv"


def write_withdrawal_file(
    withdrawn: pd.DataFrame,
    profile: OperatorProfile,
    run_dir: Path,
    voided_run_id: str,
    reason: str,
) -> OutputFile:
    """Write ``withdrawn`` (``eid``, ``serial_number``) as the withdrawal of ``voided_run_id``."""
    values = [
        withdrawn["eid"],
        withdrawn["serial_number"],
        pd.Series(voided_run_id, index=withdrawn.index),
        pd.Series(reason, index=withdrawn.index),
    ]
    table = pd.DataFrame(
        {
            neutralise_text(header): neutralise(column.astype("string").fillna(""))
            for header, column in zip(HEADERS, values, strict=True)
        }
    ).reset_index(drop=True)
    path = run_dir / withdrawal_path(profile.name, voided_run_id)
    with atomic_path(path) as tmp:
        pandas_csv(table, tmp, profile.model_copy(update={"header": True}))
    return OutputFile(
        path=path.relative_to(run_dir).as_posix(),
        rows=len(table),
        sha256=sha256_file(path),
        kind="withdrawal",
    )
