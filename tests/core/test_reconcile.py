"""Reconciliation with the Intune inventory and Entra devices."""

from __future__ import annotations

import uuid

import pandas as pd
import pytest

from eidflow import schema
from eidflow.core.reconcile import os_below, reconcile
from eidflow.core.validate import validate_rows
from tests.frames import device, make_imei, manifest_rows

MIN_OS = "10.0.22621"


def aad(n: int) -> str:
    """The Entra deviceId of the n-th inventory record (Intune's Azure AD Device ID)."""
    return str(uuid.UUID(int=0xAAD << 64 | n))


def obj(n: int) -> str:
    """An Entra device object id."""
    return str(uuid.UUID(int=0x0B1 << 64 | n))


def inventory(*records: dict[str, object]) -> pd.DataFrame:
    rows = []
    for n, given in enumerate(records):
        row = {name: "" for name in schema.INVENTORY_COLUMNS} | {
            schema.INV_DEVICE_ID: f"intune-{n}",
            schema.INV_AZURE_AD_DEVICE_ID: aad(n),
            schema.INV_OS_VERSION: "10.0.26100.2314",
            schema.INV_LAST_CHECK_IN: "2026-11-26T10:00:00Z",
        }
        rows.append(row | given)
    frame = pd.DataFrame(rows, columns=list(schema.INVENTORY_COLUMNS))
    frame[schema.INV_LAST_CHECK_IN] = pd.to_datetime(frame[schema.INV_LAST_CHECK_IN], utc=True)
    return frame


def entra(*pairs: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [(d, o, "") for d, o in pairs], columns=list(schema.ENTRA_COLUMNS), dtype="str"
    )


def reconciled(
    rows: list[dict[str, object]], inv: pd.DataFrame | None, ent: pd.DataFrame | None = None
) -> pd.DataFrame:
    return reconcile(validate_rows(manifest_rows(*rows)), inv, ent, MIN_OS)


def test_without_inventory_nothing_is_enrolled() -> None:
    result = reconciled([device(1)], None)
    assert result[schema.INTUNE_STATE].tolist() == ["not_enrolled"]


def test_the_states() -> None:
    inv = inventory(
        {schema.INV_SERIAL: "SN00001", schema.INV_IMEI: make_imei(1)},
        {schema.INV_SERIAL: "SN00002", schema.INV_IMEI: make_imei(99)},
        {schema.INV_SERIAL: "SN00003", schema.INV_OS_VERSION: "10.0.19045.5131"},
    )
    rows = [device(1), device(2), device(3), device(4)]
    result = reconciled(rows, inv, entra((aad(0), obj(0)), (aad(1), obj(1)), (aad(2), obj(2))))
    assert result[schema.INTUNE_STATE].tolist() == [
        "enrolled",
        "imei_mismatch",
        "os_unsupported",
        "not_enrolled",
    ]
    assert result[schema.ENTRA_OBJECT_ID].tolist() == [obj(0), "", "", ""]


def test_serial_match_ignores_case_and_spaces() -> None:
    inv = inventory({schema.INV_SERIAL: "PF4A1B2C"})
    assert reconciled([device(1, serial=" pf4a1b2c")], inv)[schema.INTUNE_STATE].tolist() == [
        "enrolled"
    ]


def test_the_latest_check_in_is_the_current_record() -> None:
    inv = inventory(
        {
            schema.INV_SERIAL: "SN00001",
            schema.INV_OS_VERSION: "10.0.26100.1",
            schema.INV_LAST_CHECK_IN: "2026-11-26T10:00:00Z",
        },
        {
            schema.INV_SERIAL: "SN00001",
            schema.INV_OS_VERSION: "10.0.19045.1",
            schema.INV_LAST_CHECK_IN: "2026-10-01T10:00:00Z",
        },
    )
    result = reconciled([device(1)], inv, entra((aad(0), obj(10)), (aad(1), obj(11))))
    assert (result[schema.INTUNE_STATE].iloc[0], result[schema.ENTRA_OBJECT_ID].iloc[0]) == (
        "enrolled",
        obj(10),
    )


def test_the_second_imei_counts_as_a_match() -> None:
    inv = inventory({schema.INV_SERIAL: "SN00001", schema.INV_IMEI: make_imei(7)})
    rows = [device(1, **{schema.IMEI2_RAW: make_imei(7)})]
    assert reconciled(rows, inv)[schema.INTUNE_STATE].tolist() == ["enrolled"]


