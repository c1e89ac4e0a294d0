"""The inbox: a folder or an S3 prefix where manifests arrive.

Files directly in the inbox are arrivals; a processed one moves to ``archive/`` beside them,
an unreadable one to ``quarantine/`` with ``<name>.reason.txt`` saying why. Names a person or
a program leaves while still writing (``.*``, ``~$*``, ``*.tmp``, ``*.part``) are not arrivals.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import ClientError

from eidflow import s3
from eidflow.errors import ConfigError
from exporters.config import S3Settings

ARCHIVE = "archive"
QUARANTINE = "quarantine"
LOCK_FILE = ".eidflow-inbox.lock"
_IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".reason.txt")


@dataclass(frozen=True)
class Arrival:
    """A manifest waiting in the inbox: its name and what the pipeline reads (path or s3 URL)."""

    name: str
    source: str
    sha256: str


def is_arrival(name: str) -> bool:
    """Whether a file name in the inbox is a manifest to process.

    >>> [is_arrival(n) for n in ("ship.csv", ".ship.csv", "~$ship.xlsx", "ship.csv.part")]
    [True, False, False, False]
    """
    return not (name.startswith((".", "~$")) or name.lower().endswith(_IN_PROGRESS_SUFFIXES))


def list_arrivals(inbox: str, s3_settings: S3Settings) -> list[Arrival]:
    """Every arrival in the inbox, by name, with the sha256 of its bytes."""
    if inbox.startswith("s3://"):
        return _S3Inbox(inbox, s3_settings).arrivals()
    folder = Path(inbox)
    if not folder.is_dir():
        raise ConfigError(
            f"{inbox}: the inbox folder does not exist.",
            todo="Create it, or set [flows] inbox in eidflow.toml.",
        )
    return [
        Arrival(path.name, str(path), _sha256(path.read_bytes()))
        for path in sorted(folder.iterdir())
        if path.is_file() and is_arrival(path.name)
    ]


def archive(arrival: Arrival, s3_settings: S3Settings) -> str:
    """Move a processed arrival to ``archive/``; return where it went ("" if it is gone)."""
    return _move(arrival, ARCHIVE, s3_settings, reason=None)


def quarantine(arrival: Arrival, reason: str, s3_settings: S3Settings) -> str:
    """Move an unreadable arrival to ``quarantine/`` with ``<name>.reason.txt``; return where."""
    return _move(arrival, QUARANTINE, s3_settings, reason=reason)


@contextmanager
def inbox_lock(inbox: str) -> Iterator[bool]:
    """Hold the folder inbox's lock if free; yields False when another run holds it.

    For an S3 inbox this yields True: one run at a time is the deployment's concurrency
    limit there, and the ledger's claims keep a hand-off single whatever happens.
    """
    if inbox.startswith("s3://"):
        yield True
        return
    import fcntl

    with open(Path(inbox) / LOCK_FILE, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _move(arrival: Arrival, subfolder: str, s3_settings: S3Settings, reason: str | None) -> str:
    if arrival.source.startswith("s3://"):
        return _S3Inbox.move(arrival, subfolder, s3_settings, reason)
    source = Path(arrival.source)
    if not source.exists():
        return ""  # taken away meanwhile, by a person or another host
    target_dir = source.parent / subfolder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / _free_name(arrival, lambda name: (target_dir / name).exists())
    if reason is not None:
        (target_dir / f"{target.name}.reason.txt").write_text(
            reason.rstrip() + "\n", encoding="utf-8"
        )
    os.replace(source, target)
    return str(target)


def _free_name(arrival: Arrival, taken: Any) -> str:
    """The arrival's name, or ``stem.<sha8>.suffix`` when another file already has it."""
    if not taken(arrival.name):
        return arrival.name
    name = PurePosixPath(arrival.name)
    return f"{name.stem}.{arrival.sha256[:8]}{name.suffix}"


class _S3Inbox:
    def __init__(self, url: str, settings: S3Settings) -> None:
        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        self.bucket, self.prefix = bucket, prefix.rstrip("/") + "/" if prefix.strip("/") else ""
        self.client = s3.make_client(settings)

    def arrivals(self) -> list[Arrival]:
        found: list[Arrival] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
        )
        for page in pages:
            for item in page.get("Contents", []):
                name = item["Key"][len(self.prefix) :]
                if name and is_arrival(name):
                    body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])[
                        "Body"
                    ].read()
                    found.append(Arrival(name, f"s3://{self.bucket}/{item['Key']}", _sha256(body)))
        return sorted(found, key=lambda arrival: arrival.name)

    @classmethod
    def move(
        cls, arrival: Arrival, subfolder: str, settings: S3Settings, reason: str | None
    ) -> str:
        bucket, key = s3.parse_url(arrival.source)
        client = s3.make_client(settings)
        folder = f"{key.rsplit('/', 1)[0]}/{subfolder}/" if "/" in key else f"{subfolder}/"

        def taken(name: str) -> bool:
            listed = client.list_objects_v2(Bucket=bucket, Prefix=folder + name, MaxKeys=1)
            return any(item["Key"] == folder + name for item in listed.get("Contents", []))

        target = folder + _free_name(arrival, taken)
        try:
            client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if s3.error_code(error) in s3.NOT_FOUND:
                return ""  # taken away meanwhile, by a person or another host
            raise
        if reason is not None:
            client.put_object(
                Bucket=bucket, Key=f"{target}.reason.txt", Body=(reason.rstrip() + "\n").encode()
            )
        client.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
        client.delete_object(Bucket=bucket, Key=key)
        return f"s3://{bucket}/{target}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
