"""The run folder: its id, its place, its commit point (summary.json)."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from app.runfolder import (
    is_complete,
    new_run_id,
    prepare_run_dir,
    release_run_dir,
    write_summary,
)
from eidflow.errors import ConfigError


def test_a_folder_is_complete_only_with_its_summary(tmp_path: Path) -> None:
    assert not is_complete(tmp_path)
    write_summary(tmp_path, {"run_id": "r"})
    assert is_complete(tmp_path)
    assert not list(tmp_path.glob(".*tmp"))


def test_run_ids_sort_by_time_and_differ() -> None:
    first, second = new_run_id(), new_run_id()
    assert first != second and first[:16] <= second[:16]


def test_a_run_folder_that_holds_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("x")
    with pytest.raises(ConfigError, match="not empty"):
        prepare_run_dir(tmp_path, tmp_path / "runs", "r")
    assert prepare_run_dir(None, tmp_path / "runs", "r") == tmp_path / "runs" / "r"


def _take(run_dir: Path, start: Any, results: Any) -> None:
    start.wait()
    try:
        prepare_run_dir(run_dir, run_dir.parent, "r")
        results.put("took")
    except ConfigError:
        results.put("refused")


def test_of_runs_given_the_same_folder_at_once_exactly_one_takes_it(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(6), context.Queue()
    runs = [
        context.Process(target=_take, args=(tmp_path / "out", start, results)) for _ in range(6)
    ]
    for run in runs:
        run.start()
    for run in runs:
        run.join(30)
    assert sorted(results.get(timeout=5) for _ in runs) == ["refused"] * 5 + ["took"]


def test_a_held_folder_is_refused_until_the_run_ends(tmp_path: Path) -> None:
    run_dir = prepare_run_dir(tmp_path / "out", tmp_path, "r1")
    with pytest.raises(ConfigError, match="not empty"):
        prepare_run_dir(run_dir, tmp_path, "r2")
    write_summary(run_dir, {"run_id": "r1"})
    assert [path.name for path in run_dir.iterdir()] == ["summary.json"]  # let go


def test_a_failed_run_lets_its_empty_folder_go(tmp_path: Path) -> None:
    run_dir = prepare_run_dir(tmp_path / "out", tmp_path, "r1")
    release_run_dir(run_dir)
    assert prepare_run_dir(run_dir, tmp_path, "r2") == run_dir
