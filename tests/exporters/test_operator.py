"""Operator files: routing, and one test per template feature."""

from __future__ import annotations

import csv
import fnmatch
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exporters.config import OperatorProfile
from exporters.operator import _write_csv, file_name, pandas_csv, route, write_operator_files
from tests.exporters.rows import frame, handoff, handoff_row
from tests.frames import make_eid, make_imei

DAY = datetime(2026, 3, 9, tzinfo=UTC)


def write(rows: pd.DataFrame, tmp_path: Path, **profile: object) -> list[Path]:
    outputs = write_operator_files(rows, OperatorProfile(**profile), tmp_path, "r42", today=DAY)
    return [tmp_path / output.path for output in outputs]


def read_csv(path: Path, *, encoding: str = "utf-8", delimiter: str = ",") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


# --- routing ---------------------------------------------------------------

ACME = {"name": "acme", "match": {"po_numbers": ["PO-7*"]}}
GLOBEX = {"name": "globex", "match": {"source_files": ["lenovo_*.xlsx"]}}
REST = {"name": "rest"}


@pytest.mark.parametrize(
    ("source_file", "po_number", "profiles", "expected"),
    [
        ("dell.csv", "PO-1", [REST], "rest"),
        ("dell.csv", "PO-7001", [ACME, GLOBEX, REST], "acme"),
        ("dell.csv", "po-7001", [ACME, REST], "acme"),  # case-insensitive
        ("in/2026/LENOVO_03.XLSX", "PO-1", [ACME, GLOBEX, REST], "globex"),  # bare name of a path
        ("s3://bucket/in/lenovo_03.xlsx", "", [ACME, GLOBEX, REST], "globex"),
        ("lenovo_03.xlsx", "PO-7001", [ACME, GLOBEX], "acme"),  # first match wins
        ("lenovo_03.xlsx", "PO-7001", [GLOBEX, ACME], "globex"),
        ("dell.csv", "PO-1", [ACME, GLOBEX, REST], "rest"),  # catch-all
        ("dell.csv", "PO-1", [ACME, GLOBEX], "acme"),  # nobody matches: the first profile
    ],
)
def test_route(
    source_file: str, po_number: str, profiles: list[dict[str, object]], expected: str
) -> None:
    rows = frame([handoff_row(1, source_file=source_file, po_number=po_number)])
    operators = [OperatorProfile.model_validate(p) for p in profiles]
    assert route(rows, operators).tolist() == [expected]


def test_route_keeps_the_index_and_routes_each_row() -> None:
    rows = frame([handoff_row(1, po_number="PO-7"), handoff_row(2, po_number="PO-8")])
    rows.index = pd.Index([10, 20])
    names = route(rows, [OperatorProfile.model_validate(p) for p in (ACME, REST)])
    assert names.to_dict() == {10: "acme", 20: "rest"}


# --- template features -----------------------------------------------------


def test_default_profile_columns_and_values(tmp_path: Path) -> None:
    [path] = write(handoff(2), tmp_path)
    assert (
        path.relative_to(tmp_path).as_posix()
        == "operator/unnamed/unnamed_eids_20260309_r42_001.csv"
    )
    assert read_csv(path) == [
        ["EID", "IMEI", "Serial Number", "Manufacturer", "Model", "PO Number"],
        [make_eid(1), make_imei(1), "SN00001", "Dell", "Latitude 7450", "PO-1001"],
        [make_eid(2), make_imei(2), "SN00002", "Dell", "Latitude 7450", "PO-1001"],
    ]


def test_an_imei_known_to_be_wrong_is_not_sent(tmp_path: Path) -> None:
    rows = handoff(5)
    good = make_imei(5)
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    rows["imei"] = ["354098E+14", good[1:], wrong, "000000000000000", good]
    columns = [{"header": "EID", "field": "eid"}, {"header": "IMEI", "field": "imei"}]
    [path] = write(rows, tmp_path, columns=columns)
    assert [line[1] for line in read_csv(path)[1:]] == [
        "",  # a spreadsheet number, mangled
        "",  # 14 digits
        "",  # a wrong check digit
        "",  # a placeholder: its check digit is right, but it is no device's IMEI
        good,
    ]


