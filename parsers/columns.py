"""Which column holds what: header aliases, header-row search, and per-OEM profiles.

Headers are compared case-insensitively, ignoring spaces and punctuation
(``S/N`` == ``sn``, ``IMEI 1`` == ``imei1``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from eidflow import schema
from eidflow.errors import ManifestError
from parsers.config import ManifestProfile, ParserSettings

# field -> header aliases, most specific first. Sources: domain.md, OEM ASN and Autopilot files.
ALIASES: dict[str, tuple[str, ...]] = {
    "eid": (
        "EID",
        "eUICC ID",
        "EUICC",
        "eUICC EID",
        "eSIM ID",
        "eSIM EID",
        "EID Number",
        "EID No",
        "eSIM EID Number",
        "eUICC Identifier",
        "eUICC Number",
    ),
    "serial": (
        "Serial Number",
        "Serial",
        "Serial No",
        "Serial Num",
        "S/N",
        "SN",
        "Device Serial Number",
        "Device Serial",
        "Service Tag",
        "System Serial Number",
        "Unit Serial Number",
        "PC Serial Number",
        "Product Serial Number",
    ),
    "imei": ("IMEI", "IMEI1", "IMEI 1", "IMEI Number", "IMEI1 Number", "Primary IMEI", "WWAN IMEI"),
    "imei2": ("IMEI2", "IMEI 2", "IMEI2 Number", "Secondary IMEI"),
    "manufacturer": (
        "Manufacturer",
        "OEM",
        "Vendor",
        "Make",
        "Brand",
        "Mfr",
        "Mfg",
        "Manufacturer Name",
    ),
    "model": (
        "Model",
        "Model Name",
        "Device Model",
        "Product Name",
        "Product Description",
        "Description",
        "Item Description",
    ),
    "sku": ("SKU", "Part Number", "Product Number", "Part No", "PN", "MTM", "Material"),
    "po_number": (
        "PO Number",
        "PO",
        "PO No",
        "Purchase Order",
        "Purchase Order Number",
        "Customer PO",
        "Customer PO Number",
    ),
    "order_number": (
        "Order Number",
        "Order",
        "Order No",
        "Sales Order",
        "Sales Order Number",
        "SO Number",
    ),
    "asn": ("ASN", "ASN Number", "Advance Ship Notice", "Delivery Number", "Shipment Number"),
    "ship_date": ("Ship Date", "Shipped Date", "Shipment Date", "Date Shipped", "Ship Dt"),
    "customer": ("Customer", "Customer Name", "Sold To", "Sold To Name", "End Customer"),
    # Read only when asked for (schema.AUTOPILOT_FIELDS): the Autopilot import's own headers first.
    schema.HARDWARE_HASH: (
        "Hardware Hash",
        "Device Hardware Hash",
        "4K Hardware Hash",
        "Hardware Hash (4K)",
        "HW Hash",
        "HWID",
        "Hardware ID",
    ),
    schema.PRODUCT_ID: ("Windows Product ID", "Windows Product Key ID", "Product Key ID"),
}

# Manifest frame column for each field.
FIELD_COLUMN: dict[str, str] = {
    "eid": schema.EID_RAW,
    "serial": schema.SERIAL_RAW,
    "imei": schema.IMEI_RAW,
    "imei2": schema.IMEI2_RAW,
    **{name: name for name in schema.DESCRIPTIVE},
    **{name: name for name in schema.AUTOPILOT_FIELDS},
}

_NOT_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def normalise_header(text: str) -> str:
    """``"S/N "`` -> ``"sn"``: lower case, letters and digits only."""
    return _NOT_ALNUM.sub("", text).casefold()


_ALIAS_FIELD: dict[str, str] = {
    normalise_header(alias): field for field, aliases in ALIASES.items() for alias in aliases
}
# header key -> eidflow's name for it (the first alias with that key: "S/N" for "sn")
_ALIAS_NAME: dict[str, str] = {
    normalise_header(alias): alias for aliases in ALIASES.values() for alias in reversed(aliases)
}

PROFILE_HINT = (
    "Name the columns in a profile in eidflow.toml, e.g. [parsers.profiles.myoem] "
    'eid = "<EID header>" serial = "<serial header>", then pass --oem-profile myoem '
    "(docs/manifests.md, 'Per-OEM profiles')."
)


# Headers only Intune's and Entra's device exports have (normalised): a file holding three of
# them is such an export given where a manifest belongs.
_EXPORT_HEADERS = {
    "an Intune devices export (DevicesWithInventory)": (
        {
            "deviceid",
            "azureaddeviceid",
            "microsoftentradeviceid",
            "enrollmentdate",
            "lastcheckin",
            "primaryuserupn",
            "jointype",
            "devicename",
            "osversion",
        },
        "--inventory",
    ),
    "an Entra devices export (exportDevice)": (
        {
            "deviceid",
            "objectid",
            "accountenabled",
            "operatingsystem",
            "registrationtime",
            "approximatelastsignindatetime",
            "mdmdisplayname",
            "trusttype",
            "jointypetrusttype",
        },
        "--entra-devices",
    ),
}


def not_a_manifest(file: str, rows: Sequence[Sequence[str]]) -> ManifestError | None:
    """The error for an Intune or Entra export given as a manifest, if one of ``rows`` is its
    header; else None."""
    for cells in rows:
        keys = {normalise_header(str(cell)) for cell in cells}
        for kind, (headers, option) in _EXPORT_HEADERS.items():
            if len(keys & headers) >= 3:
                return ManifestError(
                    file,
                    f"is {kind}, not a shipment manifest.",
                    todo=f"Give it with {option}, and the OEM's or reseller's manifest as"
                    " the file to ingest.",
                )
    return None


class NoEidColumn(ManifestError):
    """A device-like table (serial numbers, models) without an EID column."""


def alias_field(header: str) -> str | None:
    """The field a header stands for by the built-in aliases, or None."""
    return _ALIAS_FIELD.get(normalise_header(header))


def looks_like_header(cells: Sequence[str]) -> bool:
    """A device table's header: an EID or serial alias and one more known column, or a lone EID."""
    filled = [cell for cell in cells if cell.strip()]
    found = {alias_field(cell) for cell in filled} - {None}
    if found == {"eid"} and len(filled) == 1:
        return True
    return bool(found & {"eid", "serial"}) and len(found) >= 2


