"""The flows' pure parts: which pending devices are ready, artifact contents, retry rule."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from prefect.states import Failed

from eidflow import schema
from eidflow.errors import ConfigError, DeliveryError, InputError, LedgerBusy, ManifestError
from eidflow.graph.devices import entra_frame, inventory_frame
from flows import artifacts, pending
from flows.answers_inbox import AnswersTaken
from flows.reconcile import ReconcileOutcome
from flows.retries import worth_retrying
from tests.flows.tenant import Device

D = [Device(n) for n in range(1, 7)]


def pending_frame(devices: list[Device], operator: str = "contoso-mobile") -> pd.DataFrame:
    return pd.DataFrame(
        {
            schema.EID: [d.eid for d in devices],
            schema.SERIAL_NUMBER: [d.serial for d in devices],
            schema.IMEI: [d.imei for d in devices],
            schema.OPERATOR: operator,
            schema.INTUNE_STATE: "not_enrolled",
        }
    ).astype("str")


def test_only_enrolled_devices_with_an_object_id_become_members() -> None:
    old_os = {**D[2].managed_device(), "osVersion": "10.0.19045.5011"}
    other_imei = {**D[3].managed_device(), "imei": "490154203237518"}
    no_entra = D[4].managed_device()  # enrolled, but not in the Entra list
    inventory = inventory_frame(
        [D[0].managed_device(), D[1].managed_device(), old_os, other_imei, no_entra]
    )
    entra = entra_frame([d.entra_device() for d in D[:4]])

    checked = pending.check_pending(pending_frame(D), inventory, entra, "10.0.22621")

    states = dict(zip(checked[schema.EID], checked[schema.INTUNE_STATE], strict=True))
    assert states == {
        D[0].eid: "enrolled",
        D[1].eid: "enrolled",
        D[2].eid: "os_unsupported",
        D[3].eid: "imei_mismatch",
        D[4].eid: "enrolled",
        D[5].eid: "not_enrolled",
    }
    members = pending.new_members(checked)
    assert members.to_dict("records") == [
        {schema.EID: d.eid, schema.SERIAL_NUMBER: d.serial, schema.ENTRA_OBJECT_ID: d.object_id}
        for d in D[:2]
    ]
    assert pending.state_counts(checked) == {
        "enrolled": 3,
        "imei_mismatch": 1,
        "not_enrolled": 1,
        "os_unsupported": 1,
    }


def test_a_device_handed_to_two_operators_is_one_member() -> None:
    both = pd.concat(
        [pending_frame(D[:1], "op-a"), pending_frame(D[:1], "op-b")], ignore_index=True
    )
    checked = pending.check_pending(
        both,
        inventory_frame([D[0].managed_device()]),
        entra_frame([D[0].entra_device()]),
        "10.0.22621",
    )
    assert pending.new_members(checked)[schema.ENTRA_OBJECT_ID].tolist() == [D[0].object_id]


def test_no_pending_device_gives_no_member() -> None:
    checked = pending.check_pending(pending_frame([]), inventory_frame([]), None, "10.0.22621")
    assert pending.new_members(checked).empty
    assert list(pending.new_members(checked).columns) == list(pending.MEMBER_COLUMNS)


SUMMARY: dict[str, Any] = {
    "run_id": "20261127T101500Z-a1b2c3",
    "counts": {
        "rows": 5,
        "by_status": {"accepted": 3, "rejected": 2},
        "by_reason": {"eid_checksum": 1, "serial_missing": 1},
        "by_intune_state": {"not_enrolled": 3},
    },
    "inputs": [
        {"path": "inbox/a.csv", "kind": "manifest", "rows": 5, "error": None},
        {
            "path": "inbox/b.xlsx",
            "kind": "manifest",
            "rows": 0,
            "error": "b.xlsx: not a workbook | zip",
        },
    ],
    "outputs": [
        {
            "path": "operator/contoso/eids-001.csv",
            "kind": "operator",
            "rows": 3,
            "sha256": "ab" * 32,
        },
        {"path": "receipt.json", "kind": "receipt", "rows": 3, "sha256": "cd" * 32},
    ],
}


def test_count_rows_cover_status_reason_and_intune_state() -> None:
    assert artifacts.count_rows(SUMMARY) == [
        {"dimension": "status", "code": "accepted", "rows": 3},
        {"dimension": "status", "code": "rejected", "rows": 2},
        {"dimension": "reason", "code": "eid_checksum", "rows": 1},
        {"dimension": "reason", "code": "serial_missing", "rows": 1},
        {"dimension": "intune_state", "code": "not_enrolled", "rows": 3},
    ]


def test_handoff_markdown_names_files_destination_receipt_and_errors() -> None:
    text = artifacts.handoff_markdown(SUMMARY, "s3://contoso-esim/handoff/20261127T101500Z-a1b2c3/")
    assert "`s3://contoso-esim/handoff/20261127T101500Z-a1b2c3/`" in text
    assert "| `operator/contoso/eids-001.csv` | operator | 3 | `abababababababab…` |" in text
    assert "Receipt: `receipt.json`." in text
    assert "not a workbook \\| zip" in text  # a | in a reason cannot break the table


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (("watch-inbox", "counts"), "watch-inbox-counts"),
        (("Reconcile_Pending", "Hand off!"), "reconcile-pending-hand-off"),
    ],
)
def test_artifact_keys_are_lowercase_digits_and_dashes(parts: tuple[str, ...], key: str) -> None:
    assert artifacts.artifact_key(*parts) == key


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (ConfigError("bad group id"), False),
        (InputError("inv.csv", "file not found."), False),
        (ManifestError("m.csv", "no EID column."), False),
        (LedgerBusy("ledger busy"), True),
        (DeliveryError("S3 put failed"), True),
        (ConnectionResetError("reset by peer"), True),
    ],
)
def test_io_tasks_retry_hiccups_not_mistakes(error: Exception, retry: bool) -> None:
    assert worth_retrying(None, None, Failed(data=error)) is retry


@pytest.mark.parametrize(
    ("answers", "undone"),
    [
        (None, []),
        (AnswersTaken("in", archived=["a.csv"], not_placed=["b.csv"]), []),
        (
            AnswersTaken("in", quarantined=["a.csv"]),
            ["1 answer file(s) quarantined as unreadable"],
        ),
        (
            AnswersTaken("in", error="NoSuchBucket"),
            ["the answers inbox could not be read (NoSuchBucket)"],
        ),
    ],
)
def test_what_the_answers_inbox_leaves_undone_fails_the_daily_run(
    answers: AnswersTaken | None, undone: list[str]
) -> None:
    assert ReconcileOutcome("run", answers=answers).left_undone() == undone
