"""Settings for reading manifests: limits and per-OEM profiles (``[parsers]`` in eidflow.toml).

A profile names the columns of one OEM's manifest when the built-in aliases do not
find them (or find two EID columns)::

    [parsers.profiles.contoso]
    eid = "eUICC Identifier (32)"
    serial = "Unit S/N"
    imei = "Modem IMEI"
    sheet = "ASN Detail"      # optional: only this sheet
    header_row = 4            # optional: the header is on this row (1 = first line)
    recognise = ["eUICC Identifier (32)", "Unit S/N"]  # optional: pick the profile when these headers are all present
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from eidflow import schema
from parsers.answer_config import ResponseProfile

# Manifest fields a profile can name a column for (the keys of ManifestProfile's column fields).
PROFILE_FIELDS = ("eid", "serial", "imei", "imei2", *schema.DESCRIPTIVE, *schema.AUTOPILOT_FIELDS)


class ManifestProfile(BaseModel):
    """One OEM's manifest layout: explicit header names; anything not named falls back to aliases."""

    model_config = ConfigDict(extra="forbid")

    eid: str = ""
    serial: str = ""
    imei: str = ""
    imei2: str = ""
    manufacturer: str = ""
    model: str = ""
    sku: str = ""
    po_number: str = ""
    order_number: str = ""
    asn: str = ""
    ship_date: str = ""
    customer: str = ""
    hardware_hash: str = ""  # read by autopilot-csv only
    product_id: str = ""  # the Windows product id, likewise
    sheet: str = ""  # read only this sheet ("" = every sheet holding a table)
    header_row: int | None = Field(default=None, ge=1)  # 1-based row/record of the header
    recognise: list[str] = Field(default_factory=list)  # headers that identify this OEM's files

    def columns(self) -> dict[str, str]:
        """The fields this profile names explicitly: field -> header text."""
        return {name: getattr(self, name) for name in PROFILE_FIELDS if getattr(self, name)}


class ParserSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # Every limit is positive: 0 would not mean "no limit" but refuse every manifest.
    max_uncompressed_bytes: int = Field(default=512 * 1024 * 1024, gt=0)  # zip-bomb cap
    # Excel holds at most 32,767 characters in a cell; anything longer is not a manifest cell.
    max_cell_chars: int = Field(default=32_767, gt=0)
    # The workbook reader runs in a child process with these limits (parsers/isolate.py):
    # address space it may add, and seconds it may take.
    max_reader_memory_bytes: int = Field(default=3 * 1024 * 1024 * 1024, gt=0)
    max_reader_seconds: float = Field(default=300.0, gt=0)
    # The header row is looked for among this many first rows.
    header_search_rows: int = Field(default=30, gt=0)
    profiles: dict[str, ManifestProfile] = Field(default_factory=dict)
    # Operators' answer files (``eidflow operator-response``), by profile name.
    response_profiles: dict[str, ResponseProfile] = Field(default_factory=dict)
