"""``answer-decisions.csv``: one line per data row of every operator answer file read, in
input order, columns ``answer_codes.ANSWER_DECISION_COLUMNS``; written like decisions.csv
(atomically, UTF-8, every text value quoted and neutralised)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.csv as pa_csv

from eidflow.core.answer_codes import ANSWER_DECISION_COLUMNS
from exporters.decisions import decisions_table_of
from exporters.files import OutputFile, atomic_path, sha256_file

ANSWER_DECISIONS_FILE = "answer-decisions.csv"


def write_answer_decisions(decisions: pd.DataFrame, run_dir: Path) -> OutputFile:
    """Write ``run_dir/answer-decisions.csv`` atomically and describe it."""
    table = decisions_table_of(decisions, ANSWER_DECISION_COLUMNS)
    path = run_dir / ANSWER_DECISIONS_FILE
    with atomic_path(path) as tmp:
        pa_csv.write_csv(table, tmp, write_options=pa_csv.WriteOptions(include_header=True))
    return OutputFile(
        path=ANSWER_DECISIONS_FILE,
        rows=table.num_rows,
        sha256=sha256_file(path),
        kind="answer_decisions",
    )
