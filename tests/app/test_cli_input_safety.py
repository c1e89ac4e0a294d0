"""What ``eidflow ingest`` refuses on the command line, and what its messages never carry:
the bytes of a file that is no manifest, or a file name that would forge a line or steer
a terminal."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.cli import eidflow

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
LENOVO = SAMPLES / "lenovo-shipment-4401190.csv"
SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY"
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
    """The lines on stderr, but for the notices every test's run gives: the new ledger, and
    the operator eidflow.toml does not name."""
    notices = ("created a new ledger", "names no operator")
    return [line for line in done.stderr.splitlines() if not any(n in line for n in notices)]


def delivered_text(run_dir: Path) -> str:
    """Everything summary.json and report.xlsx say, as text."""
    book = load_workbook(run_dir / "report.xlsx", read_only=True)
    cells = [
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    ]
    return (run_dir / "summary.json").read_text() + "\n".join(cells)


@pytest.mark.parametrize(
    "secret_file",
    [f"AWS_SECRET_ACCESS_KEY={SECRET}\n", f"root:x:0:0:{SECRET}:/root:/bin/bash\n"],
)
def test_a_link_to_a_file_that_is_no_manifest_is_named_never_quoted(
    tmp_path: Path, secret_file: str
) -> None:
    (tmp_path / "home").mkdir()
    target = tmp_path / "home" / ".env"
    target.write_text(secret_file)
    (tmp_path / "shipment.csv").symlink_to(target)
    done = ingest(tmp_path, "shipment.csv", LENOVO)
    assert done.returncode == 1, done.stderr
    [line] = complaints(done)
    assert line.startswith("eidflow: shipment.csv (a link to ") and str(target) in line
    assert "no device table" in line
    assert SECRET not in done.stderr + done.stdout
    assert SECRET not in delivered_text(tmp_path / "run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"]["rows"] == 10  # the other manifest went on


def test_an_inventory_that_links_to_a_secret_stops_the_run_naming_the_target(
    tmp_path: Path,
) -> None:
    (tmp_path / ".env").write_text(f"AWS_SECRET_ACCESS_KEY={SECRET}\n")
    (tmp_path / "devices.csv").symlink_to(tmp_path / ".env")
    done = eidflow("ingest", LENOVO, "--inventory", "devices.csv", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    [line] = complaints(done)
    assert line.startswith(f"eidflow: devices.csv (a link to {tmp_path / '.env'}): is not an")
    assert SECRET not in done.stderr + done.stdout


def test_a_link_to_a_manifest_is_read(tmp_path: Path) -> None:
    (tmp_path / "today.csv").symlink_to(LENOVO)
    done = ingest(tmp_path, "today.csv")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["counts"]["rows"] == 10
    assert [entry["path"] for entry in summary["inputs"]] == ["today.csv"]


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda path: os.mkfifo(path), "is a named pipe (FIFO), not a file"),
        (lambda path: path.symlink_to("/dev/null"), "is a device, not a file"),
        (lambda path: path.mkdir(), "is a folder, not a file"),
        (lambda path: path.symlink_to(path.parent / "nowhere.csv"), "does not exist"),
    ],
    ids=["fifo", "device", "folder", "dangling link"],
)
def test_what_is_not_a_file_is_refused_in_one_line(tmp_path: Path, make: object, says: str) -> None:
    make(tmp_path / "odd.csv")  # type: ignore[operator]
    done = ingest(tmp_path, "odd.csv", LENOVO)  # a FIFO read would wait for a writer forever
    assert done.returncode == 1, done.stderr
    [line] = complaints(done)
    assert line.startswith("eidflow: odd.csv") and says in line
    assert "Traceback" not in done.stderr


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
