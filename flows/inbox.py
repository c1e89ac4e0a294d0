"""The inbox: a folder or an S3 prefix where manifests arrive.

Files directly in the inbox are arrivals; a processed one moves to ``archive/`` beside them,
an unreadable one to ``quarantine/`` with ``<name>.reason.txt`` saying why. Names a person or
a program leaves while still writing (``.*``, ``~$*``, ``*.tmp``, ``*.part``) are not arrivals.
Only a file put in the inbox is read: a link is never followed (it could point anywhere:
a key file, a device), and it is quarantined as it is, with a named pipe, a device or a
socket found there.

A file is filed away only if it still holds the bytes the run read: one rewritten under
the same name meanwhile (an OEM portal sending a corrected manifest) stays in the inbox,
a new arrival for the next run, so that no row is archived unread.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from eidflow import s3
from eidflow.errors import ConfigError, ManifestError, printable
from eidflow.s3 import S3Settings

ARCHIVE = "archive"
QUARANTINE = "quarantine"
LOCK_FILE = ".eidflow-inbox.lock"
_IN_PROGRESS_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".reason.txt")


@dataclass(frozen=True)
class Arrival:
    """A manifest waiting in the inbox: its name and what the pipeline reads (path or s3 URL)."""

    name: str
    source: str
    sha256: str  # "" when it could not be read (``error``)
    etag: str = ""  # S3: the version read, for copying exactly that one
    # S3: the bytes read, which the run ingests: each object is downloaded once per run
    data: bytes = field(default=b"", repr=False, compare=False)
    error: str = ""  # why it could not be read; "" when it was
    transient: bool = False  # the error may pass (S3 throttling, a 5xx, the network)


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
    arrivals = []
    for path in sorted(folder.iterdir()):
        if not is_arrival(path.name):
            continue
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:  # taken away meanwhile
            continue
        if not stat.S_ISDIR(mode):  # archive/, quarantine/, a person's folders
            arrivals.append(_folder_arrival(path, mode))
    return arrivals


def list_entries(inbox: str, s3_settings: S3Settings) -> tuple[list[str], list[str]]:
    """The names of the arrivals and of the folders directly in the inbox, none read
    (``archive/`` and ``quarantine/`` left out); a folder that does not exist is empty."""
    if inbox.startswith("s3://"):
        files, folders = _S3Inbox(inbox, s3_settings).entries()
    else:
        folder = Path(inbox)
        paths = sorted(folder.iterdir()) if folder.is_dir() else []
        files = [path.name for path in paths if not path.is_dir() or path.is_symlink()]
        folders = [path.name for path in paths if path.is_dir() and not path.is_symlink()]
    kept = [name for name in folders if name not in (ARCHIVE, QUARANTINE)]
    return [name for name in files if is_arrival(name)], kept


def subfolder(inbox: str, name: str) -> str:
    """The inbox's sub-folder ``name``, as a folder path or an S3 prefix.

    >>> subfolder("s3://bucket/answers", "contoso-mobile")
    's3://bucket/answers/contoso-mobile/'
    """
    if inbox.startswith("s3://"):
        return f"{inbox.rstrip('/')}/{name}/"
    return str(Path(inbox) / name)


def _folder_arrival(path: Path, mode: int) -> Arrival:
    """The arrival at ``path`` (of ``mode``, not followed); a link or a special file is
    listed with the reason it is refused, never read."""
    refused = _refused(path, mode)
    if refused:
        return Arrival(path.name, str(path), "", error=printable(f"{path}: {refused}"))
    try:
        return Arrival(path.name, str(path), _sha256(_read_file(path)))
    except OSError as error:  # permissions, a file gone bad: quarantined, the others go on
        reason = f"{path}: cannot be read ({error.strerror or error})."
        return Arrival(path.name, str(path), "", error=printable(reason))


def _refused(path: Path, mode: int) -> str:
    """Why the inbox refuses what is at ``path``, or "" for a file."""
    if stat.S_ISLNK(mode):
        return (
            f"is a symbolic link (to {os.readlink(path)}), and the inbox never follows one."
            " Put the manifest itself in the inbox."
        )
    if stat.S_ISREG(mode):
        return ""
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device or a socket"
    return f"is {kind}, not a file; the inbox reads files only. Put the manifest itself there."


def _read_file(path: Path) -> bytes:
    """The bytes of the regular file at ``path``; a link or a special file put there since
    it was listed is refused (``OSError``), not followed or waited on."""
    handle = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(handle).st_mode):
            raise OSError(errno.EINVAL, "not a regular file any more", str(path))
        with os.fdopen(handle, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(handle)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def left_in_inbox(arrival: Arrival, where: str) -> bool:
    """Whether ``where`` (what filing ``arrival`` away returned) is still in the inbox."""
    return where == arrival.source or (
        bool(where)
        and not arrival.source.startswith("s3://")
        and Path(where).parent == Path(arrival.source).parent
    )


def archive(arrival: Arrival, s3_settings: S3Settings, read_sha256: str = "") -> str:
    """Move a processed arrival to ``archive/``; return where it went ("" if it is gone).

    ``read_sha256``: the bytes the run read (default: those listed). A file that holds
    other bytes now stays in the inbox (see ``left_in_inbox``).
    """
    return _move(arrival, ARCHIVE, s3_settings, None, read_sha256 or arrival.sha256)


def quarantine(
    arrival: Arrival, reason: str, s3_settings: S3Settings, read_sha256: str = ""
) -> str:
    """Move an unreadable arrival to ``quarantine/`` with ``<name>.reason.txt``; return where."""
    return _move(arrival, QUARANTINE, s3_settings, reason, read_sha256 or arrival.sha256)


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


def _move(
    arrival: Arrival, subfolder: str, s3_settings: S3Settings, reason: str | None, sha256: str
) -> str:
    if arrival.source.startswith("s3://"):
        return _S3Inbox.move(arrival, subfolder, s3_settings, reason, sha256)
    source = Path(arrival.source)
    if not os.path.lexists(source):  # a link is moved itself, dangling or not
        return ""  # taken away meanwhile, by a person or another host
    target_dir = source.parent / subfolder
    target_dir.mkdir(exist_ok=True)
    target = target_dir / _free_name(arrival, lambda name: os.path.lexists(target_dir / name))
    note = target_dir / f"{target.name}.reason.txt"
    if reason is not None:
        note.write_text(printable(reason.rstrip()) + "\n", encoding="utf-8")
    os.replace(source, target)  # first moved, then checked: what is checked is what was moved
    held = _sha256(target.read_bytes()) if sha256 else sha256
    if held != sha256:
        # Rewritten since the run read it: back to the inbox, a new arrival for the next run.
        note.unlink(missing_ok=True)
        back = source
        if os.path.lexists(back):  # and written once more meanwhile: keep both
            moved = Arrival(arrival.name, str(target), held)
            back = source.parent / _free_name(
                moved, lambda name: os.path.lexists(source.parent / name)
            )
        os.replace(target, back)
        return str(back)
    return str(target)


def _free_name(arrival: Arrival, taken: Any) -> str:
    """The arrival's name, or ``stem.<sha8>.suffix`` when another file already has it
    (``stem.<n>.suffix`` for one that was never read, or when that is taken too)."""
    if not taken(arrival.name):
        return arrival.name
    name = PurePosixPath(arrival.name)
    tags = [arrival.sha256[:8]] if arrival.sha256 else []
    for tag in itertools.chain(tags, map(str, itertools.count(2))):
        free = f"{name.stem}.{tag}{name.suffix}"
        if not taken(free):
            return free
    raise AssertionError("unreachable")


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
                    found.append(self._arrival(name, item["Key"]))
        return sorted(found, key=lambda arrival: arrival.name)

    def entries(self) -> tuple[list[str], list[str]]:
        """The names of the objects and of the sub-prefixes directly under the prefix."""
        files: list[str] = []
        folders: list[str] = []
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix, Delimiter="/"
        )
        for page in pages:
            files += [item["Key"][len(self.prefix) :] for item in page.get("Contents", [])]
            folders += [
                item["Prefix"][len(self.prefix) :].rstrip("/")
                for item in page.get("CommonPrefixes", [])
            ]
        return sorted(name for name in files if name), sorted(folders)

    def _arrival(self, name: str, key: str) -> Arrival:
        url = f"s3://{self.bucket}/{key}"
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=key)
            body = got["Body"].read()
        except (ClientError, BotoCoreError) as error:  # one object must not block the others
            problem = (
                s3.manifest_error(url, error)
                if isinstance(error, ClientError)
                else ManifestError(url, f"could not read from S3 ({error}).", transient=True)
            )
            return Arrival(name, url, "", error=str(problem), transient=problem.transient)
        return Arrival(name, url, _sha256(body), etag=str(got.get("ETag", "")), data=body)

    @classmethod
    def move(
        cls,
        arrival: Arrival,
        subfolder: str,
        settings: S3Settings,
        reason: str | None,
        sha256: str,
    ) -> str:
        """Copy the version read (``CopySourceIfMatch`` its ETag), then delete the key unless
        a new version came meanwhile. Changed since the run read it: left in the inbox."""
        bucket, key = s3.parse_url(arrival.source)
        if sha256 and (sha256 != arrival.sha256 or not arrival.etag):
            return arrival.source  # changed between listing and reading: the next run sees it
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
        matching = {"CopySourceIfMatch": arrival.etag} if sha256 else {}
        try:
            client.copy_object(
                Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key}, **matching
            )
        except ClientError as error:
            if s3.error_code(error) in ("PreconditionFailed", "412"):
                return arrival.source  # a new version since the run read it
            raise
        if reason is not None:
            note = printable(reason.rstrip()) + "\n"
            client.put_object(Bucket=bucket, Key=f"{target}.reason.txt", Body=note.encode())
        if sha256 and client.head_object(Bucket=bucket, Key=key).get("ETag") != arrival.etag:
            return arrival.source  # written again just now: archived as read, kept as new
        client.delete_object(Bucket=bucket, Key=key)
        return f"s3://{bucket}/{target}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
