"""The inbox on a folder and on an S3 prefix: arrivals, archive, quarantine, the lock."""

from __future__ import annotations

import doctest
import hashlib
import os
from pathlib import Path

import boto3
import pytest

from eidflow.errors import ConfigError
from eidflow.s3 import S3Settings
from flows import artifacts, inbox
from flows.inbox import archive, inbox_lock, list_arrivals, quarantine
from tests.s3_server import S3Proxy

NO_S3 = S3Settings()


@pytest.mark.parametrize("module", [inbox, artifacts])
def test_docstring_examples_hold(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def fill(folder: Path, names: list[str]) -> None:
    for name in names:
        (folder / name).write_text(f"content of {name}\n")


def test_folder_arrivals_skip_partial_files_and_subfolders(tmp_path: Path) -> None:
    fill(tmp_path, ["b.xlsx", "a.csv", ".a.csv.swp", "~$b.xlsx", "c.csv.part", "x.csv.reason.txt"])
    (tmp_path / "archive").mkdir()
    fill(tmp_path / "archive", ["old.csv"])
    arrivals = list_arrivals(str(tmp_path), NO_S3)
    assert [a.name for a in arrivals] == ["a.csv", "b.xlsx"]
    assert arrivals[0].sha256 == hashlib.sha256(b"content of a.csv\n").hexdigest()
    assert arrivals[0].source == str(tmp_path / "a.csv")


def test_missing_inbox_folder_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        list_arrivals(str(tmp_path / "nope"), NO_S3)


def test_folder_archive_and_quarantine_with_reason(tmp_path: Path) -> None:
    fill(tmp_path, ["good.csv", "bad.csv"])
    good, bad = sorted(list_arrivals(str(tmp_path), NO_S3), key=lambda a: a.name != "good.csv")
    assert archive(good, NO_S3) == str(tmp_path / "archive" / "good.csv")
    assert quarantine(bad, "bad.csv: no EID column.", NO_S3) == str(
        tmp_path / "quarantine" / "bad.csv"
    )
    assert (
        tmp_path / "quarantine" / "bad.csv.reason.txt"
    ).read_text() == "bad.csv: no EID column.\n"
    assert list_arrivals(str(tmp_path), NO_S3) == []


def test_same_name_again_is_archived_beside_the_first(tmp_path: Path) -> None:
    fill(tmp_path, ["ship.csv"])
    archive(list_arrivals(str(tmp_path), NO_S3)[0], NO_S3)
    (tmp_path / "ship.csv").write_text("another shipment\n")
    second = list_arrivals(str(tmp_path), NO_S3)[0]
    where = archive(second, NO_S3)
    assert where == str(tmp_path / "archive" / f"ship.{second.sha256[:8]}.csv")
    assert (tmp_path / "archive" / "ship.csv").read_text() == "content of ship.csv\n"


def test_folder_lock_admits_one_run(tmp_path: Path) -> None:
    with inbox_lock(str(tmp_path)) as first, inbox_lock(str(tmp_path)) as second:
        assert (first, second) == (True, False)
    with inbox_lock(str(tmp_path)) as again:
        assert again


def test_s3_inbox(s3_bucket: S3Settings) -> None:
    client = boto3.client("s3", endpoint_url=s3_bucket.endpoint_url, region_name=s3_bucket.region)
    for key in ["in/a.csv", "in/b.csv", "in/.hidden", "in/archive/old.csv", "other/z.csv"]:
        client.put_object(Bucket=s3_bucket.bucket, Key=key, Body=f"{key}\n".encode())
    url = f"s3://{s3_bucket.bucket}/in/"
    arrivals = list_arrivals(url, s3_bucket)
    assert [(a.name, a.source) for a in arrivals] == [
        ("a.csv", f"s3://{s3_bucket.bucket}/in/a.csv"),
        ("b.csv", f"s3://{s3_bucket.bucket}/in/b.csv"),
    ]
    assert arrivals[0].sha256 == hashlib.sha256(b"in/a.csv\n").hexdigest()
    assert archive(arrivals[0], s3_bucket) == f"s3://{s3_bucket.bucket}/in/archive/a.csv"
    assert (
        quarantine(arrivals[1], "unreadable", s3_bucket)
        == f"s3://{s3_bucket.bucket}/in/quarantine/b.csv"
    )
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket.bucket)["Contents"]}
    assert keys == {
        "in/.hidden",
        "in/archive/a.csv",
        "in/archive/old.csv",
        "in/quarantine/b.csv",
        "in/quarantine/b.csv.reason.txt",
        "other/z.csv",
    }
    reason = client.get_object(Bucket=s3_bucket.bucket, Key="in/quarantine/b.csv.reason.txt")
    assert reason["Body"].read() == b"unreadable\n"
    assert list_arrivals(url, s3_bucket) == []


def test_a_file_taken_away_meanwhile_is_not_an_error(tmp_path: Path) -> None:
    fill(tmp_path, ["gone.csv"])
    [arrival] = list_arrivals(str(tmp_path), NO_S3)
    (tmp_path / "gone.csv").unlink()
    assert archive(arrival, NO_S3) == ""
    assert quarantine(arrival, "why", NO_S3) == ""


def test_a_file_rewritten_since_it_was_read_stays_in_the_inbox(tmp_path: Path) -> None:
    fill(tmp_path, ["daily.csv"])
    [arrival] = list_arrivals(str(tmp_path), NO_S3)
    (tmp_path / "daily.csv").write_text("a corrected shipment, longer\n")
    assert archive(arrival, NO_S3) == str(tmp_path / "daily.csv")  # left, not archived
    assert (tmp_path / "daily.csv").read_text() == "a corrected shipment, longer\n"
    assert list((tmp_path / "archive").iterdir()) == []
    [again] = list_arrivals(str(tmp_path), NO_S3)
    assert again.sha256 != arrival.sha256  # a new arrival for the next run
    assert archive(again, NO_S3) == str(tmp_path / "archive" / "daily.csv")


