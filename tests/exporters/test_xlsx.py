"""The column-wise XLSX writer: what openpyxl and calamine (which reads as Excel does) see."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from exporters.xlsx import STYLE_NOTE, STYLE_TEXT, TextWorkbook, column_letter, write_text_sheet


@pytest.mark.parametrize(
    ("index", "letters"),
    [(0, "A"), (25, "Z"), (26, "AA"), (51, "AZ"), (52, "BA"), (701, "ZZ"), (702, "AAA")],
)
def test_column_letter(index: int, letters: str) -> None:
    assert column_letter(index) == letters


def test_sheet_names_follow_excels_rules(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    tables = {"a/b:c": pd.DataFrame({"x": ["1"]}), "A/B:C": pd.DataFrame({"x": ["2"]})}
    with TextWorkbook(path) as book:
        for name, frame in tables.items():
            book.add_table(name, frame)
        book.add_table("x" * 40, pd.DataFrame({"x": ["3"]}))
    assert openpyxl.load_workbook(path).sheetnames == ["a_b_c", "A_B_C~2", "x" * 31]


@pytest.mark.parametrize(
    "text",
    [
        "a & b",
        "<tag>",
        "line\nbreak",
        "cr\rhere",
        "  padded  ",
        "ünïcödé ✓ 联想",
        "tab\tin",
        '"quoted"',
    ],
)
def test_text_survives_exactly(tmp_path: Path, text: str) -> None:
    path = tmp_path / "t.xlsx"
    write_text_sheet(path, {"s": pd.DataFrame({"v": pd.Series([text], dtype="str")})})
    assert openpyxl.load_workbook(path).active["A2"].value == text
    assert CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()[1][0] == text


def test_control_characters_become_replacement_marks(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_text_sheet(path, {"s": pd.DataFrame({"v": pd.Series(["a\x00b\x1fc"], dtype="str")})})
    assert openpyxl.load_workbook(path).active["A2"].value == "a\ufffdb\ufffdc"


def test_lines_sheet_mixes_text_and_numbers(tmp_path: Path) -> None:
    path = tmp_path / "l.xlsx"
    with TextWorkbook(path) as book:
        book.add_lines(
            "summary", [(["rows", 12], STYLE_TEXT), ([], STYLE_TEXT), (["note"], STYLE_NOTE)]
        )
    sheet = openpyxl.load_workbook(path).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["rows", 12],
        [None, None],
        ["note", None],
    ]
    assert sheet["B1"].data_type == "n" and sheet["A1"].data_type == "s"
    assert sheet["A3"].font.i


def test_big_table_in_chunks_keeps_order(tmp_path: Path) -> None:
    path = tmp_path / "big.xlsx"
    count = 120_001  # three chunks of 50,000
    frame = pd.DataFrame(
        {"n": range(count), "t": pd.Series([f"{i:032d}" for i in range(count)], dtype="str")}
    )
    write_text_sheet(path, {"s": frame})
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert len(rows) == count + 1
    assert rows[-1] == [float(count - 1), f"{count - 1:032d}"]
    assert rows[50_001] == [50_000.0, f"{50_000:032d}"]


def test_columns_in_several_arrow_chunks(tmp_path: Path) -> None:
    # A column concatenated from several manifests is one Arrow array in chunks.
    parts = [
        pd.Series(["a", "b"], dtype="string[pyarrow]"),
        pd.Series(["c"], dtype="string[pyarrow]"),
    ]
    text = pd.concat(parts, ignore_index=True)
    assert text.array._pa_array.num_chunks == 2
    path = tmp_path / "c.xlsx"
    write_text_sheet(path, {"s": pd.DataFrame({"v": text})})
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    assert rows == [["v"], ["a"], ["b"], ["c"]]


def test_a_failed_write_leaves_no_workbook_parts(tmp_path: Path) -> None:
    path = tmp_path / "f.xlsx"
    with pytest.raises(RuntimeError), TextWorkbook(path) as book:
        book.add_table("s", pd.DataFrame({"x": ["1"]}))
        raise RuntimeError("boom")
    with pytest.raises(KeyError):  # the workbook part is only written on success
        __import__("zipfile").ZipFile(path).getinfo("xl/workbook.xml")
