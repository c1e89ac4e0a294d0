"""What ``eidflow ingest`` refuses on the command line, and what its messages never carry:
the bytes of a file that is no manifest, or a file name that would forge a line or steer
a terminal."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cli import eidflow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
LENOVO = SAMPLES / "lenovo-shipment-4401190.csv"
UNSAFE = ("\n", "\r", "\x1b", "\x9b", "\u202e", "\u2066", "\u2069")


def ingest(tmp_path: Path, *manifests: str | Path) -> subprocess.CompletedProcess[str]:
    return eidflow(
        "ingest",
        *manifests,
        "--out",
        tmp_path / "run",
        "--ledger",
        f"sqlite:///{tmp_path / 'ledger.db'}",
        cwd=tmp_path,
    )


def complaints(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The lines on stderr, but for the notice of the new ledger each test's run creates."""
    return [line for line in done.stderr.splitlines() if "created a new ledger" not in line]


FORGED = "evil\neidflow: run 20261127T000000Z-abcdef: 0 rows\r\x1b[2K\x9b31m\u202ev\u2066sc.csv"


def test_a_file_name_cannot_forge_a_line_or_steer_the_terminal(tmp_path: Path) -> None:
    (tmp_path / FORGED).write_text("Hello,World\n1,2\n")
    done = ingest(tmp_path, FORGED, LENOVO)
    assert done.returncode == 1, done.stderr
    [line] = complaints(done)  # one line, not two
    assert line.startswith("eidflow: evil\\neidflow: run") and "\\x1b[2K" in line
    assert "\\u202e" in line and "\\u2066" in line
    for printed in (done.stderr + done.stdout).split("\n"):
        assert not any(char in printed for char in UNSAFE), printed
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    [error] = [entry["error"] for entry in summary["inputs"] if entry["error"]]
    assert not any(char in error for char in UNSAFE)


def test_an_out_folder_name_cannot_forge_the_last_line(tmp_path: Path) -> None:
    out = tmp_path / "run\nrun x: 999 rows\x1b[1A"
    done = eidflow(
        "ingest", LENOVO, "--out", out, "--ledger", f"sqlite:///{tmp_path / 'l.db'}", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    [last] = done.stdout.rstrip("\n").split("\n")
    assert not any(char in last for char in UNSAFE), last
