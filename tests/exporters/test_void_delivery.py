"""``eidflow void`` delivers its withdrawal file like a hand-off, to S3 behind a proxy on
moto's server: the receipt last; a failed delivery exits 3 and leaves the withdrawal owed,
and the next void delivers it, once."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from app.cli import main
from tests.exporters.test_resend_delivery import s3_config, s3_objects
from tests.ledger.helpers import eid
from tests.s3_server import S3Proxy


def void(config: Path) -> Result:
    return CliRunner().invoke(
        main,
        [
            "void", "run-1", "--operator", "operator", "--reason", "columns swapped",
            "--apply", "--config", str(config), "--json",
        ],
    )  # fmt: skip


def withdrawals(objects: dict[str, bytes]) -> dict[str, bytes]:
    """The withdrawal files in the bucket whose run's receipt is there too."""
    return {
        key: data
        for key, data in objects.items()
        if "_withdrawal_" in key and key.split("/operator/")[0] + "/receipt.json" in objects
    }


def test_a_void_is_delivered_to_s3_with_its_receipt(tmp_path: Path, s3_proxy: S3Proxy) -> None:
    config = s3_config(tmp_path, s3_proxy.settings)
    done = void(config)
    assert done.exit_code == 0, done.output
    applied = json.loads(done.stdout)["applied"]
    [(key, data)] = withdrawals(s3_objects(s3_proxy.settings)).items()
    assert key == f"handoff/{applied['run_id']}/operator/operator/operator_withdrawal_run-1.csv"
    assert data.decode().splitlines()[1:] == [
        f"{eid(1)},SER-1,run-1,columns swapped",
        f"{eid(2)},SER-2,run-1,columns swapped",
    ]
    assert (Path(applied["run_dir"]) / "summary.json").is_file()


def test_a_failed_void_delivery_is_owed_and_delivered_once_by_the_next_void(
    tmp_path: Path, s3_proxy: S3Proxy
) -> None:
    config = s3_config(tmp_path, s3_proxy.settings)
    s3_proxy.fail_puts_after = 1  # the file arrives, its receipt does not
    failed = void(config)
    assert failed.exit_code == 3, failed.output
    assert "eidflow void run-1 --operator operator --apply again" in failed.stderr
    assert not withdrawals(s3_objects(s3_proxy.settings))
    shown = CliRunner().invoke(main, ["show", eid(1), "--json", "--config", str(config)])
    [story] = json.loads(shown.stdout)["devices"]
    assert [line["withdrawal"] for line in story["corrections"]] == ["owed"]

    s3_proxy.heal()
    again = void(config)
    assert again.exit_code == 0, again.output
    assert len(withdrawals(s3_objects(s3_proxy.settings))) == 1
    third = void(config)
    assert third.exit_code == 0 and json.loads(third.stdout)["state"] == "withdrawn"
    assert len(withdrawals(s3_objects(s3_proxy.settings))) == 1
