"""Reconciliation with Windows Autopilot identities: registered before the first boot."""

from __future__ import annotations

import pandas as pd
import pytest

from eidflow import schema
from eidflow.core import autopilot
from eidflow.core.reconcile import reconcile
from eidflow.core.validate import validate_rows
from tests.core.test_reconcile import aad, entra, inventory, obj
from tests.frames import device, manifest_rows

MIN_OS = "10.0.22621"


def identities(*given: dict[str, str]) -> pd.DataFrame:
    columns = {name: pd.Series([g.get(name, "") for g in given], dtype="str") for name in FIELDS}
    return autopilot.identities_frame(columns)


FIELDS = schema.AUTOPILOT_COLUMNS


def identity(serial: str, n: int, **extra: str) -> dict[str, str]:
    return {
        schema.AP_ID: f"ap-{n}",
        schema.AP_SERIAL: serial,
        schema.AP_AZURE_AD_DEVICE_ID: aad(n),
        schema.AP_MANAGED_DEVICE_ID: "00000000-0000-0000-0000-000000000000",
        schema.AP_ENROLLMENT_STATE: "notContacted",
    } | extra


def reconciled(
    rows: list[dict[str, object]],
    ap: pd.DataFrame | None,
    inv: pd.DataFrame | None = None,
    ent: pd.DataFrame | None = None,
) -> pd.DataFrame:
    return reconcile(validate_rows(manifest_rows(*rows)), inv, ent, MIN_OS, ap)


def test_a_registered_pc_gets_its_entra_object_before_it_enrols() -> None:
    result = reconciled(
        [device(1), device(2)],
        identities(identity(" sn00001 ", 1)),  # normalised as the manifest's serial
        ent=entra((aad(1), obj(1))),
    )
    assert result[schema.INTUNE_STATE].tolist() == ["autopilot_registered", "not_enrolled"]
    assert result[schema.AZURE_AD_DEVICE_ID].tolist() == [aad(1), ""]
    assert result[schema.ENTRA_OBJECT_ID].tolist() == [obj(1), ""]
    assert result[schema.INTUNE_DEVICE_ID].tolist() == ["", ""]
    assert result[schema.WARNINGS].tolist() == ["", ""]


def test_enrolment_outweighs_the_registration() -> None:
    inv = inventory({schema.INV_SERIAL: "SN00001"})  # Intune's record: aad(0)
    result = reconciled(
        [device(1)], identities(identity("SN00001", 7)), inv, entra((aad(0), obj(0)))
    )
    assert result[schema.INTUNE_STATE].tolist() == ["enrolled"]
    assert result[schema.ENTRA_OBJECT_ID].tolist() == [obj(0)]


@pytest.mark.parametrize(
    ("given", "state", "warning"),
    [
        # registered twice: which is this PC is not guessed
        (
            [identity("SN00001", 1), identity("SN00001", 2, **{schema.AP_ID: "ap-other"})],
            "not_enrolled",
            "autopilot_serial_twice",
        ),
        # the same identity on two lines of an export is one identity
        ([identity("SN00001", 1), identity("SN00001", 1)], "autopilot_registered", ""),
        # registered, but its Entra device is not in the Entra devices
        ([identity("SN00001", 9)], "autopilot_registered", "entra_unresolved"),
        # registered, with no Entra device id at all
        (
            [identity("SN00001", 1, **{schema.AP_AZURE_AD_DEVICE_ID: ""})],
            "autopilot_registered",
            "entra_unresolved",
        ),
    ],
)
def test_what_is_reported_not_guessed(
    given: list[dict[str, str]], state: str, warning: str
) -> None:
    result = reconciled([device(1)], identities(*given), ent=entra((aad(1), obj(1))))
    assert result[schema.INTUNE_STATE].tolist() == [state]
    assert result[schema.WARNINGS].tolist() == [warning]
    resolved = state == "autopilot_registered" and not warning
    assert result[schema.ENTRA_OBJECT_ID].tolist() == [obj(1) if resolved else ""]


def test_rows_not_accepted_are_not_matched() -> None:
    result = reconciled(
        [device(1), device(2, serial="SN00001", **{schema.EID_RAW: "123"})],
        identities(identity("SN00001", 1)),
        ent=entra((aad(1), obj(1))),
    )
    assert result[schema.STATUS].tolist() == ["accepted", "rejected"]
    assert result[schema.INTUNE_STATE].tolist() == ["autopilot_registered", ""]


def test_zero_guid_and_braces_are_normalised() -> None:
    frame = identities(
        identity("x1", 1, **{schema.AP_AZURE_AD_DEVICE_ID: "{" + aad(1).upper() + "}"}),
        identity("x2", 2, **{schema.AP_AZURE_AD_DEVICE_ID: autopilot.NO_GUID}),
    )
    assert frame[schema.AP_SERIAL].tolist() == ["X1", "X2"]
    assert frame[schema.AP_AZURE_AD_DEVICE_ID].tolist() == [aad(1), ""]
    assert frame[schema.AP_MANAGED_DEVICE_ID].tolist() == ["", ""]


def test_no_identities_changes_nothing() -> None:
    empty = identities()
    result = reconciled([device(1)], empty)
    assert result[schema.INTUNE_STATE].tolist() == ["not_enrolled"]
    assert autopilot.identities_by_serial(pd.Series(["A"]), empty)[0].tolist() == [0]
