"""The eSIM policy's statuses and the device-reported EIDs, joined to the PCs handed off."""

from __future__ import annotations

import doctest
import hashlib

import pandas as pd
import pytest

from eidflow.core import profile_status as p
from tests.frames import make_eid

EID = make_eid(1)
OTHER = make_eid(2)


def test_the_doctests_hold() -> None:
    assert doctest.testmod(p).failed == 0


@pytest.mark.parametrize(
    ("policy_status", "status"),
    [
        ("Succeeded", p.APPLIED),
        ("compliant", p.APPLIED),
        ("2", p.APPLIED),
        ("3", p.APPLIED),
        ("Error", p.ERROR),
        ("5", p.ERROR),
        ("Non-compliant", p.ERROR),
        ("Conflict", p.CONFLICT),
        ("6", p.CONFLICT),
        ("Not applicable", p.NOT_APPLICABLE),
        ("1", p.NOT_APPLICABLE),
        ("In progress", p.PENDING),
        ("0", p.PENDING),
        ("", p.PENDING),
    ],
)
def test_each_policy_status_has_one_status(policy_status: str, status: str) -> None:
    assert p.status_of(pd.Series([policy_status])).tolist() == [status]


@pytest.mark.parametrize(
    ("reported", "check"),
    [
        (EID, p.CONFIRMED),
        (EID.lower(), p.CONFIRMED),
        (hashlib.sha256(EID.encode()).hexdigest(), p.CONFIRMED),
        (hashlib.sha256(EID.encode()).hexdigest().upper(), p.CONFIRMED),
        (OTHER, p.DIFFERS),
        (hashlib.sha256(OTHER.encode()).hexdigest(), p.DIFFERS),
        ("", p.UNKNOWN),
        ("  ", p.UNKNOWN),
    ],
)
def test_the_device_eid_confirms_differs_or_is_unknown(reported: str, check: str) -> None:
    assert p.eid_check(pd.Series([EID]), pd.Series([reported])).tolist() == [check]


def frame(**columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype="str")


def test_join_by_serial_keeps_ours_and_names_the_others() -> None:
    statuses = frame(
        intune_device_id=["d1", "d2", "d9", "d8"],
        device_name=["PC1", "PC2", "FOREIGN", "UNKNOWN"],
        policy_status=["Succeeded", "Error", "Succeeded", "Error"],
        reported_at=["t1", "t2", "t9", "t8"],
    )
    inventory = frame(
        intune_device_id=["d1", "d2", "d3", "d9"],
        serial_number=["S1", "S2", "S3", "S9"],
        device_eid=[EID, "", OTHER, ""],
    )
    claims = frame(
        eid=[EID, make_eid(3), make_eid(4), make_eid(5)],
        operator=["op"] * 4,
        serial_number=["S1", "S2", "S3", "S4"],
    )

    ours, foreign = p.join(statuses, inventory, claims)

    by_serial = ours.set_index("serial_number")
    assert by_serial["status"].to_dict() == {"S1": "applied", "S2": "error", "S3": ""}
    # S3 is not in the report but reports an EID (not its own): recorded as differs.
    assert by_serial["eid_check"].to_dict() == {"S1": "confirmed", "S2": "unknown", "S3": "differs"}
    assert by_serial.loc["S1", "reported_at"] == "t1"
    assert foreign["device_name"].tolist() == ["FOREIGN", "UNKNOWN"]


def test_join_of_an_empty_report_records_nothing() -> None:
    empty = frame(intune_device_id=[], device_name=[], policy_status=[], reported_at=[])
    inventory = frame(intune_device_id=["d1"], serial_number=["S1"], device_eid=[""])
    claims = frame(eid=[EID], operator=["op"], serial_number=["S1"])
    ours, foreign = p.join(empty, inventory, claims)
    assert ours.empty and foreign.empty
