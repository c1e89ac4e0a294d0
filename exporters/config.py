"""Settings for the hand-off: operator profiles, Entra lists, report, delivery.

Sections of eidflow.toml: ``[[operators]]``, ``[entra]``, ``[report]``, ``[delivery]``
(with ``[delivery.s3]``). docs/configuration.md ("Operator profiles") shows a worked profile::

    [[operators]]
    name = "northwind"
    account = "000412"                   # text: leading zeros kept
    format = "xlsx"                      # csv | xlsx
    rows_per_file = 5000                 # 0 = one file
    file_name = "{operator}_{account}_{date}_{run}_{part:03d}"
    columns = [
      { header = "EID", field = "eid" },
      { header = "IMEI", field = "imei" },
      { header = "Account", value = "000412" },
      { header = "Rate Plan", value = "IOT-5GB" },
    ]
    match = { po_numbers = ["PO-77*"], source_files = ["northwind_*.csv"] }
"""

from __future__ import annotations

import codecs
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from eidflow import schema
from eidflow.errors import ConfigError
from eidflow.s3 import S3Settings

DEFAULT_OPERATOR_COLUMNS = ("EID", "IMEI", "Serial Number", "Manufacturer", "Model", "PO Number")

# Row fields a column can take: what the hand-off frame carries.
OPERATOR_FIELDS: tuple[str, ...] = (
    schema.EID,
    schema.IMEI,
    schema.SERIAL_NUMBER,
    *schema.DESCRIPTIVE,
    schema.SOURCE_FILE,
    schema.SHEET,
    schema.ROW,
    schema.INTUNE_STATE,
    schema.ENTRA_OBJECT_ID,
)


# Characters Windows refuses in a file name (with "/" and "\\", which would make folders).
_NOT_IN_FILE_NAMES = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
# Names Windows keeps for devices, whatever the extension ("CON.csv" cannot be created).
_WINDOWS_DEVICES = {"CON", "PRN", "AUX", "NUL"} | {
    f"{port}{n}" for port in ("COM", "LPT") for n in range(10)
}
_NOT_IN_SHEET_NAMES = set("[]:*?/\\")  # Excel's rules, with at most 31 characters
_EXTENSIONS = (".csv", ".xlsx")

_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


# What a file system takes for one name (ext4, NTFS, APFS: 255 bytes or UTF-16 units).
MAX_FILE_NAME_BYTES = 255
# File names are judged at load with the longest parts a run gives them: a run id
# (``app.runfolder.new_run_id``: UTC time and 6 hex digits) and a part number of 7 digits
# (ten million files: more than any manifest has rows).
LONGEST_RUN_ID = "20260101T000000Z-000000"
LONGEST_PART = 9_999_999


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


# A bare header name in ``columns`` (the short form) names its field by this table.
_FIELD_BY_HEADER = {_squash(name): name for name in OPERATOR_FIELDS} | {
    "serial": schema.SERIAL_NUMBER,
    "po": "po_number",
    "purchaseorder": "po_number",
}


class OperatorColumn(BaseModel):
    """One column of an operator file: a header and either a row field or a constant text."""

    model_config = ConfigDict(extra="forbid")

    header: str
    field: str = ""  # one of OPERATOR_FIELDS
    value: str | None = None  # a constant, written as text (account number, rate plan)

    @model_validator(mode="after")
    def _field_or_value(self) -> OperatorColumn:
        if (self.value is None) == (not self.field):
            raise ValueError(f"column {self.header!r}: give exactly one of 'field' or 'value'")
        if self.field and self.field not in OPERATOR_FIELDS:
            raise ValueError(
                f"column {self.header!r}: unknown field {self.field!r}; "
                f"choose from {', '.join(OPERATOR_FIELDS)}"
            )
        return self


class OperatorMatch(BaseModel):
    """Which rows go to this operator: shell-style globs, case-insensitive. Empty = every row."""

    model_config = ConfigDict(extra="forbid")

    source_files: list[str] = Field(default_factory=list)  # manifest file name (or path, URL)
    po_numbers: list[str] = Field(default_factory=list)

    @property
    def catch_all(self) -> bool:
        return not self.source_files and not self.po_numbers


# The operator's name when eidflow.toml names none: said on stderr by every run that hands
# EIDs off to it (a file ``operator/operator/operator_eids_…`` told nobody whose it was).
UNNAMED_OPERATOR = "unnamed"


class OperatorProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = UNNAMED_OPERATOR
    columns: list[OperatorColumn] = Field(
        default_factory=lambda: [_column(header) for header in DEFAULT_OPERATOR_COLUMNS]
    )
    format: Literal["csv", "xlsx"] = "csv"
    delimiter: str = ","
    encoding: str = "utf-8"  # utf-8, utf-8-sig (BOM, for Excel), cp1252, utf-16, ...
    line_ending: Literal["lf", "crlf"] = "crlf"  # RFC 4180
    quote_all: bool = False  # CSV: quote every value, not only those that need it
    header: bool = True  # False: data rows only
    sheet_name: str = ""  # XLSX: "" = the operator's name
    rows_per_file: int = Field(default=0, ge=0)  # 0 = everything in one file
    account: str = ""  # for {account} in file_name
    file_name: str = "{operator}_eids_{date}_{run}_{part:03d}"  # extension added if missing
    match: OperatorMatch = Field(default_factory=OperatorMatch)
    # The operator's eSIM download server (SM-DP+), a bare FQDN: `eidflow intune setup` puts it in
    # the eSIM profile (checked there, eidflow.intune.server).
    smdp_server: str = ""

    @field_validator("columns", mode="before")
    @classmethod
    def _short_columns(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [_column(item) if isinstance(item, str) else item for item in value]
        return value

    @field_validator("columns")
    @classmethod
    def _some_columns(cls, value: list[OperatorColumn]) -> list[OperatorColumn]:
        if not value:
            raise ValueError('no columns: list at least one, e.g. columns = ["EID"]')
        return value

    @field_validator("name")
    @classmethod
    def _safe_name(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", value):
            raise ValueError(
                f"operator name {value!r}: use letters, digits, '_', '.', '-' (it names a folder)"
            )
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, value: str) -> str:
        if len(value) != 1 or value in "\"'\r\n":
            raise ValueError(f"delimiter {value!r}: one character, not a quote or line break")
        return value

    @field_validator("encoding")
    @classmethod
    def _text_encoding(cls, value: str) -> str:
        try:
            codec = codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding {value!r}") from None
        # rot13, hex, base64 … are codecs too, but not of text to bytes; idna and
        # "undefined" are, yet refuse ordinary lines: either would fail after the claim.
        try:
            usable = codec._is_text_encoding and bool("EID,é;联\r\n".encode(value, "replace"))
        except UnicodeError:
            usable = False
        if not usable:
            raise ValueError(
                f"encoding {value!r} is not a text encoding for CSV; "
                "use e.g. utf-8, utf-8-sig, cp1252 or utf-16"
            )
        return value

    @field_validator("sheet_name")
    @classmethod
    def _excel_sheet_name(cls, value: str) -> str:
        if value:
            _check_sheet_name(f"sheet_name {value!r}", value)
        return value

    @field_validator("account")
    @classmethod
    def _file_name_account(cls, value: str) -> str:
        fault = _file_name_fault(value)
        if fault:
            raise ValueError(f"account {value!r} goes into file names: {fault}")
        return value

    @field_validator("file_name")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        try:
            sample = value.format(operator="op", account="0", date="20260101", run="r", part=1)
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(
                f"file_name {value!r}: {error}; placeholders are "
                "{operator} {account} {date} {run} {part}"
            ) from None
        fault = _file_name_fault(sample) or ("no leading '.'" if sample.startswith(".") else "")
        if fault:
            raise ValueError(f"file_name {value!r}: a plain file name, {fault}")
        return value

    @model_validator(mode="after")
    def _plain_names(self) -> OperatorProfile:
        """The file name and sheet name as written, with this profile's name and account."""
        extension = f".{self.format}"
        given = next((e for e in _EXTENSIONS if self.file_name.lower().endswith(e)), extension)
        if given != extension:
            raise ValueError(
                f"file_name {self.file_name!r} ends in {given} but format is {self.format!r}; "
                f"end it in {extension} or leave the extension out"
            )
        stem = self.file_name.format(
            operator=self.name, account=self.account, date="20260101", run="r", part=1
        )
        if stem.startswith("."):
            raise ValueError(f"file_name {self.file_name!r} gives {stem!r}, a hidden file")
        if stem.split(".")[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
            raise ValueError(
                f"file_name {self.file_name!r} gives {stem!r}, a device name on Windows; "
                "add a word to the pattern"
            )
        longest = self.name_for(run_id=LONGEST_RUN_ID, date="20260101", part=LONGEST_PART, parts=2)
        if len(longest.encode()) > MAX_FILE_NAME_BYTES:
            raise ValueError(
                f"file_name {self.file_name!r} gives names of up to {len(longest.encode())} bytes"
                f" (with the longest run id and part number: {longest[:40]!r}…); file systems"
                f" take {MAX_FILE_NAME_BYTES}: shorten the pattern, the name or the account"
            )
        if self.format == "xlsx" and not self.sheet_name:
            _check_sheet_name(f"sheet_name (the operator's name {self.name!r})", self.name)
        return self

    def name_for(self, *, run_id: str, date: str, part: int, parts: int) -> str:
        """The file name from the pattern; ``_{part}`` is added when several parts need it.

        The extension ends the name, the pattern's own (``x.csv``, kept as written) or added.
        """
        pattern, extension = self.file_name, f".{self.format}"
        if pattern.lower().endswith(extension):
            pattern, extension = pattern[: -len(extension)], pattern[-len(extension) :]
        if parts > 1 and "{part" not in pattern:
            pattern += "_{part:03d}"
        name = pattern.format(
            operator=self.name, account=self.account, date=date, run=run_id, part=part
        )
        return name + extension


def _file_name_fault(text: str) -> str:
    """What keeps ``text`` out of a plain file name on Windows and POSIX ("" if nothing)."""
    if "/" in text or "\\" in text:
        return "no folders ('/' or '\\')"
    if ".." in text:
        return "no '..'"
    refused = sorted(set(_NOT_IN_FILE_NAMES.findall(text)))
    if refused:
        return f"no {' '.join(repr(char) for char in refused)} (Windows refuses them)"
    return ""


def _check_sheet_name(entry: str, name: str) -> None:
    """Excel's rules for a worksheet's name; a name Excel would refuse is a config mistake."""
    refused = sorted({char for char in name if char in _NOT_IN_SHEET_NAMES or char < " "})
    if len(name) > 31:
        fault = f"{len(name)} characters, Excel allows 31"
    elif refused:
        fault = f"Excel refuses {' '.join(repr(char) for char in refused)}"
    elif name.startswith("'") or name.endswith("'"):
        fault = 'Excel refuses a leading or trailing "\'"'
    elif name.lower() == "history":
        fault = "Excel keeps 'History' for itself"
    else:
        return
    raise ValueError(f"{entry}: {fault}; set sheet_name to another name")


def _column(header: str) -> OperatorColumn:
    """The short form: a bare header whose field is found by name (``"PO Number"`` → po_number)."""
    field = _FIELD_BY_HEADER.get(_squash(header))
    if field is None:
        raise ValueError(
            f"column {header!r}: no row field of that name; write "
            f'{{ header = {header!r}, field = "…" }} or {{ header = …, value = "…" }}'
        )
    return OperatorColumn(header=header, field=field)


# data/samples/eidflow.toml's [entra] group_id: obviously no tenant's group. A command that
# changes the tenant (--apply) refuses it.
PLACEHOLDER_GROUP_ID = "00000000-0000-0000-0000-000000000000"


class EntraSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_id: str = ""  # the static device group; "" writes a placeholder in the Graph bodies

    def refuse_placeholder(self, group_id: str | None = None) -> None:
        """Before the tenant is changed: ``group_id`` (default: ``[entra] group_id``) is no
        sample's placeholder."""
        if (group_id or self.group_id).strip() == PLACEHOLDER_GROUP_ID:
            raise ConfigError(
                f"[entra] group_id is {PLACEHOLDER_GROUP_ID}, the samples' placeholder: set it in"
                " eidflow.toml to your static group's Object ID (Entra admin center, Groups, the"
                " group's Overview); nothing was changed."
            )

    @field_validator("group_id")
    @classmethod
    def _guid(cls, value: str) -> str:
        # The group's Object ID in Entra, as the portal shows it; it goes into Graph URLs.
        value = value.strip()
        if value and not _GUID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a group Object ID; copy the GUID from the group's "
                "Overview in Entra, e.g. 3f1c7a52-8d4e-4b2a-9c61-0e5d7b8a4f20"
            )
        return value


# A capped outcome sheet of report.xlsx is the header row, the rows shown, a blank row and a
# note: all within Excel's 1,048,576 rows (exporters.report).
MAX_REPORT_ROWS_PER_SHEET = 1_048_576 - 3


class ReportSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # decisions.csv always has every row; 100,000 rows a sheet took 0.9 s of each run
    max_rows_per_sheet: int = Field(default=20_000, ge=1)
    # The Funnel sheet reads the run's PCs back from the ledger: about 9 µs a PC (2026-12-07,
    # 100,000 PCs 0.93 s on SQLite, column by column): above this many the sheet says how to
    # get it instead.
    funnel_max_pcs: int = Field(default=50_000, ge=0)

    @field_validator("max_rows_per_sheet")
    @classmethod
    def _fits_a_sheet(cls, value: int) -> int:
        if value > MAX_REPORT_ROWS_PER_SHEET:
            raise ValueError(
                f"{value:,} is more than an Excel sheet holds with its header and note; "
                f"use at most {MAX_REPORT_ROWS_PER_SHEET:,} (decisions.csv has every row)"
            )
        return value


class DeliverySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["folder", "s3"] = "folder"
    folder: str = (
        ""  # kind=folder: "" = the run folder is the hand-off; else copy to <folder>/<run_id>/
    )
    s3: S3Settings = Field(default_factory=S3Settings)

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> DeliverySettings:
        if self.kind == "s3" and not self.s3.bucket:
            raise ValueError("delivery.kind = 's3' needs delivery.s3.bucket")
        return self
