"""Windows Autopilot identities: one form whatever the source, and which serial has one.

A PC registered in Autopilot has an Entra device before its first boot, so the static
group can hold it before it enrols. Its identity is found by serial number; a serial
with two identities (registered twice, by the OEM and again from a hash CSV, or after
a board swap) names no one PC: it is reported, never guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from eidflow import schema
from eidflow.identifiers import guid

# Graph's and Intune's way of saying "none" in a GUID field (managedDeviceId before enrolment).
NO_GUID = "00000000-0000-0000-0000-000000000000"


def identities_frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    """Autopilot identity columns (an export file's or Graph's) as ``AUTOPILOT_COLUMNS``:
    serials trimmed and upper-cased as the manifest's are, GUIDs compacted, the zero
    GUID as ``""``."""
    azure_id = guid.compact_column(columns[schema.AP_AZURE_AD_DEVICE_ID])
    managed_id = guid.compact_column(columns[schema.AP_MANAGED_DEVICE_ID])
    frame = pd.DataFrame(
        {
            schema.AP_ID: columns[schema.AP_ID].str.strip(),
            schema.AP_SERIAL: columns[schema.AP_SERIAL].str.strip().str.upper(),
            schema.AP_AZURE_AD_DEVICE_ID: azure_id.where(azure_id != NO_GUID, ""),
            schema.AP_MANAGED_DEVICE_ID: managed_id.where(managed_id != NO_GUID, ""),
            schema.AP_GROUP_TAG: columns[schema.AP_GROUP_TAG].str.strip(),
            schema.AP_ENROLLMENT_STATE: columns[schema.AP_ENROLLMENT_STATE].str.strip(),
        }
    )
    return frame[list(schema.AUTOPILOT_COLUMNS)]


def identities_by_serial(
    serials: pd.Series, identities: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """For each serial: how many identities it has, and the line of its first (``-1``: none).

    The same identity listed twice (an export holding a line twice) counts once; identities
    without a serial match nothing. Worked on integer codes: a million identities in a
    fraction of a second.
    """
    known, wanted = _shared_codes(identities[schema.AP_SERIAL], serials)
    size = len(known) + len(wanted)
    distinct = _text(identities[schema.AP_SERIAL]) != ""
    shared = np.flatnonzero(distinct & (np.bincount(known, minlength=size)[known] > 1))
    if len(shared):  # only lines of a serial listed more than once can repeat an identity
        again = identities.iloc[shared]
        keys = pd.DataFrame(
            {
                "serial": known[shared],
                "id": _codes(again[schema.AP_ID]),
                "device": _codes(again[schema.AP_AZURE_AD_DEVICE_ID]),
            }
        )
        distinct[shared[keys.duplicated().to_numpy()]] = False
    lines = np.flatnonzero(distinct)
    per_serial = np.bincount(known[lines], minlength=size)
    first = np.full(size, -1, dtype=np.int64)
    first[known[lines[::-1]]] = lines[::-1]  # the first line of each serial is written last
    return per_serial[wanted].astype(np.int64), first[wanted]


def _text(column: pd.Series) -> np.ndarray:
    return column.fillna("").astype("str").to_numpy(dtype=object)


def _codes(column: pd.Series) -> np.ndarray:
    return _shared_codes(column, column.iloc[:0])[0]


def _shared_codes(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes for the text values of both columns from one numbering."""
    values = [pa.array(c.fillna("").astype("str"), type=pa.large_string()) for c in (first, second)]
    chunks = [
        chunk for v in values for chunk in (v.chunks if isinstance(v, pa.ChunkedArray) else [v])
    ]
    encoded = pa.chunked_array(chunks, pa.large_string()).dictionary_encode()
    codes = encoded.combine_chunks().indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes[: len(first)], codes[len(first) :]
