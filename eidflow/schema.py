"""Column names of the frames that pass between parsers, core, ledger and exporters.

Every frame is plain pandas with text columns (missing text is ``""``, never NA),
so that the core can work column-wise without null checks.
"""

from __future__ import annotations

from typing import Final

# What a parser returns: one line per data row of a manifest, in input order.
SOURCE_FILE: Final = "source_file"
SHEET: Final = "sheet"
ROW: Final = "row"  # the row number a person sees (int)
EID_RAW: Final = "eid_raw"  # the cell exactly as read
EID_NUMERIC: Final = "eid_numeric"  # bool: the cell was a spreadsheet number
SERIAL_RAW: Final = "serial_raw"
IMEI_RAW: Final = "imei_raw"
IMEI_NUMERIC: Final = "imei_numeric"  # bool: the cell was a spreadsheet number
IMEI2_RAW: Final = "imei2_raw"

PO_NUMBER: Final = "po_number"  # operators can be routed by it
# Descriptive fields carried through to the hand-off files when the manifest has them.
DESCRIPTIVE: Final = (
    "manufacturer",
    "model",
    "sku",
    PO_NUMBER,
    "order_number",
    "asn",
    "ship_date",
    "customer",
)

# Manifest fields read only when a command asks for them (``autopilot-csv``): a hardware
# hash is some 4,000 characters, which no ingest should carry for a million rows.
HARDWARE_HASH: Final = "hardware_hash"
PRODUCT_ID: Final = "product_id"  # the Windows product id
AUTOPILOT_FIELDS: Final = (HARDWARE_HASH, PRODUCT_ID)

MANIFEST_COLUMNS: Final = (
    SOURCE_FILE,
    SHEET,
    ROW,
    EID_RAW,
    EID_NUMERIC,
    SERIAL_RAW,
    IMEI_RAW,
    IMEI_NUMERIC,
    IMEI2_RAW,
    *DESCRIPTIVE,
)

# What the core adds.
EID: Final = "eid"
SERIAL_NUMBER: Final = "serial_number"
IMEI: Final = "imei"
IMEI2: Final = "imei2"
STATUS: Final = "status"
REASON: Final = "reason"
DETAIL: Final = "detail"  # a sentence for people, beside the reason code
WARNINGS: Final = "warnings"
INTUNE_STATE: Final = "intune_state"
ENTRA_OBJECT_ID: Final = "entra_object_id"
INTUNE_DEVICE_ID: Final = "intune_device_id"
AZURE_AD_DEVICE_ID: Final = "azure_ad_device_id"
OPERATOR: Final = "operator"
# What reconciling sets on accepted rows; empty on every other row.
RECONCILED: Final = (INTUNE_STATE, ENTRA_OBJECT_ID, AZURE_AD_DEVICE_ID, INTUNE_DEVICE_ID)

# decisions.csv, in this order (docs/run-folder.md: the contract's columns, then `detail` and `operator`).
DECISION_COLUMNS: Final = (
    SOURCE_FILE,
    SHEET,
    ROW,
    EID_RAW,
    EID,
    SERIAL_NUMBER,
    IMEI,
    STATUS,
    REASON,
    WARNINGS,
    INTUNE_STATE,
    ENTRA_OBJECT_ID,
    DETAIL,
    OPERATOR,
)

# Intune inventory frame (parsers.read_intune_inventory): one line per managed-device record.
INV_DEVICE_ID: Final = "intune_device_id"
INV_DEVICE_NAME: Final = "device_name"
INV_SERIAL: Final = "serial_number"  # normalised like the manifest's: trimmed, upper-case
INV_IMEI: Final = "imei"  # digits only, "" when none
INV_AZURE_AD_DEVICE_ID: Final = "azure_ad_device_id"  # Entra deviceId (lower-case GUID)
INV_OS_VERSION: Final = "os_version"
INV_LAST_CHECK_IN: Final = "last_check_in"  # datetime64[ns, UTC], NaT when unknown
INVENTORY_COLUMNS: Final = (
    INV_DEVICE_ID,
    INV_DEVICE_NAME,
    INV_SERIAL,
    INV_IMEI,
    INV_AZURE_AD_DEVICE_ID,
    INV_OS_VERSION,
    INV_LAST_CHECK_IN,
    "manufacturer",
    "model",
)

# Entra devices frame (parsers.read_entra_devices).
ENTRA_DEVICE_ID: Final = "device_id"  # lower-case GUID, joins INV_AZURE_AD_DEVICE_ID
ENTRA_OBJECT_ID_COL: Final = "object_id"
ENTRA_DISPLAY_NAME: Final = "display_name"
ENTRA_COLUMNS: Final = (ENTRA_DEVICE_ID, ENTRA_OBJECT_ID_COL, ENTRA_DISPLAY_NAME)

# Windows Autopilot identities frame (parsers.read_autopilot_identities, the Graph reader):
# one line per windowsAutopilotDeviceIdentity.
AP_ID: Final = "autopilot_id"
AP_SERIAL: Final = "serial_number"  # normalised like the manifest's: trimmed, upper-case
AP_AZURE_AD_DEVICE_ID: Final = "azure_ad_device_id"  # Entra deviceId (lower-case GUID), or ""
AP_MANAGED_DEVICE_ID: Final = "managed_device_id"  # the Intune device once enrolled, else ""
AP_GROUP_TAG: Final = "group_tag"
AP_ENROLLMENT_STATE: Final = "enrollment_state"
AUTOPILOT_COLUMNS: Final = (
    AP_ID,
    AP_SERIAL,
    AP_AZURE_AD_DEVICE_ID,
    AP_MANAGED_DEVICE_ID,
    AP_GROUP_TAG,
    AP_ENROLLMENT_STATE,
)

# The ledger's pending devices (``pending_enrollment``): a device still
# ``autopilot_registered`` stays pending until it enrols, also once it is a member; for such
# a device, the object id it is a member of the group by ("" when it is not) and the object
# id its claim holds.
MEMBER_OBJECT_ID: Final = "member_object_id"
RECORDED_OBJECT_ID: Final = "recorded_object_id"

# What the ledger stores of a claimed row as text (its ``row`` too, as a number): the device,
# where it came from, its operator; with ``CLAIMED_STATE``, its Intune state.
CLAIMED_TEXT: Final = (EID, SERIAL_NUMBER, IMEI, SOURCE_FILE, *DESCRIPTIVE, OPERATOR)
CLAIMED_STATE: Final = (INTUNE_STATE, ENTRA_OBJECT_ID)
