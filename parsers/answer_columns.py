"""Which column of an operator's answer file holds what: aliases, the header row, profiles.

Headers are compared as for manifests (``parsers.columns.normalise_header``: case,
spaces and punctuation ignored). An answer table needs an EID and a status column.
"""

from __future__ import annotations

from collections.abc import Sequence

from eidflow.errors import ManifestError
from parsers.answer_config import ResponseProfile
from parsers.columns import ALIASES as MANIFEST_ALIASES
from parsers.columns import normalise_header
from parsers.config import ParserSettings

# field -> header aliases, most specific first. Sources: vendors' bulk-import answers,
# GSMA SGP.22 ES2+ names (downloadOrder, confirmOrder, handleDownloadProgressInfo).
ALIASES: dict[str, tuple[str, ...]] = {
    "eid": (*MANIFEST_ALIASES["eid"], "Device EID", "EID Value"),
    "status": (
        "Status",
        "Result",
        "State",
        "Order Status",
        "Request Status",
        "Download Status",
        "Provisioning Status",
        "Activation Status",
        "Profile Status",
        "Execution Status",
        "Outcome",
        "Response",
        "Response Status",
    ),
    "reason": (
        "Reason",
        "Error",
        "Error Message",
        "Error Description",
        "Error Code",
        "Reason Code",
        "Rejection Reason",
        "Failure Reason",
        "Status Reason",
        "Status Message",
        "Message",
        "Details",
        "Comment",
        "Comments",
        "Remarks",
    ),
    "iccid": ("ICCID", "ICC ID", "ICCID Number", "Profile ICCID", "Bound ICCID", "SIM ICCID"),
    "smdp_address": (
        "SM-DP+ Address",
        "SMDP+ Address",
        "SM-DP Address",
        "SMDP Address",
        "SM-DP+",
        "SMDP+",
        "SMDP",
        "SM-DP+ FQDN",
        "Download Server",
        "Activation Server",
    ),
    "order_id": (
        "Order ID",
        "Order Number",
        "Order",
        "Batch ID",
        "Batch",
        "Batch Number",
        "Request ID",
        "Job ID",
        "Transaction ID",
        "Reference",
    ),
    "answered_at": (
        "Timestamp",
        "Time",
        "Date",
        "Date Time",
        "Processed At",
        "Processed Date",
        "Processed",
        "Completed At",
        "Updated At",
        "Status Date",
        "Response Time",
    ),
}
_FIELD = {normalise_header(alias): f for f, aliases in ALIASES.items() for alias in aliases}
_NAME = {
    normalise_header(alias): alias for aliases in ALIASES.values() for alias in reversed(aliases)
}
LABELS = {"eid": "EID", "status": "status"}

PROFILE_HINT = (
    "Name the columns in eidflow.toml, e.g. [parsers.response_profiles.<operator>] "
    'eid = "<EID header>" status = "<status header>" (docs/answers.md, "A profile per operator").'
)


def looks_like_header(cells: Sequence[str]) -> bool:
    """An answer table's header: an EID column and a status column."""
    found = {_FIELD.get(normalise_header(cell)) for cell in cells if cell.strip()}
    return {"eid", "status"} <= found


def find_header(
    rows: Sequence[Sequence[str]],
    settings: ParserSettings,
    profile: ResponseProfile | None,
    first_row: int = 1,
) -> int | None:
    """The 0-based index of the header among ``rows`` (``rows[0]`` being row ``first_row``)."""
    if profile is not None and profile.header_row is not None:
        index = profile.header_row - first_row
        return index if 0 <= index < len(rows) else None
    wanted = {normalise_header(text) for text in profile.columns().values()} if profile else set()
    for index, cells in enumerate(rows[: settings.header_search_rows]):
        present = {normalise_header(cell) for cell in cells}
        if (wanted and wanted <= present) or looks_like_header(cells):
            return index
    return None


def pick_profile(
    rows: Sequence[Sequence[str]], settings: ParserSettings, name: str
) -> ResponseProfile | None:
    """The profile ``name`` if defined, else the first whose ``recognise`` headers all appear
    (the command line checks that a profile it was told to use exists)."""
    profiles = settings.response_profiles
    if name in profiles:
        return profiles[name]
    for profile in profiles.values():
        wanted = {normalise_header(text) for text in profile.recognise}
        if wanted and any(
            wanted <= {normalise_header(c) for c in cells}
            for cells in rows[: settings.header_search_rows]
        ):
            return profile
    return None


def map_columns(
    headers: Sequence[str], profile: ResponseProfile | None, file: str, sheet: str, row: int
) -> dict[str, int]:
    """field -> column index; raises when the EID or status column is missing or unclear."""
    normalised = [normalise_header(cell) for cell in headers]
    fields: dict[str, int] = {}
    for field, header in (profile.columns() if profile else {}).items():
        if normalise_header(header) not in normalised:
            raise ManifestError(
                file,
                f"the response profile names column {header!r} for {field}, but the header"
                f" row has no column of that name ({_describe(headers)}).",
                todo="Fix the column name in the profile.",
                sheet=sheet,
                row=row,
            )
        fields[field] = normalised.index(normalise_header(header))
    candidates: dict[str, list[int]] = {}
    for index, key in enumerate(normalised):
        alias = _FIELD.get(key)
        if alias is not None and alias not in fields and index not in fields.values():
            candidates.setdefault(alias, []).append(index)
    for field, found in candidates.items():
        if field in LABELS and len(found) > 1:
            names = " and ".join(repr(_NAME[normalised[i]]) for i in found)
            raise ManifestError(
                file,
                f"two columns could hold the {LABELS[field]}: {names} ({_describe(headers)}).",
                todo=PROFILE_HINT,
                sheet=sheet,
                row=row,
            )
        order = [normalise_header(alias) for alias in ALIASES[field]]
        fields[field] = min(found, key=lambda i: order.index(normalised[i]))
    for field, label in LABELS.items():
        if field not in fields:
            raise ManifestError(
                file,
                f"no {label} column found ({_describe(headers)}).",
                todo=PROFILE_HINT,
                sheet=sheet,
                row=row,
            )
    return fields


def known_headers(cells: Sequence[str]) -> str:
    """The cells named like an answer field, by eidflow's own name for each (never quoted)."""
    keys = dict.fromkeys(normalise_header(str(cell)) for cell in cells)
    return ", ".join(repr(_NAME[key]) for key in keys if key in _NAME)


def _describe(headers: Sequence[str]) -> str:
    count = sum(1 for cell in headers if str(cell).strip())
    return f"the header row has {count} named column(s); known: {known_headers(headers) or 'none'}"
