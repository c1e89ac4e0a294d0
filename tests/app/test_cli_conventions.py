"""The command line's conventions: -V, -q, -v, as other admin tools have them."""

from __future__ import annotations

from pathlib import Path

from tests.cli import eidflow
from tests.frames import make_eid


def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "m.csv"
    path.write_text(f"Serial Number,EID\nS1,{make_eid(1)}\n")
    return path


def test_dash_v_upper_case_is_the_version(tmp_path: Path) -> None:
    short, long = eidflow("-V", cwd=tmp_path), eidflow("--version", cwd=tmp_path)
    assert short.returncode == 0 and short.stdout == long.stdout
    assert "version" in short.stdout


def test_verbose_says_each_step_and_quiet_keeps_warnings_back(tmp_path: Path) -> None:
    ledger = f"sqlite:///{tmp_path / 'ledger.db'}"
    loud = eidflow("-v", "ingest", manifest(tmp_path), "--ledger", ledger, cwd=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "eidflow: step dedupe: " in loud.stderr and "eidflow: step deliver: " in loud.stderr
    assert "created a new ledger" in loud.stderr  # a warning still shows

    second = tmp_path / "second"  # another output root: a new ledger is not refused there
    second.mkdir()
    other = f"sqlite:///{second / 'ledger.db'}"
    quiet = eidflow("-q", "ingest", manifest(second), "--ledger", other, cwd=second)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # not even the new ledger's line
    assert "step dedupe" not in quiet.stdout and quiet.stdout.startswith("run ")  # its own line


def test_quiet_and_verbose_together_are_a_usage_error(tmp_path: Path) -> None:
    done = eidflow("-q", "-v", "history", cwd=tmp_path)
    assert done.returncode == 2 and "contradict" in done.stderr
