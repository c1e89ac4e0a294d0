"""The pull step finds each worker host's checkout on that host."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from eidflow.errors import ConfigError
from flows.steps import work_in_checkout

REPO = Path(__file__).resolve().parents[2]


def test_without_eidflow_home_runs_work_in_the_installed_checkout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EIDFLOW_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert work_in_checkout() == {"directory": str(REPO)}
    assert Path.cwd() == REPO


def test_eidflow_home_on_the_worker_wins_and_a_wrong_one_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "srv-eidflow"
    (other / "flows").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("EIDFLOW_HOME", str(other))
    assert work_in_checkout() == {"directory": str(other)}
    assert Path.cwd() == other
    monkeypatch.setenv("EIDFLOW_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(ConfigError, match="nowhere: no eidflow checkout there"):
        work_in_checkout()
    assert Path.cwd() == other  # not moved
    os.chdir(REPO)
