"""Deliver a run's hand-off files to a folder or S3, then write the receipt last.

The receipt (``receipt.json``: run id, files, rows, sha256 of each) is the proof a
delivery is whole. It is written only after every file arrived and was verified: in
S3 beside the files first, then in the run folder. Objects under ``<prefix>/<run_id>/``
without a receipt are a failed delivery and void; a rerun has a new run id, so it never
overwrites them (puts are conditional: ``If-None-Match: *``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eidflow import s3
from eidflow.errors import DeliveryError
from eidflow.s3 import S3Settings
from exporters.config import DeliverySettings
from exporters.files import OutputFile, atomic_path, sha256_file, write_bytes_atomic

RECEIPT_FILE = "receipt.json"
CONTENT_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def deliver(
    run_dir: Path,
    files: list[OutputFile],
    run_id: str,
    settings: DeliverySettings,
    before_receipt: Callable[[], None] = lambda: None,
) -> list[OutputFile]:
    """Hand ``files`` (paths relative to ``run_dir``) over, then write the receipt.

    ``before_receipt`` runs once the files are there and before the receipt makes them
    count (S3, an outbox): the ledger's last word that the run's claims still stand.
    Returns what the delivery itself wrote in the run folder: ``[receipt.json]``.
    Raises :class:`DeliveryError` naming what was delivered and what not.
    """
    if settings.kind == "s3" or settings.folder:
        # Files leave the run folder: they must be what was written (in place, they are).
        for output in files:
            _check_unchanged(run_dir, output)
    destination = destination_of(settings, run_dir, run_id)
    receipt = receipt_bytes(run_id, destination, files)
    if settings.kind == "s3":
        receipt = _deliver_s3(run_dir, files, run_id, settings.s3, receipt, before_receipt)
    elif settings.folder:
        _deliver_folder(run_dir, files, Path(destination), receipt, before_receipt)
    return [_write_local_receipt(run_dir, receipt)]


def destination_of(settings: DeliverySettings, run_dir: Path, run_id: str) -> str:
    """Where the files go: ``s3://bucket/prefix/run_id/``, a folder, or the run folder itself.

    Folders as absolute paths: a run that settles this one after a crash may work
    elsewhere, and must look for the receipt where this run put it.
    """
    if settings.kind == "s3":
        return f"s3://{settings.s3.bucket}/{object_prefix(settings.s3, run_id)}"
    return str((Path(settings.folder) / run_id if settings.folder else run_dir).resolve())


def receipt_at(destination: str, settings: DeliverySettings) -> dict[str, Any] | None:
    """The receipt at a delivery destination (``s3://bucket/prefix/run/`` or a folder), or
    None. S3 is asked with this configuration's endpoint, region and credentials; one that
    cannot be asked raises DeliveryError."""
    try:
        data = (
            _s3_receipt(destination, settings)
            if destination.startswith("s3://")
            else (Path(destination) / RECEIPT_FILE).read_bytes()
        )
    except FileNotFoundError:
        return None
    if data is None:
        return None
    document = json.loads(data)
    return document if isinstance(document, dict) else None


def _s3_receipt(destination: str, settings: DeliverySettings) -> bytes | None:
    """The receipt's bytes at ``s3://bucket/prefix/run/``, or None when there is none."""
    from botocore.exceptions import BotoCoreError, ClientError  # only where S3 is used

    bucket, prefix = s3.parse_url(destination)
    located = settings.s3.model_copy(update={"bucket": bucket})
    try:
        return s3.get_bytes(s3.make_client(located), located, prefix + RECEIPT_FILE)
    except ClientError as error:
        if s3.error_code(error) in s3.NOT_FOUND:
            return None
        raise DeliveryError(
            f"Could not look for the receipt at {destination} ({error}).",
            todo="Check access to the delivery bucket, then retry.",
        ) from None
    except BotoCoreError as error:
        raise DeliveryError(
            f"Could not look for the receipt at {destination} ({error}).",
            todo="Check network access to S3, then retry.",
        ) from None


def receipt_document(run_id: str, destination: str, files: list[OutputFile]) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "destination": destination,
        "delivered_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files": [
            {"path": output.path, "kind": output.kind, "rows": output.rows, "sha256": output.sha256}
            for output in files
        ],
    }


def receipt_bytes(run_id: str, destination: str, files: list[OutputFile]) -> bytes:
    document = receipt_document(run_id, destination, files)
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _write_local_receipt(run_dir: Path, data: bytes) -> OutputFile:
    digest = write_bytes_atomic(run_dir / RECEIPT_FILE, data)
    count = len(json.loads(data)["files"])
    return OutputFile(path=RECEIPT_FILE, rows=count, sha256=digest, kind="receipt")


