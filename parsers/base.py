"""What every manifest reader returns, whatever the format."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from eidflow import schema


@dataclass
class Skipped:
    """Lines of a manifest that are not data rows: counted in summary.json, never accepted."""

    blank_rows: int = 0
    preamble_rows: int = 0  # title blocks above the header row
    footer_rows: int = 0  # totals and notes below the table
    sheets_without_table: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "blank_rows": self.blank_rows,
            "preamble_rows": self.preamble_rows,
            "footer_rows": self.footer_rows,
            "sheets_without_table": list(self.sheets_without_table),
        }


@dataclass
class ManifestRead:
    """One manifest, read: its data rows as a frame of ``schema.MANIFEST_COLUMNS``.

    Text columns hold ``""`` for empty cells (never NA); ``row`` is int64;
    ``eid_numeric`` and ``imei_numeric`` are bool.
    """

    source_file: str
    sha256: str
    rows: pd.DataFrame
    skipped: Skipped = field(default_factory=Skipped)
    sheets: list[str] = field(default_factory=list)  # sheets that held a device table
    format: str = ""  # csv, xlsx, xls, ods, ...
    # Of ``sheets``, those Excel does not show: read all the same (no device is dropped
    # unseen), their rows warned ``sheet_hidden``.
    hidden_sheets: list[str] = field(default_factory=list)


def empty_rows() -> pd.DataFrame:
    """A manifest frame with no rows and the right columns and dtypes."""
    frame = pd.DataFrame({name: pd.Series([], dtype="string") for name in schema.MANIFEST_COLUMNS})
    frame[schema.ROW] = frame[schema.ROW].astype("int64")
    frame[schema.EID_NUMERIC] = frame[schema.EID_NUMERIC].astype(bool)
    frame[schema.IMEI_NUMERIC] = frame[schema.IMEI_NUMERIC].astype(bool)
    return frame