def test_columns_in_order_with_headers_fields_and_constants(tmp_path: Path) -> None:
    columns = [
        {"header": "Account No", "value": "000412"},
        {"header": "eUICC", "field": "eid"},
        {"header": "Plan", "value": "IOT-5GB"},
        "SKU",
    ]
    [path] = write(handoff(1, sku="9X-A1"), tmp_path, columns=columns)
    assert read_csv(path) == [
        ["Account No", "eUICC", "Plan", "SKU"],
        ["000412", make_eid(1), "IOT-5GB", "9X-A1"],
    ]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter(tmp_path: Path, delimiter: str) -> None:
    [path] = write(handoff(1, model='Latitude; 7450, 14"'), tmp_path, delimiter=delimiter)
    rows = read_csv(path, delimiter=delimiter)
    assert rows[1][4] == 'Latitude; 7450, 14"'
    assert path.read_text().splitlines()[0].count(delimiter) == 5


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("utf-8", b""), ("utf-8-sig", b"\xef\xbb\xbf"), ("utf-16", b"\xff\xfe"), ("cp1252", b"")],
)
def test_encoding(tmp_path: Path, encoding: str, bom: bytes) -> None:
    [path] = write(handoff(1, manufacturer="Dell Technologies™ é"), tmp_path, encoding=encoding)
    assert path.read_bytes().startswith(bom)
    assert read_csv(path, encoding=encoding)[1][3] == "Dell Technologies™ é"


def test_characters_the_encoding_lacks_become_question_marks(tmp_path: Path) -> None:
    [path] = write(handoff(1, model="联想 ThinkPad"), tmp_path, encoding="cp1252")
    assert read_csv(path, encoding="cp1252")[1][4] == "?? ThinkPad"


@pytest.mark.parametrize(("line_ending", "ending"), [("crlf", b"\r\n"), ("lf", b"\n")])
def test_line_ending(tmp_path: Path, line_ending: str, ending: bytes) -> None:
    [path] = write(handoff(3), tmp_path, line_ending=line_ending)
    data = path.read_bytes()
    assert data.count(ending) == 4
    if ending == b"\n":
        assert b"\r" not in data


def test_rows_per_file_splits_into_numbered_parts(tmp_path: Path) -> None:
    paths = write(handoff(5), tmp_path, rows_per_file=2)
    assert [p.name for p in paths] == [f"unnamed_eids_20260309_r42_{n:03d}.csv" for n in (1, 2, 3)]
    bodies = [read_csv(p) for p in paths]
    assert [len(rows) - 1 for rows in bodies] == [2, 2, 1]
    assert all(rows[0][0] == "EID" for rows in bodies)  # every part has the header
    assert [row[0] for rows in bodies for row in rows[1:]] == [make_eid(n) for n in range(1, 6)]


def test_file_name_pattern_placeholders(tmp_path: Path) -> None:
    [path] = write(
        handoff(1),
        tmp_path,
        name="northwind",
        account="000412",
        file_name="EID_{account}_{operator}_{date}_{run}_p{part}.csv",
    )
    assert path.name == "EID_000412_northwind_20260309_r42_p1.csv"
    assert path.parent == tmp_path / "operator" / "northwind"


def test_parts_get_a_number_even_when_the_pattern_has_none() -> None:
    profile = OperatorProfile(file_name="{operator}_{run}", rows_per_file=10)
    names = [file_name(profile, run_id="r", date="d", part=n, parts=2) for n in (1, 2)]
    assert names == ["unnamed_r_001.csv", "unnamed_r_002.csv"]
    assert file_name(profile, run_id="r", date="d", part=1, parts=1) == "unnamed_r.csv"


@pytest.mark.parametrize(
    ("pattern", "file_format", "names"),
    [
        ("{operator}_{date}.csv", "csv", ["unnamed_d_001.csv", "unnamed_d_002.csv"]),
        ("{operator}_{date}.CSV", "csv", ["unnamed_d_001.CSV", "unnamed_d_002.CSV"]),
        ("{operator}_{date}.xlsx", "xlsx", ["unnamed_d_001.xlsx", "unnamed_d_002.xlsx"]),
        ("{operator}_{part}.csv", "csv", ["unnamed_1.csv", "unnamed_2.csv"]),
    ],
)
def test_parts_are_numbered_before_the_patterns_extension(
    pattern: str, file_format: str, names: list[str]
) -> None:
    profile = OperatorProfile(file_name=pattern, format=file_format, rows_per_file=10)
    assert [file_name(profile, run_id="r", date="d", part=n, parts=2) for n in (1, 2)] == names


