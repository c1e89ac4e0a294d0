"""Whether a dead run's files reached their target: asked there, never of a local folder
that is not the target."""

from __future__ import annotations

from pathlib import Path

import pytest

from eidflow.errors import EidflowError
from eidflow.ledger.settle import DeadRun, reached_target


def dead(run_dir: Path, destination: Path | str) -> DeadRun:
    return DeadRun("r", 1, str(run_dir), str(destination), delivering=True)


def test_in_place_the_run_folder_is_the_target_and_summary_json_its_proof(tmp_path: Path) -> None:
    run_dir = tmp_path / "runs" / "r"
    run_dir.mkdir(parents=True)
    (run_dir / "receipt.json").write_text("{}")  # the local receipt alone proves nothing
    assert reached_target(dead(run_dir, run_dir)) is False
    (run_dir / "summary.json").write_text("{}")
    assert reached_target(dead(run_dir, run_dir)) is True


def test_an_outbox_is_asked_for_its_receipt_whatever_the_run_folder_holds(tmp_path: Path) -> None:
    run_dir, outbox = tmp_path / "runs" / "r", tmp_path / "outbox" / "r"
    run_dir.mkdir(parents=True)
    outbox.parent.mkdir()
    (run_dir / "summary.json").write_text("{}")
    assert reached_target(dead(run_dir, outbox)) is False
    outbox.mkdir()
    (outbox / "receipt.json").write_text("{}")
    assert reached_target(dead(tmp_path / "gone", outbox)) is True


@pytest.mark.parametrize("target", ["outbox", "in place"])
def test_a_target_this_host_cannot_see_cannot_be_judged(tmp_path: Path, target: str) -> None:
    run_dir = tmp_path / "other-host" / "runs" / "r"
    destination = tmp_path / "other-host" / "outbox" / "r" if target == "outbox" else run_dir
    with pytest.raises(EidflowError, match="cannot see"):
        reached_target(dead(run_dir, destination))


def test_s3_needs_the_delivery_settings(tmp_path: Path) -> None:
    with pytest.raises(EidflowError, match="S3"):
        reached_target(dead(tmp_path, "s3://bucket/handoff/r/"))
