"""The column-wise XLSX writer: what openpyxl and calamine (which reads as Excel does) see."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineWorkbook

from exporters.xlsx import (
    CHUNK_ROWS,
    STYLE_NOTE,
    STYLE_TEXT,
    TextWorkbook,
    column_letter,
    write_text_sheet,
)


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


def test_repeated_text_goes_to_the_shared_strings_and_reads_back_exactly(tmp_path: Path) -> None:
    """A column whose values repeat (a status, a sentence) is written once per value in the
    shared strings, as Excel does; a column of distinct values (EIDs) stays inline. Both
    read back exactly, across sheets and chunks, empty cells empty."""
    import zipfile

    sentences = ["a & b <c>", "  padded  ", "ünïcödé ✓ 联想", "_x0041_ stays", "", "line\nbreak"]
    count = CHUNK_ROWS + 7
    repeated = [sentences[i % len(sentences)] for i in range(count)]
    unique = [f"{i:032d}" for i in range(count)]
    frame = pd.DataFrame(
        {"eid": pd.Series(unique, dtype="str"), "detail": pd.Series(repeated, dtype="str")}
    )
    path = tmp_path / "shared.xlsx"
    with TextWorkbook(path) as book:
        book.add_table("first", frame)
        book.add_table("second", frame.iloc[:10])  # the same strings, shared again
    with zipfile.ZipFile(path) as package:
        shared = package.read("xl/sharedStrings.xml").decode()
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
    assert 'uniqueCount="5"' in shared  # the five non-empty sentences, once each
    assert f">{unique[0]}<" in sheet and unique[0] not in shared
    book_read = openpyxl.load_workbook(path, read_only=True)
    for name, size in (("first", count), ("second", 10)):
        rows = list(book_read[name].iter_rows(values_only=True))
        assert rows[0] == ("eid", "detail")
        assert [row[0] for row in rows[1:]] == unique[:size]
        details = [(*row, None)[1] or "" for row in rows[1:]]  # a row may end early
        # openpyxl leaves Excel's escape of "_x0041_" as it is, inline or shared alike
        assert [text.replace("_x005F_", "_") for text in details] == repeated[:size]
    for name, size in (("first", count), ("second", 10)):  # calamine reads as Excel does
        calamine = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()
        assert [row[1] for row in calamine[1:]] == repeated[:size]