def test_xlsx_identifiers_and_account_are_text_cells(tmp_path: Path) -> None:
    columns = ["EID", "IMEI", {"header": "Account", "value": "000412"}]
    [path] = write(handoff(2), tmp_path, format="xlsx", columns=columns)
    assert path.suffix == ".xlsx"
    sheet = openpyxl.load_workbook(path).active
    rows = [[(cell.value, cell.data_type) for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == [("EID", "s"), ("IMEI", "s"), ("Account", "s")]
    assert rows[1] == [(make_eid(1), "s"), (make_imei(1), "s"), ("000412", "s")]
    assert all(cell.number_format == "@" for row in sheet.iter_rows(min_row=2) for cell in row)


def test_xlsx_rows_per_file(tmp_path: Path) -> None:
    paths = write(handoff(3), tmp_path, format="xlsx", rows_per_file=2)
    counts = [openpyxl.load_workbook(p).active.max_row - 1 for p in paths]
    assert counts == [2, 1]


def test_no_rows_no_file(tmp_path: Path) -> None:
    assert write(handoff(0), tmp_path) == []
    assert not (tmp_path / "operator").exists()


def test_a_field_the_frame_lacks_is_empty(tmp_path: Path) -> None:
    rows = handoff(1).drop(columns=["sku"])
    [path] = write(rows, tmp_path, columns=["EID", "SKU"])
    assert read_csv(path)[1] == [make_eid(1), ""]


def test_files_are_written_atomically_no_temporary_left(tmp_path: Path) -> None:
    write(handoff(3), tmp_path, rows_per_file=1)
    leftovers = [
        p.name for p in (tmp_path / "operator" / "unnamed").iterdir() if p.name.startswith(".")
    ]
    assert leftovers == []


def test_output_file_describes_rows_and_sha256(tmp_path: Path) -> None:
    import hashlib

    [output] = write_operator_files(handoff(3), OperatorProfile(), tmp_path, "r", today=DAY)
    assert output.rows == 3
    assert output.kind == "operator"
    assert output.sha256 == hashlib.sha256((tmp_path / output.path).read_bytes()).hexdigest()


@pytest.mark.parametrize("line_ending", ["crlf", "lf"])
@pytest.mark.parametrize("line_break", ["\n", "\r", "\r\n"])
def test_csv_quotes_values_holding_line_breaks(
    tmp_path: Path, line_ending: str, line_break: str
) -> None:
    model = f"Latitude{line_break}=cmd|' /C calc'!A0"
    [path] = write(handoff(2, model=model), tmp_path, line_ending=line_ending)
    rows = read_csv(path)
    assert [row[4] for row in rows] == ["Model", model, model]
    assert f'"{model}"'.encode() in path.read_bytes()  # no line of its own starts with "="


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_headers_are_neutralised_like_values(tmp_path: Path, file_format: str) -> None:
    hostile = ['=HYPERLINK("http://x","EID")', "+1", "-Acct", "@Plan", "\tTab", "\rCR", "Plain"]
    columns = [{"header": header, "value": "1"} for header in hostile]
    [path] = write(handoff(1), tmp_path, columns=columns, format=file_format)
    if file_format == "csv":
        headers = read_csv(path)[0]
    else:
        headers = [cell.value for cell in next(openpyxl.load_workbook(path).active.iter_rows())]
    assert headers == [f"'{header}" for header in hostile[:-1]] + ["Plain"]


def test_xlsx_text_longer_than_excel_allows_is_cut_to_32767(tmp_path: Path) -> None:
    [path] = write(handoff(1, model="x" * 40_000), tmp_path, format="xlsx")
    assert openpyxl.load_workbook(path).active["E2"].value == "x" * 32_767


def expected_operator(source_file: str, po_number: str, operators: list[OperatorProfile]) -> str:
    """Row by row, as the docs say: the first profile whose match takes the row, else the first."""
    bare = source_file.rsplit("/", 1)[-1].lower()
    for profile in operators:
        files, pos = profile.match.source_files, profile.match.po_numbers
        if not files and not pos:
            return profile.name
        if any(
            fnmatch.fnmatchcase(f, p.lower()) for p in files for f in (source_file.lower(), bare)
        ):
            return profile.name
        if any(fnmatch.fnmatchcase(po_number.lower(), p.lower()) for p in pos):
            return profile.name
    return operators[0].name


@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["dell_1.csv", "in/lenovo_2.xlsx", "hp.csv", "s3://b/LENOVO_9.XLSX"]),
            st.sampled_from(["PO-7001", "po-77", "PO-1", ""]),
        ),
        max_size=20,
    ),
    order=st.permutations([ACME, GLOBEX, REST]),
    size=st.integers(min_value=1, max_value=3),
)
def test_route_agrees_with_the_row_by_row_rule(
    rows: list[tuple[str, str]], order: list[dict[str, object]], size: int
) -> None:
    table = frame(
        [handoff_row(n, source_file=f, po_number=po) for n, (f, po) in enumerate(rows, 1)]
    )
    operators = [OperatorProfile.model_validate(p) for p in order[:size]]
    expected = [expected_operator(f, po, operators) for f, po in rows]
    assert route(table, operators).tolist() == expected


