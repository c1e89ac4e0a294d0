"""The rows a run does not hand off, in ``row_outcomes``: written with the claim, once per
manifest row however often its file is read (a run killed, then the same file again)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from eidflow.ledger import SqlLedger, open_ledger
from tests.ledger.helpers import devices

SHA = "cd" * 32
# EID 1 twice with S1 (a duplicate), EID 2 with S2 and S3 (a conflict), EID 4 refused.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import numpy as np
    from eidflow.ledger import SqlLedger, open_ledger
    from tests.ledger.test_row_outcomes import run_rows

    ledger = open_ledger(sys.argv[1])
    ledger.begin_run("killed", sys.argv[2])
    rows, judged = run_rows()
    ledger.claim("killed", rows, [{"name": "m.csv", "sha256": sys.argv[3], "rows": 5}], judged)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def run_rows() -> tuple[pd.DataFrame, np.ndarray]:
    rows = devices((1, "S1"), (1, "S1"), (2, "S2"), (2, "S3"), (4, "S4"), source_file="m.csv")
    rows = rows.assign(operator="op", status="accepted", reason="", detail="", eid_raw=rows["eid"])
    rows.loc[4, ["status", "reason", "detail"]] = ["rejected", "eid_checksum", "Wrong digits."]
    return rows, np.arange(4)


def outcomes(url: str) -> list[tuple[str, int, str, str]]:
    ledger = open_ledger(url)
    try:
        with ledger.read() as connection:
            return [
                (str(run), int(row), str(reason), str(first))
                for run, row, reason, first in connection.all(
                    "SELECT r.run_id, o.row, o.reason, f.run_id FROM row_outcomes o"
                    " JOIN runs r ON r.run_no = o.run_no JOIN runs f ON f.run_no = o.first_run_no"
                    " ORDER BY o.row"
                )
            ]
    finally:
        ledger.close()


@pytest.mark.parametrize("reruns", [1, 2])
def test_a_killed_run_then_the_same_file_again_keeps_each_row_once(
    url: str, tmp_path: Path, reruns: int
) -> None:
    child = subprocess.run(
        [sys.executable, "-c", CHILD, url, str(tmp_path / "killed"), SHA],
        cwd=Path(__file__).parents[2],
        timeout=60,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    assert [line[:3] for line in outcomes(url)] == [
        ("killed", 3, "duplicate_in_run"),
        ("killed", 4, "conflict_eid"),
        ("killed", 5, "conflict_eid"),
        ("killed", 6, "eid_checksum"),
    ]
    for number in range(reruns):
        ledger = open_ledger(url)
        try:
            ledger.begin_run(f"rerun-{number}", str(tmp_path / f"rerun-{number}"))
            rows, judged = run_rows()
            manifest = [{"name": "m.csv", "sha256": SHA, "rows": 5}]
            ledger.claim(f"rerun-{number}", rows, manifest, judged)
            ledger.finish_run(f"rerun-{number}", counts={"rows": 5})
        finally:
            ledger.close()
    last = f"rerun-{reruns - 1}"
    assert outcomes(url) == [
        # a later rerun finds row 3 already_registered (by rerun-0), which is not kept
        ("rerun-0", 3, "duplicate_in_run", "killed"),
        (last, 4, "conflict_eid", "killed"),
        (last, 5, "conflict_eid", "killed"),
        (last, 6, "eid_checksum", "killed"),
    ]


def test_a_row_without_its_file_s_sha256_is_not_kept(ledger: SqlLedger, tmp_path: Path) -> None:
    ledger.begin_run("r", str(tmp_path / "r"))
    rows, judged = run_rows()
    ledger.claim("r", rows, [], judged)
    with ledger.read() as connection:
        assert connection.scalar("SELECT count(*) FROM row_outcomes") == 0
