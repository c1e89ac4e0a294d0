"""Column mapping: aliases, ambiguous or missing EID columns, per-OEM profiles from eidflow.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import load_settings
from eidflow import schema
from eidflow.errors import ManifestError
from parsers import ManifestProfile, ParserSettings, read_manifest
from parsers.columns import normalise_header
from tests.parsers.fixtures import VALID_EID, xlsx_bytes


@pytest.mark.parametrize(
    ("header", "key"),
    [("S/N", "sn"), ("IMEI 1", "imei1"), (" eUICC-ID ", "euiccid"), ("PO #", "po"), ("É_x", "éx")],
)
def test_normalise_header(header: str, key: str) -> None:
    assert normalise_header(header) == key


@pytest.mark.parametrize(
    "headers",
    [
        "EID,eSIM EID,Serial",  # two EID columns
        "EUICC,EID Number,Serial",
        "EID,Serial Number,Service Tag",  # two serial columns
    ],
)
def test_two_candidate_columns_is_an_error_listing_headers(headers: str) -> None:
    data = f"{headers}\n{VALID_EID},A,B\n".encode()
    with pytest.raises(ManifestError) as caught:
        read_manifest("two.csv", data)
    message = str(caught.value)
    assert message.startswith("two.csv")
    assert "two columns could hold" in message
    for header in headers.split(","):
        assert repr(header) in message
    assert "[parsers.profiles." in message


def test_no_device_table_names_the_known_headers_seen_never_the_cells() -> None:
    with pytest.raises(ManifestError) as caught:
        read_manifest("notes.csv", b"Hello,World\n1,2\n")
    assert "no device table" in str(caught.value)
    assert "Hello" not in str(caught.value)  # the file's text is never quoted
    with pytest.raises(ManifestError) as caught:
        read_manifest("models.csv", b"Hello,mo-del\n1,2\n")
    assert "no device table" in str(caught.value)
    assert "'Model'" in str(caught.value)  # by eidflow's name for it, not the cell's text
    assert "Hello" not in str(caught.value) and "mo-del" not in str(caught.value)
    with pytest.raises(ManifestError) as caught:
        read_manifest("returns.csv", b"s/n,MODEL,Hello\nX1,M,1\n")
    assert "no EID column" in str(caught.value)
    assert "'S/N', 'Model'" in str(caught.value)
    assert "Hello" not in str(caught.value)


def test_workbook_without_any_table_names_its_sheets() -> None:
    data = xlsx_bytes({"A": [["x"]], "B": [["y", "z"]]})
    with pytest.raises(ManifestError) as caught:
        read_manifest("book.xlsx", data)
    assert "'A', 'B'" in str(caught.value)


OEM_HEADERS = ["Unit ID", "eUICC Identifier (32)", "Modem IMEI", "Ctn"]
OEM_PROFILE = ManifestProfile(
    eid="eUICC Identifier (32)", serial="Unit ID", imei="Modem IMEI", recognise=["Modem IMEI"]
)


def oem_csv(title_lines: int = 0) -> bytes:
    lines = [f"Report line {i}" for i in range(title_lines)]
    lines += [",".join(OEM_HEADERS), f"U-1,{VALID_EID},356938035643809,1"]
    return ("\n".join(lines) + "\n").encode()


def test_unknown_headers_need_a_profile() -> None:
    with pytest.raises(ManifestError):
        read_manifest("oem.csv", oem_csv())


def test_profile_by_name() -> None:
    settings = ParserSettings(profiles={"acme": OEM_PROFILE.model_copy(update={"recognise": []})})
    rows = read_manifest("oem.csv", oem_csv(2), settings, profile="acme").rows
    assert rows[schema.SERIAL_RAW].tolist() == ["U-1"]
    assert rows[schema.EID_RAW].tolist() == [VALID_EID]
    assert rows[schema.IMEI_RAW].tolist() == ["356938035643809"]
    assert rows[schema.ROW].tolist() == [4]


def test_profile_recognised_from_the_header() -> None:
    settings = ParserSettings(profiles={"acme": OEM_PROFILE})
    rows = read_manifest("oem.csv", oem_csv(), settings).rows
    assert rows[schema.SERIAL_RAW].tolist() == ["U-1"]


def test_unknown_profile_name() -> None:
    with pytest.raises(ManifestError) as caught:
        read_manifest("oem.csv", oem_csv(), ParserSettings(), profile="nope")
    assert "nope" in str(caught.value)


def test_profile_column_missing_from_the_file() -> None:
    profile = ManifestProfile(eid="EID32", serial="Unit ID", header_row=1)
    with pytest.raises(ManifestError) as caught:
        read_manifest("oem.csv", oem_csv(), ParserSettings(profiles={"p": profile}), profile="p")
    assert "'EID32'" in str(caught.value)


def test_profile_sheet_and_header_row_in_a_workbook() -> None:
    sheet = [["x", "y"], ["Unit ID", "EUICC#"], ["U-1", VALID_EID]]
    data = xlsx_bytes({"Other": [["EID", "Serial"], [VALID_EID, "NOT-ME"]], "Detail": sheet})
    profile = ManifestProfile(eid="EUICC#", serial="Unit ID", sheet="Detail", header_row=2)
    result = read_manifest("oem.xlsx", data, ParserSettings(profiles={"p": profile}), profile="p")
    assert result.rows[schema.SERIAL_RAW].tolist() == ["U-1"]
    assert result.rows[schema.ROW].tolist() == [3]
    assert result.sheets == ["Detail"]


def test_profiles_load_from_eidflow_toml(tmp_path: Path) -> None:
    config = tmp_path / "eidflow.toml"
    config.write_text(
        "[parsers]\nmax_uncompressed_bytes = 1000000\n"
        "[parsers.profiles.acme]\n"
        'eid = "eUICC Identifier (32)"\nserial = "Unit ID"\nrecognise = ["Modem IMEI"]\n'
    )
    settings = load_settings(config).parsers
    assert settings.profiles["acme"].eid == "eUICC Identifier (32)"
    rows = read_manifest("oem.csv", oem_csv(), settings).rows
    assert rows[schema.EID_RAW].tolist() == [VALID_EID]


def test_sheet_with_serials_but_no_eid_beside_a_device_sheet() -> None:
    data = xlsx_bytes(
        {
            "Returns": [["Serial Number", "Model", "Reason"], ["X1", "M", "DOA"]],
            "Devices": [["EID", "Serial Number"], [VALID_EID, "A"]],
        }
    )
    result = read_manifest("book.xlsx", data)
    assert result.rows[schema.SERIAL_RAW].tolist() == ["A"]
    assert result.skipped.sheets_without_table == ["Returns"]


def test_workbook_whose_only_table_has_no_eid() -> None:
    data = xlsx_bytes({"Returns": [["Serial Number", "Model"], ["X1", "M"]]})
    with pytest.raises(ManifestError) as caught:
        read_manifest("book.xlsx", data)
    assert "no EID column" in caught.value.what
    assert caught.value.sheet == "Returns"


def test_a_reseller_s_mfr_and_description_columns_are_read() -> None:
    from parsers import read_manifest
    from tests.parsers.fixtures import VALID_EID

    data = f"Serial Number,EID,Mfr,Description\nS1,{VALID_EID},Lenovo,ThinkPad T14s Gen 5\n"
    read = read_manifest("reseller.csv", data.encode())
    assert read.rows[["manufacturer", "model"]].values.tolist() == [
        ["Lenovo", "ThinkPad T14s Gen 5"]
    ]