def test_enrolled_without_entra_object_is_warned_and_left_out() -> None:
    result = reconciled([device(1)], inventory({schema.INV_SERIAL: "SN00001"}), entra())
    assert (result[schema.ENTRA_OBJECT_ID].iloc[0], result[schema.WARNINGS].iloc[0]) == (
        "",
        "entra_unresolved",
    )


@pytest.mark.parametrize(
    "object_id", ["not-a-guid", "{" + obj(0) + "}", obj(0).upper(), obj(0) + " ", "=cmd|x"]
)
def test_an_object_id_that_is_not_a_guid_is_none_and_warned(object_id: str) -> None:
    # The parsers and the Graph reader compact GUIDs; what is still not one names no object.
    inv = inventory({schema.INV_SERIAL: "SN00001"})
    result = reconciled([device(1)], inv, entra((aad(0), object_id)))
    assert (result[schema.ENTRA_OBJECT_ID].iloc[0], result[schema.WARNINGS].iloc[0]) == (
        "",
        "entra_unresolved",
    )


def test_the_first_line_with_a_usable_object_id_resolves_the_device() -> None:
    inv = inventory({schema.INV_SERIAL: "SN00001"})
    result = reconciled([device(1)], inv, entra((aad(0), "not-a-guid"), (aad(0), obj(1))))
    assert result[schema.ENTRA_OBJECT_ID].tolist() == [obj(1)]


@pytest.mark.parametrize("device_id", ["", "n/a"])
def test_a_device_id_that_is_not_a_guid_matches_nothing(device_id: str) -> None:
    # An Intune record without an Entra registration must not take an Entra line's object
    # id because both happen to hold the same non-id.
    inv = inventory({schema.INV_SERIAL: "SN00001", schema.INV_AZURE_AD_DEVICE_ID: device_id})
    result = reconciled([device(1)], inv, entra((device_id, obj(0))))
    assert (result[schema.ENTRA_OBJECT_ID].iloc[0], result[schema.WARNINGS].iloc[0]) == (
        "",
        "entra_unresolved",
    )


@pytest.mark.parametrize(
    ("version", "warned"),
    [("10.0.26100.2314", False), ("", True), ("Unknown", True), ("banana", True)],
)
def test_an_os_version_that_says_nothing_is_warned(version: str, warned: bool) -> None:
    inv = inventory({schema.INV_SERIAL: "SN00001", schema.INV_OS_VERSION: version})
    result = reconciled([device(1)], inv, entra((aad(0), obj(0))))
    assert result[schema.INTUNE_STATE].tolist() == ["enrolled"]
    assert (result[schema.WARNINGS].iloc[0] == "os_version_unknown") is warned


def test_rejected_rows_get_no_state() -> None:
    rows = [device(1, **{schema.EID_RAW: ""})]
    assert reconciled(rows, inventory({schema.INV_SERIAL: "SN00001"}))[
        schema.INTUNE_STATE
    ].tolist() == [""]


@pytest.mark.parametrize(
    ("version", "below"),
    [
        ("10.0.22621", False),
        ("10.0.22621.4460", False),
        ("10.0.22620.9999", True),
        ("10.0.19045.5131", True),
        ("10.0.26100", False),
        ("11.0", False),
        ("", False),
        ("unknown", False),
    ],
)
def test_os_versions_compare_part_by_part(version: str, below: bool) -> None:
    assert os_below(pd.Series([version]), MIN_OS).tolist() == [below]


def test_manufacturer_and_model_left_out_come_from_intune_and_say_so() -> None:
    inv = inventory(
        {schema.INV_SERIAL: "SN00001", "manufacturer": "LENOVO", "model": "21KC0046GE"},
        {schema.INV_SERIAL: "SN00002", "manufacturer": "Dell Inc.", "model": "Latitude 7450"},
        {schema.INV_SERIAL: "SN00003", "manufacturer": "HP", "model": "EliteBook 840"},
    )
    rows = [
        device(1),  # neither in the manifest
        device(2, manufacturer="Dell", model="Latitude 7450 5G"),  # the manifest's stay
        device(3, manufacturer="HP"),  # only the model is missing
        device(4),  # not in Intune: nothing to fill
        device(5, eid_raw="12"),  # rejected: not reconciled
    ]
    result = reconciled(rows, inv)
    assert result["manufacturer"].tolist() == ["LENOVO", "Dell", "HP", "", ""]
    assert result["model"].tolist() == ["21KC0046GE", "Latitude 7450 5G", "EliteBook 840", "", ""]
    marked = ["model_from_intune" in str(w).split(";") for w in result[schema.WARNINGS]]
    assert marked == [True, False, True, False, False]
