"""A whole ingest delivering to S3 (moto behind a proxy): a failed delivery hands nothing off,
the rerun completes, and no EID is delivered twice to the operator."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from app.pipeline import IngestRequest, run_ingest
from app.settings import Settings
from eidflow.errors import DeliveryError
from exporters import delivery
from exporters.config import DeliverySettings
from tests.s3_server import S3Proxy

SAMPLES = Path(__file__).parents[2] / "data" / "samples"
MANIFESTS = [
    str(SAMPLES / "lenovo-shipment-4401190.csv"),
    str(SAMPLES / "dell-asn-PO-2026-1187.xlsx"),
]


def settings_for(tmp_path: Path, proxy: S3Proxy) -> Settings:
    return Settings.model_validate(
        {
            "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
            "delivery": DeliverySettings(kind="s3", s3=proxy.settings).model_dump(),
        }
    )


def ingest(tmp_path: Path, settings: Settings, name: str) -> Path:
    request = IngestRequest(manifests=MANIFESTS, out_dir=tmp_path / name)
    return run_ingest(request, settings).run_dir


def delivered_eids(proxy: S3Proxy) -> list[str]:
    """EIDs in the operator objects of every S3 delivery that has a receipt."""
    settings = proxy.settings
    client = boto3.client("s3", endpoint_url=settings.endpoint_url, region_name=settings.region)
    listing = client.list_objects_v2(Bucket=settings.bucket).get("Contents", [])
    keys = [item["Key"] for item in listing]
    eids = []
    for receipt in (key for key in keys if key.endswith("/receipt.json")):
        prefix = receipt.removesuffix("receipt.json")
        body = json.loads(client.get_object(Bucket=settings.bucket, Key=receipt)["Body"].read())
        for entry in body["files"]:
            if entry["kind"] == "operator":
                data = client.get_object(Bucket=settings.bucket, Key=prefix + entry["path"])
                rows = csv.DictReader(io.StringIO(data["Body"].read().decode()))
                eids += [row["EID"] for row in rows]
    return eids


def test_failed_s3_delivery_then_rerun_delivers_each_eid_once(
    tmp_path: Path, s3_proxy: S3Proxy
) -> None:
    settings = settings_for(tmp_path, s3_proxy)
    s3_proxy.fail_puts_after = 1  # the operator file arrives, then S3 answers 500 for good
    with pytest.raises(DeliveryError, match=r"Not delivered:.*decisions\.csv"):
        ingest(tmp_path, settings, "run-a")
    failed = tmp_path / "run-a"
    assert not (failed / "receipt.json").exists()
    assert not (failed / "summary.json").exists()
    assert delivered_eids(s3_proxy) == []  # the object that arrived has no receipt: void

    s3_proxy.heal()
    done = ingest(tmp_path, settings, "run-b")
    assert (done / "receipt.json").exists() and (done / "summary.json").exists()
    first = delivered_eids(s3_proxy)
    assert first, "the rerun hands the EIDs off again"
    assert len(first) == len(set(first))

    again = ingest(tmp_path, settings, "run-c")  # same manifests: nothing new to hand off
    assert (again / "summary.json").exists()
    assert sorted(delivered_eids(s3_proxy)) == sorted(first)


def test_ingest_reads_manifests_from_s3_and_names_a_missing_one(
    tmp_path: Path, s3_proxy: S3Proxy
) -> None:
    store = s3_proxy.settings
    client = boto3.client("s3", endpoint_url=store.endpoint_url, region_name=store.region)
    client.put_object(
        Bucket=store.bucket, Key="inbox/lenovo.csv", Body=Path(MANIFESTS[0]).read_bytes()
    )
    settings = Settings.model_validate(
        {
            "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
            "delivery": {"kind": "folder", "s3": store.model_dump()},
        }
    )
    present, missing = (
        f"s3://{store.bucket}/inbox/lenovo.csv",
        f"s3://{store.bucket}/inbox/gone.csv",
    )
    result = run_ingest(
        IngestRequest(manifests=[present, missing], out_dir=tmp_path / "r"), settings
    )
    assert result.exit_code == 1
    inputs = {item["path"]: item for item in result.summary["inputs"]}
    assert inputs[present]["rows"] > 0 and not inputs[present].get("error")
    assert "file not found" in inputs[missing]["error"]


DIES_AFTER_THE_S3_RECEIPT = """
import os, signal, sys
from pathlib import Path
from app.pipeline import IngestRequest, run_ingest
from app.settings import Settings
from exporters import delivery

def killed(run_dir, data):  # the S3 receipt is up; the local one is never written
    os.kill(os.getpid(), signal.SIGKILL)

delivery._write_local_receipt = killed
settings = Settings.model_validate_json(sys.argv[1])
run_ingest(IngestRequest(manifests=sys.argv[3:], out_dir=Path(sys.argv[2])), settings)
"""


@pytest.mark.parametrize("moved", [False, True])
def test_a_run_killed_after_its_s3_receipt_counts_as_handed_off(
    tmp_path: Path, s3_proxy: S3Proxy, moved: bool
) -> None:
    """The operator may take the files as soon as the receipt is in S3: the next run must
    not hand those EIDs off again, although the dead run's folder has no receipt, and
    although the next run delivers elsewhere (``moved``: another prefix configured)."""
    settings = settings_for(tmp_path, s3_proxy)
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            DIES_AFTER_THE_S3_RECEIPT,
            settings.model_dump_json(),
            str(tmp_path / "run-a"),
            *MANIFESTS,
        ],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert not (tmp_path / "run-a" / "receipt.json").exists()
    first = delivered_eids(s3_proxy)
    assert first, "the dead run's delivery is whole in S3"

    if moved:
        moved_s3 = settings.delivery.s3.model_copy(update={"prefix": "moved"})
        settings = settings.model_copy(
            update={"delivery": settings.delivery.model_copy(update={"s3": moved_s3})}
        )
    ingest(tmp_path, settings, "run-b")
    assert sorted(delivered_eids(s3_proxy)) == sorted(first)  # nothing handed off twice


def test_a_run_failing_after_its_s3_receipt_keeps_its_claims(
    tmp_path: Path, s3_proxy: S3Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up as the local receipt is written, after the receipt reached S3:
    the operator may take the files, so the run's claims must not be released."""
    settings = settings_for(tmp_path, s3_proxy)

    def disk_full(run_dir: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device", str(run_dir / "receipt.json"))

    with monkeypatch.context() as patched:
        patched.setattr(delivery, "_write_local_receipt", disk_full)
        with pytest.raises(OSError, match="No space left"):
            ingest(tmp_path, settings, "run-a")
    first = delivered_eids(s3_proxy)
    assert first, "the failed run's delivery is whole in S3"

    ingest(tmp_path, settings, "run-b")  # settles run-a as handed off; sends nothing again
    assert sorted(delivered_eids(s3_proxy)) == sorted(first)
