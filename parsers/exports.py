"""The Intune "All devices" export, the Entra "Download devices" export and the Windows
Autopilot devices export, as frames.

Both are CSV with friendly headers, ``,`` or ``;`` depending on the locale; Intune's
comes as a zip holding one CSV. Records are kept as they are (one line each): the
core picks the latest check-in among several records of one serial. Device and object
ids are GUIDs without braces or spaces, in lower case (``eidflow.identifiers.guid``).
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence

import pandas as pd

from eidflow import schema
from eidflow.core import autopilot
from eidflow.errors import InputError, ManifestError
from eidflow.identifiers import guid
from parsers import text
from parsers.columns import normalise_header
from parsers.rows import constant_text

# An Intune export of a very large tenant is big; this only stops a zip bomb.
MAX_EXPORT_BYTES = 4 * 1024 * 1024 * 1024
MAX_CELL_CHARS = 32_767
_CONTENT = re.compile(rb"[^ \t\r\n\x00\xef\xbb\xbf\xff\xfe]")  # a byte that is not blank or a BOM

INTUNE_HEADERS: dict[str, tuple[str, ...]] = {
    schema.INV_DEVICE_ID: ("Device ID", "Intune Device ID", "id"),
    schema.INV_DEVICE_NAME: ("Device name", "deviceName"),
    schema.INV_SERIAL: ("Serial number", "serialNumber"),
    schema.INV_IMEI: ("IMEI",),
    schema.INV_AZURE_AD_DEVICE_ID: (
        "Azure AD Device ID",
        "Microsoft Entra Device ID",
        "Entra Device ID",
        "azureADDeviceId",
        "AAD Device ID",
        "ReferenceId",  # the DevicesWithInventory export job's column id
    ),
    schema.INV_OS_VERSION: ("OS version", "osVersion"),
    schema.INV_LAST_CHECK_IN: ("Last check-in", "Last check in", "lastSyncDateTime", "LastContact"),
    "manufacturer": ("Manufacturer",),
    "model": ("Model",),
}
INTUNE_REQUIRED = (schema.INV_SERIAL, schema.INV_AZURE_AD_DEVICE_ID)

ENTRA_HEADERS: dict[str, tuple[str, ...]] = {
    schema.ENTRA_DEVICE_ID: ("deviceId", "Device ID"),
    schema.ENTRA_OBJECT_ID_COL: ("objectId", "Object ID", "id"),
    schema.ENTRA_DISPLAY_NAME: ("displayName", "Display name", "Name"),
}
ENTRA_REQUIRED = (schema.ENTRA_DEVICE_ID, schema.ENTRA_OBJECT_ID_COL)

# The admin center's friendly headers, and Graph's windowsAutopilotDeviceIdentity names.
AUTOPILOT_HEADERS: dict[str, tuple[str, ...]] = {
    schema.AP_ID: ("id", "Autopilot ID", "Autopilot device ID"),
    schema.AP_SERIAL: ("Serial number", "Device Serial Number", "serialNumber"),
    schema.AP_AZURE_AD_DEVICE_ID: (
        "Microsoft Entra device ID",
        "Azure AD device ID",
        "Entra device ID",
        "AAD device ID",
        "azureActiveDirectoryDeviceId",
        "azureAdDeviceId",
    ),
    schema.AP_MANAGED_DEVICE_ID: (
        "Intune device ID",
        "Managed device ID",
        "Associated Intune device ID",
        "managedDeviceId",
    ),
    schema.AP_GROUP_TAG: ("Group tag", "groupTag", "Order ID", "orderIdentifier"),
    schema.AP_ENROLLMENT_STATE: ("Enrollment state", "enrollmentState"),
}
AUTOPILOT_REQUIRED = (schema.AP_SERIAL, schema.AP_AZURE_AD_DEVICE_ID)


def read_intune_inventory(name: str, data: bytes) -> pd.DataFrame:
    """The Intune DevicesWithInventory export (CSV, or the zip holding it) as INVENTORY_COLUMNS."""
    csv_name, csv_data = _unzip_single_csv(name, data) if data.startswith(b"PK") else (name, data)
    columns = _read_export(csv_name, csv_data, INTUNE_HEADERS, INTUNE_REQUIRED, "Intune")
    frame = pd.DataFrame(
        {
            schema.INV_DEVICE_ID: columns[schema.INV_DEVICE_ID].str.strip(),
            schema.INV_DEVICE_NAME: columns[schema.INV_DEVICE_NAME].str.strip(),
            schema.INV_SERIAL: columns[schema.INV_SERIAL].str.strip().str.upper(),
            schema.INV_IMEI: columns[schema.INV_IMEI].str.replace(r"\D", "", regex=True),
            schema.INV_AZURE_AD_DEVICE_ID: guid.compact_column(
                columns[schema.INV_AZURE_AD_DEVICE_ID]
            ),
            schema.INV_OS_VERSION: columns[schema.INV_OS_VERSION].str.strip(),
            schema.INV_LAST_CHECK_IN: parse_check_in(columns[schema.INV_LAST_CHECK_IN]),
            "manufacturer": columns["manufacturer"].str.strip(),
            "model": columns["model"].str.strip(),
        }
    )
    return frame[list(schema.INVENTORY_COLUMNS)]


def read_entra_devices(name: str, data: bytes) -> pd.DataFrame:
    """The Entra devices export (``exportDevice_*.csv``) as ENTRA_COLUMNS, GUIDs compacted.

    A value that is still not a GUID is kept as read: the core resolves no object id with it.
    """
    columns = _read_export(name, data, ENTRA_HEADERS, ENTRA_REQUIRED, "Entra devices")
    frame = pd.DataFrame(
        {
            schema.ENTRA_DEVICE_ID: guid.compact_column(columns[schema.ENTRA_DEVICE_ID]),
            schema.ENTRA_OBJECT_ID_COL: guid.compact_column(columns[schema.ENTRA_OBJECT_ID_COL]),
            schema.ENTRA_DISPLAY_NAME: columns[schema.ENTRA_DISPLAY_NAME].str.strip(),
        }
    )
    return frame[list(schema.ENTRA_COLUMNS)]


def read_autopilot_identities(name: str, data: bytes) -> pd.DataFrame:
    """A Windows Autopilot devices export (CSV) as AUTOPILOT_COLUMNS, GUIDs compacted and the
    zero GUID (Graph's "none") as ``""``."""
    columns = _read_export(name, data, AUTOPILOT_HEADERS, AUTOPILOT_REQUIRED, "Autopilot")
    return autopilot.identities_frame(columns)


def parse_check_in(values: pd.Series) -> pd.Series:
    """Check-in times as UTC datetimes; NaT when blank or unparseable. Naive times count as UTC."""
    stripped = values.str.strip().str.removesuffix(" UTC")
    parsed = pd.to_datetime(stripped, format="ISO8601", utc=True, errors="coerce")
    retry = parsed.isna() & (stripped != "")
    if retry.any():
        parsed[retry] = pd.to_datetime(stripped[retry], format="mixed", utc=True, errors="coerce")
    return parsed.astype("datetime64[ns, UTC]")


def _read_export(
    name: str,
    data: bytes,
    wanted: dict[str, tuple[str, ...]],
    required: Sequence[str],
    what: str,
) -> dict[str, pd.Series]:
    keys = {
        column: {normalise_header(alias) for alias in aliases} for column, aliases in wanted.items()
    }
    required_keys = set().union(*(keys[column] for column in required))

    def find(head: Sequence[Sequence[str]]) -> int | None:
        for index, cells in enumerate(head[:5]):
            present = {normalise_header(cell) for cell in cells}
            if all(present & keys[column] for column in required) and required_keys:
                return index
        return None

    try:
        if _CONTENT.search(data) is None:
            raise InputError(name, f"is empty: it is not an {what} export.", todo=_todo(what))
        table = text.read_text_table(name, data, find, max_cell_chars=MAX_CELL_CHARS)
    except ManifestError as error:  # not text: the advice is to export it again, as CSV
        raise InputError(error.file, error.what, todo=_todo(what), row=error.row) from None
    if table is None:
        # Its lines are never quoted (the file may hold anything): only the known headers.
        seen = {
            normalise_header(cell) for row in text.first_records(name, data)[:5] for cell in row
        }
        named: dict[str, str] = {}  # an export header by its key, the first alias given
        for alias in (alias for aliases in wanted.values() for alias in aliases):
            named.setdefault(normalise_header(alias), alias)
        known = [repr(alias) for key, alias in named.items() if key in seen]
        names = ", ".join(repr(wanted[column][0]) for column in required)
        raise InputError(
            name,
            f"is not an {what} export: the columns {names} are required; its first lines hold"
            f" {'only the export headers ' + ', '.join(known) if known else 'no export header'}.",
            todo=_todo(what),
        )
    normalised = [normalise_header(cell) for cell in table.headers]
    keep = table.nonblank
    everything = bool(keep.all())
    columns: dict[str, pd.Series] = {}
    for column in wanted:
        index = next((i for i, key in enumerate(normalised) if key in keys[column]), None)
        if index is None:
            columns[column] = constant_text("", int(keep.sum()))
        else:
            series = table.columns[index]
            columns[column] = series if everything else series[keep].reset_index(drop=True)
    return columns


def _todo(what: str) -> str:
    if what == "Autopilot":
        return (
            "Export Devices > Windows > Enrollment > Devices (Windows Autopilot) from the Intune"
            ' admin center and pass that file, or pass "graph".'
        )
    if what == "Intune":
        return (
            "Export Devices > All devices > Export from the Intune admin center and pass that file."
        )
    return "Download it from the Entra admin center: Devices > All devices > Download devices."


def _unzip_single_csv(name: str, data: bytes) -> tuple[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if "xl/workbook.xml" in archive.namelist():
                raise InputError(
                    name,
                    "is an Excel workbook; the Intune export is a CSV file (or the zip holding it).",
                    todo=_todo("Intune"),
                )
            members = [i for i in archive.infolist() if i.filename.lower().endswith(".csv")]
            if len(members) != 1:
                raise InputError(
                    name,
                    f"is a zip holding {len(members)} CSV files; the Intune export holds one.",
                    todo=_todo("Intune"),
                )
            member = members[0]
            if member.file_size > MAX_EXPORT_BYTES:
                raise InputError(
                    name,
                    f"would expand to {member.file_size:,} bytes, above {MAX_EXPORT_BYTES:,}.",
                    todo="Check the file; an Intune export is far smaller.",
                )
            return f"{name}!{member.filename}", archive.read(member)
    except (zipfile.BadZipFile, OSError, EOFError):
        raise InputError(
            name, "is a damaged or truncated zip archive.", todo=_todo("Intune")
        ) from None
