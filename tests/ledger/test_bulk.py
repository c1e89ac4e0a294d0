"""Moving frames in and out: what goes in comes back, whatever the text holds."""

from __future__ import annotations

import pandas as pd
import pytest

from eidflow.ledger import bulk, open_ledger

SLICE = bulk.SQLITE_SLICE_ROWS

# Each column: its values over the rows. A column with one value throughout goes into the
# SQLite statement as a literal, the others are bound: both must store the same thing.
COLUMNS = {
    "the same text": lambda n: ["manifest.csv"] * n,
    "the same quote": lambda n: ["O'Brien's \"PO\"; --"] * n,
    "all empty": lambda n: [""] * n,
    "the same non-ASCII": lambda n: ["Zürich ☃ 東京"] * n,
    "differs in the last row": lambda n: ["a"] * (n - 1) + ["b"],
    "differs in every row": lambda n: [f"v{i}" for i in range(n)],
    "differs across slices": lambda n: ["x" if i < SLICE else "y" for i in range(n)],
    # Packed rows (many rows, ``bulk.PACK_FROM_ROWS``) are cut apart by character count:
    "varying non-ASCII": lambda n: [f"Zürich 東京 {i % 7} ☃" for i in range(n)],
    "varying, some empty": lambda n: ["" if i % 3 else f"{i}" for i in range(n)],
    "ends with a space": lambda n: [f"v{i % 5} " for i in range(n)],
}


# Two columns whose values end with a space cannot both be packed: bound one by one.
UNPACKABLE = {"also ends with a space": lambda n: [f"w{i % 3}  " for i in range(n)]}
# Packed rows holding what JSON escapes go through json.dumps instead of Arrow.
ESCAPED = {"varying quotes": lambda n: [f'a"{i % 3}\\\t' for i in range(n)]}


@pytest.mark.parametrize("rows", [1, 3, SLICE + 2])
@pytest.mark.parametrize(
    "columns",
    [COLUMNS, COLUMNS | ESCAPED, COLUMNS | UNPACKABLE],
    ids=["packed", "packed-escaped", "bound"],
)
def test_insert_stores_every_value_as_given(url: str, rows: int, columns: dict) -> None:
    names = [f"c{i}" for i in range(len(columns))]
    frame = pd.DataFrame(
        {
            name: pd.Series(make(rows), dtype="str")
            for name, make in zip(names, columns.values(), strict=True)
        }
    )
    frame["n"] = range(rows)
    ledger = open_ledger(url)
    try:
        with ledger.write() as connection:
            bulk.create_temp(
                connection, "tmp_values", {name: "TEXT" for name in names} | {"n": "INTEGER"}
            )
            bulk.insert(connection, "tmp_values", {name: frame[name] for name in frame})
            back = bulk.fetch(
                connection,
                f"SELECT {', '.join(names)}, n FROM tmp_values ORDER BY n",
                [*names, "n"],
            ).to_pandas()
            bulk.drop_temp(connection, "tmp_values")
    finally:
        ledger.close()
    expected = frame.astype({"n": "str"})
    pd.testing.assert_frame_equal(back, expected, check_dtype=False)