def test_archived_only_if_it_holds_what_the_run_read(tmp_path: Path) -> None:
    # The run read the file after it was listed, and it had changed in between.
    fill(tmp_path, ["daily.csv"])
    [listed] = list_arrivals(str(tmp_path), NO_S3)
    (tmp_path / "daily.csv").write_text("what the run read\n")
    read = hashlib.sha256(b"what the run read\n").hexdigest()
    assert archive(listed, NO_S3, read) == str(tmp_path / "archive" / "daily.csv")


def test_an_unreadable_file_is_listed_with_its_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(tmp_path, ["a-good.csv", "b-locked.csv"])
    real = os.open

    def open_file(path: str | Path, flags: int, *args: int, **kwargs: object) -> int:
        if Path(path).name == "b-locked.csv":  # as for a file its owner made mode 000
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", open_file)
    good, locked = list_arrivals(str(tmp_path), NO_S3)
    assert (good.name, good.error) == ("a-good.csv", "")
    assert (locked.sha256, locked.error) == (
        "",
        f"{tmp_path / 'b-locked.csv'}: cannot be read (Permission denied).",
    )
    assert quarantine(locked, locked.error, NO_S3) == str(tmp_path / "quarantine" / "b-locked.csv")


def test_s3_a_new_version_since_the_read_stays_in_the_inbox(s3_proxy: S3Proxy) -> None:
    s3_bucket = s3_proxy.settings  # the proxy answers a stale conditional copy as S3 does
    client = boto3.client("s3", endpoint_url=s3_bucket.endpoint_url, region_name=s3_bucket.region)
    client.put_object(Bucket=s3_bucket.bucket, Key="in/daily.csv", Body=b"3 devices\n")
    url = f"s3://{s3_bucket.bucket}/in/"
    [arrival] = list_arrivals(url, s3_bucket)
    client.put_object(Bucket=s3_bucket.bucket, Key="in/daily.csv", Body=b"6 devices\n")
    assert archive(arrival, s3_bucket) == arrival.source
    keys = {item["Key"] for item in client.list_objects_v2(Bucket=s3_bucket.bucket)["Contents"]}
    assert keys == {"in/daily.csv"}
    [again] = list_arrivals(url, s3_bucket)
    assert archive(again, s3_bucket) == f"s3://{s3_bucket.bucket}/in/archive/daily.csv"
    body = client.get_object(Bucket=s3_bucket.bucket, Key="in/archive/daily.csv")["Body"].read()
    assert body == b"6 devices\n"


SECRET = "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY"


def test_a_link_in_the_inbox_is_quarantined_never_followed(tmp_path: Path) -> None:
    inbox_dir, elsewhere = tmp_path / "inbox", tmp_path / "home"
    inbox_dir.mkdir()
    elsewhere.mkdir()
    (elsewhere / ".env").write_text(SECRET + "\n")
    (inbox_dir / "shipment.csv").symlink_to(elsewhere / ".env")
    [link] = list_arrivals(str(inbox_dir), NO_S3)
    assert link.name == "shipment.csv" and link.sha256 == ""  # not read
    assert "symbolic link" in link.error and "never" in link.error
    assert SECRET not in link.error
    moved = quarantine(link, link.error, NO_S3)
    assert moved == str(inbox_dir / "quarantine" / "shipment.csv")
    assert Path(moved).is_symlink()  # the link itself was moved, not what it points to
    assert (elsewhere / ".env").read_text() == SECRET + "\n"
    reason = (inbox_dir / "quarantine" / "shipment.csv.reason.txt").read_text()
    assert "symbolic link" in reason and SECRET not in reason
    assert list_arrivals(str(inbox_dir), NO_S3) == []


def test_a_dangling_link_and_a_link_to_a_folder_are_quarantined_too(tmp_path: Path) -> None:
    (tmp_path / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    (tmp_path / "dir.csv").symlink_to(tmp_path)
    arrivals = list_arrivals(str(tmp_path), NO_S3)
    assert [(a.name, "symbolic link" in a.error) for a in arrivals] == [
        ("dir.csv", True),
        ("gone.csv", True),
    ]
    for arrival in arrivals:
        assert quarantine(arrival, arrival.error, NO_S3) == str(
            tmp_path / "quarantine" / arrival.name
        )


def test_a_named_pipe_in_the_inbox_is_quarantined_not_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "feed.csv")  # reading it would wait for a writer forever
    fill(tmp_path, ["real.csv"])
    pipe, real = list_arrivals(str(tmp_path), NO_S3)
    assert (pipe.name, pipe.sha256) == ("feed.csv", "")
    assert "named pipe" in pipe.error
    assert (real.name, real.error) == ("real.csv", "")
    assert quarantine(pipe, pipe.error, NO_S3) == str(tmp_path / "quarantine" / "feed.csv")


def test_a_reason_is_one_line_whatever_the_file_is_called(tmp_path: Path) -> None:
    name = "ship\neidflow: all good\x1b[2J\u202e.csv"
    (tmp_path / name).symlink_to(tmp_path / "nowhere")
    [link] = list_arrivals(str(tmp_path), NO_S3)
    assert not any(char in link.error for char in "\n\r\x1b\u202e")
    quarantine(link, link.error, NO_S3)
    [note] = (tmp_path / "quarantine").glob("*.reason.txt")
    assert note.read_text().count("\n") == 1 and "\\n" in note.read_text()
