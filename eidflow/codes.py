"""The status, reason, warning and Intune-state codes of ``decisions.csv``, defined once.

The codes are part of the run-output contract (``docs/run-folder.md``, each code explained in ``docs/codes.md``):
downstream scripts match on them, so they are never renamed.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


class Reason(StrEnum):
    EID_MISSING = "eid_missing"
    EID_NOT_DIGITS = "eid_not_digits"
    EID_LENGTH = "eid_length"
    EID_CHECKSUM = "eid_checksum"
    EID_PRECISION_LOST = "eid_precision_lost"
    SERIAL_MISSING = "serial_missing"
    DUPLICATE_IN_RUN = "duplicate_in_run"
    ALREADY_REGISTERED = "already_registered"
    # another run, not finished yet, holds the claim: if it fails, the next run takes it
    CLAIMED_BY_RUNNING_RUN = "claimed_by_running_run"
    CONFLICT_EID = "conflict_eid"
    CONFLICT_SERIAL = "conflict_serial"
    # the PC was retired (eidflow retire: returned, stolen, replaced): held back until
    # eidflow retire --undo puts it back
    RETIRED = "retired"

    @property
    def status(self) -> Status:
        return REASON_STATUS[self]


REASON_STATUS: dict[Reason, Status] = {
    Reason.EID_MISSING: Status.REJECTED,
    Reason.EID_NOT_DIGITS: Status.REJECTED,
    Reason.EID_LENGTH: Status.REJECTED,
    Reason.EID_CHECKSUM: Status.REJECTED,
    Reason.EID_PRECISION_LOST: Status.REJECTED,
    Reason.SERIAL_MISSING: Status.REJECTED,
    Reason.DUPLICATE_IN_RUN: Status.DUPLICATE,
    Reason.ALREADY_REGISTERED: Status.DUPLICATE,
    Reason.CLAIMED_BY_RUNNING_RUN: Status.DUPLICATE,
    Reason.CONFLICT_EID: Status.CONFLICT,
    Reason.CONFLICT_SERIAL: Status.CONFLICT,
    Reason.RETIRED: Status.CONFLICT,
}


class WarningCode(StrEnum):
    IMEI_INVALID = "imei_invalid"
    IMEI_LEADING_ZERO_LOST = "imei_leading_zero_lost"  # 14 digits: a spreadsheet number ate the 0
    IMEI2_INVALID = "imei2_invalid"
    # one digit 15 times (000000000000000 passes the Luhn check): filled in for want of one
    # a PO, order or ASN number in a spreadsheet number's form (8.9E+18, or 17 digits then
    # zeros): its last digits are probably lost; the value goes on as read
    NUMBER_DAMAGED = "number_damaged"
    IMEI_PLACEHOLDER = "imei_placeholder"
    IMEI2_PLACEHOLDER = "imei2_placeholder"
    EID_PREFIX = "eid_prefix"  # not 89: newer (SGP.29) numbering, or a typo worth a look
    OS_VERSION_UNKNOWN = "os_version_unknown"  # enrolled, but no readable OS version in Intune
    SHEET_HIDDEN = "sheet_hidden"  # from a worksheet Excel does not show: is it this shipment?
    # accepted for its operator, but another operator holds this EID already (a PO routed
    # anew, a second carrier): an eUICC can take both, yet it deserves a look
    HANDED_TO_OTHER_OPERATOR = "handed_to_other_operator"
    ENTRA_UNRESOLVED = (
        "entra_unresolved"  # enrolled, but no Entra object id: not in the group lists
    )
    # not enrolled, and Windows Autopilot holds two or more identities for its serial:
    # which one is this PC is not guessed, so it waits for its enrolment
    AUTOPILOT_SERIAL_TWICE = "autopilot_serial_twice"
    # the manifest row had no manufacturer or model: filled in from the PC's Intune record
    MODEL_FROM_INTUNE = "model_from_intune"


class IntuneState(StrEnum):
    ENROLLED = "enrolled"
    NOT_ENROLLED = "not_enrolled"
    IMEI_MISMATCH = "imei_mismatch"
    OS_UNSUPPORTED = "os_unsupported"
    # not enrolled yet, but registered in Windows Autopilot: its Entra device exists before
    # its first boot, so it can be in the group already
    AUTOPILOT_REGISTERED = "autopilot_registered"


# The states of a device the static group should hold (when it has an Entra object id).
GROUP_MEMBER_STATES = (IntuneState.ENROLLED, IntuneState.AUTOPILOT_REGISTERED)