def test_quote_all(tmp_path: Path) -> None:
    [path] = write(
        handoff(1), tmp_path, columns=["EID", {"header": "Account", "value": "007"}], quote_all=True
    )
    assert path.read_text().splitlines() == ['"EID","Account"', f'"{make_eid(1)}","007"']


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_no_header_row(tmp_path: Path, file_format: str) -> None:
    [path] = write(handoff(2), tmp_path, columns=["EID", "IMEI"], header=False, format=file_format)
    if file_format == "csv":
        rows = read_csv(path)
    else:
        rows = [[c.value for c in row] for row in openpyxl.load_workbook(path).active.iter_rows()]
    assert rows == [[make_eid(1), make_imei(1)], [make_eid(2), make_imei(2)]]


def test_xlsx_sheet_name(tmp_path: Path) -> None:
    [default] = write(handoff(1), tmp_path, name="northwind", format="xlsx")
    [named] = write(
        handoff(1), tmp_path / "b", name="northwind", format="xlsx", sheet_name="EID list"
    )
    assert openpyxl.load_workbook(default).sheetnames == ["northwind"]
    assert openpyxl.load_workbook(named).sheetnames == ["EID list"]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_headers_may_repeat(tmp_path: Path, file_format: str) -> None:
    columns = [{"header": "IMEI", "field": "imei"}, {"header": "IMEI", "value": ""}, "EID"]
    [path] = write(handoff(1), tmp_path, columns=columns, format=file_format)
    if file_format == "csv":
        rows = read_csv(path)
    else:
        rows = [
            [c.value or "" for c in row] for row in openpyxl.load_workbook(path).active.iter_rows()
        ]
    assert rows == [["IMEI", "IMEI", "EID"], [make_imei(1), "", make_eid(1)]]


CSV_TEXT = st.lists(
    st.sampled_from(
        ["a", "b", " ", "1", ",", ";", "|", "\t", '"', "\r", "\n", "\r\n", "\x00", "é", "€"]
    ),
    max_size=4,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.lists(CSV_TEXT, min_size=2), min_size=1, max_size=6),
    width=st.integers(1, 3),
    delimiter=st.sampled_from([",", ";", "\t", "|", "§"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]),
    quote_all=st.booleans(),
    header=st.booleans(),
    crlf=st.booleans(),
    header_text=st.sampled_from(["EID", "", "a,b", 'say "x"', "two\nlines", "cr\r", "\r\n"]),
)
def test_csv_bytes_are_the_csv_modules(
    tmp_path_factory: pytest.TempPathFactory,
    values: list[list[str]],
    width: int,
    delimiter: str,
    encoding: str,
    quote_all: bool,
    header: bool,
    crlf: bool,
    header_text: str,
) -> None:
    """Whichever way a file is written (Arrow or pandas), its bytes are the csv module's,
    and a reader gets every value back: a CR, LF or CRLF in a value is quoted, whatever
    the line ending."""
    rows = [(row * width)[:width] for row in values]
    table = pd.DataFrame(rows, dtype="string")
    table.columns = [header_text, *(f"c{i}" for i in range(1, width))]
    profile = OperatorProfile(
        delimiter=delimiter,
        encoding=encoding,
        quote_all=quote_all,
        header=header,
        line_ending="crlf" if crlf else "lf",
    )
    folder = tmp_path_factory.mktemp("csv")
    _write_csv(table, folder / "fast.csv", profile)
    pandas_csv(table, folder / "slow.csv", profile)
    assert (folder / "fast.csv").read_bytes() == (folder / "slow.csv").read_bytes()
    expected = [list(table.columns)] * header + rows
    assert read_csv(folder / "fast.csv", encoding=encoding, delimiter=delimiter) == expected
