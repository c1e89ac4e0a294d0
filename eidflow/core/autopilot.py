"""Windows Autopilot identities: one form whatever the source, and which serial has one.

A PC registered in Autopilot has an Entra device before its first boot, so the static
group can hold it before it enrols. Its identity is found by serial number; a serial
with two identities (registered twice, by the OEM and again from a hash CSV, or after
a board swap) names no one PC: it is reported, never guessed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    """For each serial: how many identities it has, and the line of one of them (``-1``: none).

    The same identity listed twice (an export holding a line twice) counts once; identities
    without a serial match nothing.
    """
    identities = identities.reset_index(drop=True)  # a line is a position from here on
    lines = identities[identities[schema.AP_SERIAL].astype("str") != ""].drop_duplicates(
        subset=[schema.AP_ID, schema.AP_SERIAL, schema.AP_AZURE_AD_DEVICE_ID]
    )
    known = pd.Index(lines[schema.AP_SERIAL].astype("str"))
    codes, distinct = pd.factorize(known)
    per_serial = np.bincount(codes, minlength=len(distinct)) if len(codes) else np.zeros(0, int)
    where = pd.Index(distinct).get_indexer(serials.fillna("").astype("str"))
    count = np.where(where >= 0, per_serial[np.maximum(where, 0)] if len(distinct) else 0, 0)
    first = np.full(len(distinct), -1, dtype=np.int64)
    if len(codes):
        order = np.arange(len(codes))[::-1]  # the first line of each serial is written last
        first[codes[order]] = lines.index.to_numpy()[order]
    line = np.where(where >= 0, first[np.maximum(where, 0)] if len(distinct) else -1, -1)
    return count.astype(np.int64), line.astype(np.int64)
