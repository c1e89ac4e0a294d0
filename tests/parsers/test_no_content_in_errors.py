"""An error about a file describes it and never quotes it: a file that is no manifest (a
password file, an env file with keys, given by mistake or through a link) must not have its
lines copied into stderr, summary.json, report.xlsx or a quarantine reason."""

from __future__ import annotations

import pytest

from eidflow.errors import InputError, ManifestError
from parsers import read_entra_devices, read_intune_inventory, read_manifest
from tests.parsers.fixtures import VALID_EID, xlsx_bytes

SECRET = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYzEXAMPLEKEY"

NOT_MANIFESTS = {
    "passwd": f"root:x:0:0:{SECRET}:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n",
    "env": f"AWS_ACCESS_KEY_ID=AKIAEXAMPLE\nAWS_SECRET_ACCESS_KEY={SECRET}\n",
    "ini": f"[default]\ntoken = {SECRET}\n",
    "csv": f"user,password\nadmin,{SECRET}\n",
}


@pytest.mark.parametrize("text", NOT_MANIFESTS.values(), ids=NOT_MANIFESTS.keys())
@pytest.mark.parametrize("name", ["m.csv", "m.txt", "m"])
def test_no_device_table_says_so_without_quoting_the_file(name: str, text: str) -> None:
    with pytest.raises(ManifestError) as caught:
        read_manifest(name, text.encode())
    message = str(caught.value)
    assert "no device table" in message
    assert SECRET not in message and "root:x" not in message and "AKIA" not in message


@pytest.mark.parametrize(
    "header",
    [
        f"Serial Number,Model,{SECRET}",  # a table without an EID column
        f"EID,eSIM EID,Serial,{SECRET}",  # two EID columns
        f"EID,Serial Number,Service Tag,{SECRET}",  # two serial columns
    ],
)
def test_a_header_row_is_described_not_quoted(header: str) -> None:
    row = ",".join([VALID_EID, *"ABC"][: header.count(",") + 1])
    with pytest.raises(ManifestError) as caught:
        read_manifest("m.csv", f"{header}\n{row}\n".encode())
    message = str(caught.value)
    assert "[parsers.profiles." in message  # what to do
    assert SECRET not in message


def test_a_workbook_sheet_without_an_eid_is_described_not_quoted() -> None:
    data = xlsx_bytes({"S": [["Serial Number", "Model", SECRET], ["X1", "M", "x"]]})
    with pytest.raises(ManifestError) as caught:
        read_manifest("book.xlsx", data)
    assert "no EID column" in str(caught.value) and SECRET not in str(caught.value)


def test_a_binary_file_named_xlsx_is_described_not_quoted() -> None:
    data = b"\x01\x02SECRETKEY" + bytes(range(32)) * 10
    with pytest.raises(ManifestError) as caught:
        read_manifest("m.xlsx", data)
    assert "not a workbook" in str(caught.value)
    assert "SECRETKEY" not in str(caught.value) and "\\x01" not in str(caught.value)


@pytest.mark.parametrize("reader", [read_intune_inventory, read_entra_devices])
@pytest.mark.parametrize("text", NOT_MANIFESTS.values(), ids=NOT_MANIFESTS.keys())
def test_an_export_that_is_none_says_so_without_quoting_the_file(reader: object, text: str) -> None:
    with pytest.raises(InputError) as caught:
        reader("devices.csv", text.encode())  # type: ignore[operator]
    message = str(caught.value)
    assert "export" in message and "devices.csv" in message
    assert SECRET not in message and "root:x" not in message and "AKIA" not in message