def _check_unchanged(run_dir: Path, output: OutputFile) -> None:
    path = run_dir / output.path
    if not path.is_file():
        raise DeliveryError(
            f"{path}: hand-off file missing before delivery.",
            todo="Nothing was delivered. Rerun eidflow ingest.",
        )
    if sha256_file(path) != output.sha256:
        raise DeliveryError(
            f"{path}: changed after it was written (SHA-256 differs).",
            todo="Nothing was delivered. Do not edit hand-off files; rerun eidflow ingest.",
        )


def _deliver_s3(
    run_dir: Path,
    files: list[OutputFile],
    run_id: str,
    settings: S3Settings,
    receipt: bytes,
    before_receipt: Callable[[], None],
) -> bytes:
    """Put every file, then the receipt; return the receipt S3 holds."""
    from botocore.exceptions import BotoCoreError, ClientError

    prefix = object_prefix(settings, run_id)
    destination = f"s3://{settings.bucket}/{prefix}"
    client = s3.make_client(settings)
    done: list[str] = []
    receipt_tmp = run_dir / f".{RECEIPT_FILE}.s3"
    try:
        for output in files:
            _put(
                client, settings, prefix + output.path, run_dir / output.path, output.sha256, run_id
            )
            done.append(output.path)
        before_receipt()
        receipt = _put_receipt(
            client, settings, prefix + RECEIPT_FILE, receipt_tmp, receipt, run_id
        )
    except (ClientError, BotoCoreError, s3.ChecksumMismatch, OSError) as error:
        raise _delivery_error(destination, files, done, error) from None
    finally:
        receipt_tmp.unlink(missing_ok=True)
    return receipt


def _put_receipt(
    client: Any, settings: S3Settings, key: str, tmp: Path, receipt: bytes, run_id: str
) -> bytes:
    """Put the receipt; one already there for the same files (a repeated delivery) stands."""
    tmp.write_bytes(receipt)
    try:
        _put(client, settings, key, tmp, sha256_file(tmp), run_id)
    except s3.ObjectExists:
        existing = s3.get_bytes(client, settings, key)
        if not _same_delivery(existing, receipt):
            raise
        return existing
    return receipt


def _same_delivery(existing: bytes, receipt: bytes) -> bool:
    try:
        held = json.loads(existing)
    except ValueError:
        return False
    ours = json.loads(receipt)
    return bool(
        isinstance(held, dict)
        and held.get("run_id") == ours["run_id"]
        and held.get("files") == ours["files"]
    )


def object_prefix(settings: S3Settings, run_id: str) -> str:
    """``<prefix>/<run_id>/``: each run's objects apart, recognisable by their receipt."""
    base = settings.prefix.strip("/")
    return f"{base}/{run_id}/" if base else f"{run_id}/"


def _put(client: Any, settings: S3Settings, key: str, path: Path, sha256: str, run_id: str) -> None:
    s3.put_verified(
        client,
        settings,
        key,
        path,
        sha256,
        content_type=CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream"),
        metadata={"eidflow-run-id": run_id, "eidflow-sha256": sha256},
    )


def _deliver_folder(
    run_dir: Path,
    files: list[OutputFile],
    target: Path,
    receipt: bytes,
    before_receipt: Callable[[], None],
) -> None:
    done: list[str] = []
    try:
        for output in files:
            _copy_verified(run_dir / output.path, target / output.path, output.sha256)
            done.append(output.path)
        before_receipt()
        write_bytes_atomic(target / RECEIPT_FILE, receipt)
    except (OSError, s3.ChecksumMismatch) as error:
        raise _delivery_error(str(target), files, done, error) from None


def _copy_verified(source: Path, final: Path, sha256: str) -> None:
    if final.exists():
        if sha256_file(final) == sha256:
            return  # delivered by an earlier attempt of this run
        raise s3.ChecksumMismatch(f"{final} already exists with other content; never overwritten")
    with atomic_path(final) as tmp:
        shutil.copyfile(source, tmp)
        if sha256_file(tmp) != sha256:
            raise s3.ChecksumMismatch(f"copy of {source} to {final} does not match its SHA-256")


def _delivery_error(
    destination: str, files: list[OutputFile], done: list[str], error: BaseException
) -> DeliveryError:
    pending = [output.path for output in files if output.path not in done]
    delivered = ", ".join(done) or "none"
    return DeliveryError(
        f"Delivery to {destination} failed: {error}. "
        f"Delivered: {delivered}. Not delivered: {', '.join(pending) or 'receipt.json'}.",
        todo=(
            "No receipt was written, so this delivery is void and its EIDs stay undelivered "
            "in the ledger. Fix the cause (network, credentials, bucket policy) and rerun "
            "eidflow ingest: the rerun writes under a new run id and never overwrites."
        ),
    )