def find_header(
    rows: Sequence[Sequence[str]],
    settings: ParserSettings,
    profile: ManifestProfile | None,
    first_row: int = 1,
) -> int | None:
    """The 0-based index of the header among ``rows`` (the first rows, ``rows[0]`` being row
    ``first_row``), or None."""
    if profile is not None and profile.header_row is not None:
        index = profile.header_row - first_row
        return index if 0 <= index < len(rows) else None
    for index, cells in enumerate(rows[: settings.header_search_rows]):
        if profile is not None and _has_profile_columns(cells, profile):
            return index
        if looks_like_header(cells):
            return index
    return None


def two_row_header(
    head: Sequence[Sequence[str]], settings: ParserSettings, profile: ManifestProfile | None
) -> tuple[int, list[str]] | None:
    """A header of two rows read as one, when no single row holds the table's columns:
    ``(index of the lower row, the cells)``, else None.

    A group title merged across columns above their names ("Wireless identifiers" over
    "EID", "IMEI 1", "IMEI 2"; the merged value sits in its first cell only) beside names
    that span both rows ("Serial Number"): each column's name is its lower cell, or its
    upper one where the lower is empty. Both rows must name columns eidflow knows (or the
    profile's), so a data row below a header is never taken for half of one.
    """
    for index in range(min(len(head), settings.header_search_rows) - 1):
        upper, lower = head[index], head[index + 1]
        width = max(len(upper), len(lower))
        cells = [
            _cell(lower, column) if _cell(lower, column).strip() else _cell(upper, column)
            for column in range(width)
        ]
        if profile is not None and profile.columns():
            if _has_profile_columns(cells, profile) and not _has_profile_columns(upper, profile):
                return index + 1, cells
            continue
        fields_lower = {alias_field(cell) for cell in lower if cell.strip()} - {None}
        fields_upper = {alias_field(cell) for cell in upper if cell.strip()} - {None}
        found = fields_lower | fields_upper
        if (
            fields_lower
            and fields_upper
            and {"eid", "serial"} <= found
            and looks_like_header(cells)
        ):
            return index + 1, cells
    return None


