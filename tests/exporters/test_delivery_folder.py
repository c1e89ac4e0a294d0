"""Delivery to a folder: the run folder itself (default), or a copy under <folder>/<run id>/."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from eidflow.errors import DeliveryError
from exporters.config import DeliverySettings
from exporters.delivery import RECEIPT_FILE, deliver, destination_of, receipt_at
from exporters.files import OutputFile, write_bytes_atomic


def hand_off_files(run_dir: Path) -> list[OutputFile]:
    files = []
    for relative, data in (
        ("operator/acme/a.csv", b"EID\n1\n"),
        ("entra/group-members.csv", b"x\n"),
    ):
        files.append(
            OutputFile(relative, 1, write_bytes_atomic(run_dir / relative, data), "operator")
        )
    return files


def test_default_the_run_folder_is_the_hand_off_and_gets_the_receipt(tmp_path: Path) -> None:
    files = hand_off_files(tmp_path)
    [receipt] = deliver(tmp_path, files, "run-1", DeliverySettings())
    assert (receipt.path, receipt.kind, receipt.rows) == (RECEIPT_FILE, "receipt", 2)
    document = json.loads((tmp_path / RECEIPT_FILE).read_text())
    assert document["run_id"] == "run-1"
    assert document["destination"] == str(tmp_path)
    assert document["files"] == [
        {"path": f.path, "kind": f.kind, "rows": f.rows, "sha256": f.sha256} for f in files
    ]


def test_copy_to_a_folder_under_the_run_id(tmp_path: Path) -> None:
    run_dir, outbox = tmp_path / "run", tmp_path / "outbox"
    files = hand_off_files(run_dir)
    deliver(run_dir, files, "run-1", DeliverySettings(folder=str(outbox)))
    for output in files:
        assert (outbox / "run-1" / output.path).read_bytes() == (run_dir / output.path).read_bytes()
    assert (outbox / "run-1" / RECEIPT_FILE).read_bytes() == (run_dir / RECEIPT_FILE).read_bytes()
    # a repeated delivery of the same run finds the same files and passes
    deliver(run_dir, files, "run-1", DeliverySettings(folder=str(outbox)))


def test_never_overwrites_a_file_with_other_content(tmp_path: Path) -> None:
    run_dir, outbox = tmp_path / "run", tmp_path / "outbox"
    files = hand_off_files(run_dir)
    write_bytes_atomic(outbox / "run-1" / files[1].path, b"someone else's\n")
    with pytest.raises(DeliveryError) as caught:
        deliver(run_dir, files, "run-1", DeliverySettings(folder=str(outbox)))
    message = str(caught.value)
    assert "Delivered: operator/acme/a.csv." in message
    assert "Not delivered: entra/group-members.csv" in message
    assert (outbox / "run-1" / files[1].path).read_bytes() == b"someone else's\n"
    assert not (outbox / "run-1" / RECEIPT_FILE).exists()
    assert not (run_dir / RECEIPT_FILE).exists()


def test_unwritable_folder_is_a_delivery_error(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    files = hand_off_files(run_dir)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(DeliveryError, match="Delivered: none"):
        deliver(run_dir, files, "run-1", DeliverySettings(folder=str(blocker)))


def test_missing_or_changed_file_is_named(tmp_path: Path) -> None:
    run_dir, outbox = tmp_path / "run", DeliverySettings(folder=str(tmp_path / "outbox"))
    files = hand_off_files(run_dir)
    (run_dir / files[1].path).write_text("edited\n")
    with pytest.raises(DeliveryError, match=r"group-members\.csv: changed after it was written"):
        deliver(run_dir, files, "run-1", outbox)
    (run_dir / files[0].path).unlink()
    with pytest.raises(DeliveryError, match=r"a\.csv: hand-off file missing"):
        deliver(run_dir, files, "run-1", outbox)
    assert not (tmp_path / "outbox").exists()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_the_umask_allows(tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        output = hand_off_files(tmp_path)[0]
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / output.path).stat().st_mode) == mode


def test_the_receipt_is_found_in_the_outbox_the_run_named(tmp_path: Path) -> None:
    run_dir, outbox = tmp_path / "run", DeliverySettings(folder=str(tmp_path / "outbox"))
    destination = destination_of(outbox, run_dir, "run-1")  # what the ledger records
    assert destination == str(tmp_path / "outbox" / "run-1")
    assert receipt_at(destination, DeliverySettings()) is None
    deliver(run_dir, hand_off_files(run_dir), "run-1", outbox)
    assert receipt_at(destination, DeliverySettings())["run_id"] == "run-1"  # type: ignore[index]
    assert receipt_at(str(tmp_path / "outbox" / "run-2"), outbox) is None


def test_a_run_delivering_in_place_names_its_run_folder(tmp_path: Path) -> None:
    """Without an outbox or S3 the files stay in the run folder: void until summary.json."""
    assert destination_of(DeliverySettings(), tmp_path, "run-1") == str(tmp_path.resolve())


def test_a_relative_outbox_is_recorded_as_an_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run settling this one after a crash may work in another folder: it must look
    # for the receipt where this run put it.
    monkeypatch.chdir(tmp_path)
    run_dir = Path("run")
    destination = destination_of(DeliverySettings(folder="outbox"), run_dir, "run-1")
    deliver(run_dir, hand_off_files(run_dir), "run-1", DeliverySettings(folder="outbox"))
    assert destination == str(tmp_path / "outbox" / "run-1")
    monkeypatch.chdir(tmp_path.parent)
    assert receipt_at(destination, DeliverySettings()) is not None
