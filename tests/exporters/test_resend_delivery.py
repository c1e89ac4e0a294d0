"""``eidflow resend`` delivers like an ingest (S3 behind a proxy, an outbox folder): the
re-send line counts as delivered only once its receipt is; a failed delivery exits 3 and
leaves it undelivered, to be run again; a re-send killed midway is settled by its receipt."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from app.cli import main
from eidflow.ledger import open_ledger
from eidflow.s3 import S3Settings
from tests.ledger.helpers import devices, eid
from tests.s3_server import S3Proxy

ROOT = Path(__file__).parents[2]


def seed_ledger(tmp_path: Path) -> str:
    """A ledger holding one complete ingest: EIDs 1 and 2 delivered to 'unnamed'."""
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = open_ledger(url)
    ledger.begin_run("run-1", str(tmp_path / "run-1"))
    ledger.claim_handoff("run-1", "unnamed", devices((1, "SER-1"), (2, "SER-2")))
    ledger.mark_delivered("run-1", "unnamed", [{"path": "operator/unnamed/a.csv", "rows": 2}])
    ledger.finish_run("run-1", [], {"rows": 2})
    ledger.close()
    return url


def write_config(tmp_path: Path, delivery: str) -> Path:
    config = tmp_path / "eidflow.toml"
    config.write_text(
        f'[ledger]\nurl = "{seed_ledger(tmp_path)}"\n\n[output]\n'
        f'runs_dir = "{tmp_path / "runs"}"\n\n{delivery}'
    )
    return config


def s3_config(tmp_path: Path, store: S3Settings) -> Path:
    return write_config(
        tmp_path,
        '[delivery]\nkind = "s3"\n\n[delivery.s3]\n'
        f'bucket = "{store.bucket}"\nprefix = "{store.prefix}"\nregion = "{store.region}"\n'
        f'endpoint_url = "{store.endpoint_url}"\nmax_attempts = {store.max_attempts}\n',
    )


def resend(config: Path, out: Path) -> Result:
    return CliRunner().invoke(
        main,
        [
            "resend", "SER-2", "--operator", "unnamed", "--reason", "portal lost it",
            "--by", "alice", "--out", str(out), "--config", str(config),
        ],
    )  # fmt: skip


def resend_lines(config: Path) -> list[tuple[str, str]]:
    """(run id, state) of each re-send line of EID 2, as ``eidflow show`` tells it."""
    shown = CliRunner().invoke(main, ["show", eid(2), "--json", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    [story] = json.loads(shown.stdout)["devices"]
    return [(line["run_id"], line["state"]) for line in story["handoffs"] if line["resend_reason"]]


def run_states(config: Path) -> dict[str, tuple[str, str]]:
    shown = CliRunner().invoke(main, ["history", "--json", "--config", str(config)])
    assert shown.exit_code == 0, shown.output
    return {run["run_id"]: (run["kind"], run["state"]) for run in json.loads(shown.stdout)["runs"]}


def s3_objects(store: S3Settings) -> dict[str, bytes]:
    client = boto3.client("s3", endpoint_url=store.endpoint_url, region_name=store.region)
    listing = client.list_objects_v2(Bucket=store.bucket).get("Contents", [])
    return {
        item["Key"]: client.get_object(Bucket=store.bucket, Key=item["Key"])["Body"].read()
        for item in listing
    }


def operator_file(summary: dict[str, Any]) -> str:
    [path] = [item["path"] for item in summary["outputs"] if item["kind"] == "operator"]
    return str(path)


def test_a_resend_is_delivered_to_s3_with_its_receipt(tmp_path: Path, s3_proxy: S3Proxy) -> None:
    config = s3_config(tmp_path, s3_proxy.settings)
    out = tmp_path / "resend-run"
    result = resend(config, out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    run_id, handed = summary["run_id"], operator_file(summary)
    objects = s3_objects(s3_proxy.settings)
    prefix = f"handoff/{run_id}/"
    assert objects[prefix + handed] == (out / handed).read_bytes()
    assert eid(2) in objects[prefix + handed].decode()
    receipt = json.loads(objects[prefix + "receipt.json"])
    assert [item["path"] for item in receipt["files"]] == [handed]
    assert objects[prefix + "receipt.json"] == (out / "receipt.json").read_bytes()
    assert resend_lines(config) == [(run_id, "delivered")]
    assert run_states(config)[run_id] == ("resend", "complete")


def test_a_resend_is_copied_to_the_outbox_folder(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    config = write_config(tmp_path, f'[delivery]\nfolder = "{outbox}"\n')
    out = tmp_path / "resend-run"
    result = resend(config, out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    run_id, handed = summary["run_id"], operator_file(summary)
    assert (outbox / run_id / handed).read_bytes() == (out / handed).read_bytes()
    receipt = json.loads((outbox / run_id / "receipt.json").read_text())
    assert [item["path"] for item in receipt["files"]] == [handed]
    assert resend_lines(config) == [(run_id, "delivered")]


@pytest.mark.parametrize("fail_puts_after", [0, 1])  # nothing arrived; the file but no receipt
def test_a_failed_resend_delivery_exits_3_and_can_be_run_again(
    tmp_path: Path, s3_proxy: S3Proxy, fail_puts_after: int
) -> None:
    config = s3_config(tmp_path, s3_proxy.settings)
    s3_proxy.fail_puts_after = fail_puts_after
    failed = resend(config, tmp_path / "failed")
    assert failed.exit_code == 3, failed.output
    assert failed.stdout == ""
    [line] = failed.stderr.splitlines()
    assert line.startswith("eidflow: Delivery to s3://") and "eidflow resend" in line
    assert "Traceback" not in failed.output
    assert not (tmp_path / "failed" / "summary.json").exists()
    assert not any(key.endswith("receipt.json") for key in s3_objects(s3_proxy.settings))
    [(void_run, state)] = resend_lines(config)
    assert state == "released"
    assert run_states(config)[void_run] == ("resend", "aborted")

    s3_proxy.heal()
    again = resend(config, tmp_path / "again")
    assert again.exit_code == 0, again.output
    run_id = json.loads((tmp_path / "again" / "summary.json").read_text())["run_id"]
    assert sorted(resend_lines(config)) == sorted([(void_run, "released"), (run_id, "delivered")])
    assert f"handoff/{run_id}/receipt.json" in s3_objects(s3_proxy.settings)


DIES_DELIVERING = """
import os, signal, sys
from exporters import delivery
from app.cli import main

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