def _cell(row: Sequence[str], column: int) -> str:
    return str(row[column]) if column < len(row) else ""


def _has_profile_columns(cells: Sequence[str], profile: ManifestProfile) -> bool:
    wanted = {normalise_header(text) for text in profile.columns().values()}
    present = {normalise_header(cell) for cell in cells}
    return bool(wanted) and wanted <= present


def pick_profile(
    rows: Sequence[Sequence[str]], settings: ParserSettings, name: str | None, file: str
) -> ManifestProfile | None:
    """The profile named by the caller, else the first whose ``recognise`` headers all appear."""
    if name:
        try:
            return settings.profiles[name]
        except KeyError:
            known = ", ".join(sorted(settings.profiles)) or "none"
            raise ManifestError(
                file,
                f"no parser profile named {name!r} (profiles defined: {known}).",
                todo="Add [parsers.profiles." + name + "] to eidflow.toml or fix the name.",
            ) from None
    for profile in settings.profiles.values():
        wanted = {normalise_header(text) for text in profile.recognise}
        if not wanted:
            continue
        for cells in rows[: settings.header_search_rows]:
            if wanted <= {normalise_header(cell) for cell in cells}:
                return profile
    return None


def map_columns(
    headers: Sequence[str],
    profile: ManifestProfile | None,
    file: str,
    sheet: str = "",
    row: int = 0,
    extra: Sequence[str] = (),
) -> dict[str, int]:
    """field -> column index for one header row; raises when the EID or serial column is unclear.

    ``extra``: the fields of ``schema.AUTOPILOT_FIELDS`` wanted too; the others are left out.
    """
    export = not_a_manifest(file, [headers])
    if export is not None:
        export.sheet, export.row = sheet, row or None
        raise export
    normalised = [normalise_header(cell) for cell in headers]
    unwanted = set(schema.AUTOPILOT_FIELDS) - set(extra)
    named = profile.columns() if profile is not None else {}
    fields: dict[str, int] = {}
    for field, header in named.items():
        if field in unwanted:
            continue
        try:
            fields[field] = normalised.index(normalise_header(header))
        except ValueError:
            raise ManifestError(
                file,
                f"the profile names column {header!r} for {field}, but the header row has no "
                f"column of that name ({_header_row(headers)}).",
                todo="Fix the column name in the profile.",
                sheet=sheet,
                row=row or None,
            ) from None
    candidates: dict[str, list[int]] = {}
    for index, key in enumerate(normalised):
        alias = _ALIAS_FIELD.get(key)
        if alias is not None and alias not in fields and alias not in unwanted:
            candidates.setdefault(alias, []).append(index)
    for field in ("eid", "serial"):
        found = candidates.get(field, [])
        if len(found) > 1:
            names = " and ".join(repr(_ALIAS_NAME[normalised[i]]) for i in found)
            raise ManifestError(
                file,
                f"two columns could hold the {_label(field)}: {names} ({_header_row(headers)}).",
                todo=PROFILE_HINT,
                sheet=sheet,
                row=row or None,
            )
    for field, found in candidates.items():
        fields[field] = min(found, key=lambda i: _priority(field, normalised[i]))
    if "eid" not in fields:
        raise NoEidColumn(
            file,
            f"no EID column found ({_header_row(headers)}).",
            todo=PROFILE_HINT,
            sheet=sheet,
            row=row or None,
        )
    return fields


def _priority(field: str, key: str) -> int:
    aliases = [normalise_header(alias) for alias in ALIASES[field]]
    return aliases.index(key)


def _label(field: str) -> str:
    return {"eid": "EID", "serial": "serial number"}.get(field, field)


def known_headers(cells: Sequence[str]) -> str:
    """The cells named like a field, by eidflow's own name for each (``'Serial Number'``,
    ``'S/N'``), or "": a message describes a file's header, it never quotes a cell."""
    keys = dict.fromkeys(normalise_header(str(cell)) for cell in cells)
    return ", ".join(repr(_ALIAS_NAME[key]) for key in keys if key in _ALIAS_NAME)


def _header_row(headers: Sequence[str]) -> str:
    count = sum(1 for cell in headers if str(cell).strip())
    return f"the header row has {count} named column(s); known: {known_headers(headers) or 'none'}"