setattr(delivery, sys.argv[1], killed)
main(sys.argv[2:])
"""


@pytest.mark.parametrize(
    ("dies_in", "settled"),
    [
        ("_put_receipt", ("abandoned", "released")),  # the file is in S3, no receipt: void
        ("_write_local_receipt", ("recovered", "delivered")),  # receipt in S3: handed off
    ],
)
def test_a_resend_killed_while_delivering_is_settled_by_its_s3_receipt(
    tmp_path: Path, s3_proxy: S3Proxy, dies_in: str, settled: tuple[str, str]
) -> None:
    """The next run settles the dead re-send like any run: its lines stand only if its
    receipt reached S3 (the operator may have taken the files), else they are released."""
    config = s3_config(tmp_path, s3_proxy.settings)
    command = [
        sys.executable, "-c", DIES_DELIVERING, dies_in, "resend", "SER-2",
        "--operator", "unnamed", "--reason", "lost", "--out", str(tmp_path / "dead"),
        "--config", str(config),
    ]  # fmt: skip
    child = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert not (tmp_path / "dead" / "summary.json").exists()
    receipts = [key for key in s3_objects(s3_proxy.settings) if key.endswith("receipt.json")]
    assert len(receipts) == (settled[1] == "delivered")
    [(dead_run, state)] = resend_lines(config)
    assert state == "staged"

    later = resend(config, tmp_path / "later")  # its run settles the dead one
    assert later.exit_code == 0, later.output
    assert run_states(config)[dead_run] == ("resend", settled[0])
    assert (dead_run, settled[1]) in resend_lines(config)


def test_a_resend_failing_after_its_s3_receipt_keeps_its_line(
    tmp_path: Path, s3_proxy: S3Proxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up as the local receipt is written, after the receipt reached S3:
    the operator may take the file, so the line is not released; the next run settles it."""
    from exporters import delivery

    config = s3_config(tmp_path, s3_proxy.settings)

    def disk_full(run_dir: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device", str(run_dir / "receipt.json"))

    with monkeypatch.context() as patched:
        patched.setattr(delivery, "_write_local_receipt", disk_full)
        failed = resend(config, tmp_path / "failed")
    assert failed.exit_code == 3, failed.output
    assert "No space left on device" in failed.stderr
    [(run_id, state)] = resend_lines(config)
    assert state == "staged"  # held, not released

    later = resend(config, tmp_path / "later")  # its run settles the failed one
    assert later.exit_code == 0, later.output
    assert run_states(config)[run_id] == ("resend", "recovered")
    assert (run_id, "delivered") in resend_lines(config)
