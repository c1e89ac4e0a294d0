"""The report's words for the run's codes: a label or sentence for each, and what to do next.

The codes stay what ``decisions.csv`` holds (``eidflow.codes``); a person reading
``report.xlsx`` sees the sentence, with the code in brackets to find the rows by. The
sentences are the ones ``decisions.csv``'s ``detail`` column holds (validate, dedupe,
actions), so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from eidflow.codes import IntuneState, Reason, Status, WarningCode
from eidflow.core import actions, dedupe, validate

FACTS = {
    "run_id": "Run",
    "eidflow_version": "eidflow version",
    "started_at": "Started (UTC)",
    "finished_at": "Finished (UTC)",
    "exit_status": "Exit status",
    "ledger": "Ledger",
    "rows": "Rows read",
    "unreadable": "Inputs that could not be read",
}
EXIT_STATUS = {
    0: "0: every input was read",
    1: "1: an input could not be read, or had no usable row (see Inputs)",
}
STATUS = {
    Status.ACCEPTED: "Accepted: handed to its operator",
    Status.REJECTED: "Rejected: not usable as sent",
    Status.DUPLICATE: "Duplicate: handed off already, not sent again",
    Status.CONFLICT: "Conflict: held back, its EID and serial disagree with other rows",
}
INTUNE_STATE = {
    IntuneState.ENROLLED: "Enrolled in Intune",
    IntuneState.NOT_ENROLLED: "Not enrolled in Intune yet",
    IntuneState.AUTOPILOT_REGISTERED: "Registered in Windows Autopilot, not enrolled yet",
    IntuneState.OS_UNSUPPORTED: "Windows below 11 22H2",
    IntuneState.IMEI_MISMATCH: "Intune reports another IMEI",
}
REASON: dict[str, str] = {**validate.DETAILS, **dedupe.DETAILS}
WARNING: dict[WarningCode, str] = {
    WarningCode.IMEI2_INVALID: "The second IMEI is not valid: it is left out of the operator's file.",
    WarningCode.IMEI2_PLACEHOLDER: "The second IMEI is one digit repeated: it is left out.",
    WarningCode.EID_PREFIX: "The EID does not begin with 89: newer numbering, or a typo worth a look.",
    WarningCode.OS_VERSION_UNKNOWN: "Enrolled, but Intune shows no readable Windows version.",
    WarningCode.MODEL_FROM_INTUNE: (
        "The manifest had no manufacturer or model: filled in from Intune's record of the PC."
    ),
    **actions.BY_WARNING,
}
COLUMNS = {"path": "file", "kind": "kind", "sha256": "sha256", "rows": "rows", "error": "error"}
_FIX_MANIFEST = "Ask the sender for a corrected file (the rejected sheet lists the rows)"
_CHECK_CONFLICT = "Ask the OEM which is right and send a corrected manifest (the conflict sheet)"


def worded(code: str, sentences: Mapping[Any, str]) -> str:
    """``"The EID does not have 32 digits. (eid_length)"``; a code without a sentence as is."""
    sentence = sentences.get(code)
    return f"{sentence} ({code})" if sentence else code


def fact(key: str) -> str:
    return FACTS.get(key, key.replace("_", " ").capitalize())


def next_steps(summary: dict[str, Any]) -> list[tuple[int, str]]:
    """What a person should do after this run: (rows, what to do), from its counts."""
    counts: dict[str, Any] = summary.get("counts") or {}
    steps: list[tuple[int, str]] = []
    unreadable = summary.get("unreadable") or []
    if unreadable:
        steps.append(
            (len(unreadable), "Inputs could not be read: see Inputs below, then run again.")
        )
    for reason, rows in (counts.get("by_reason") or {}).items():
        if reason in Reason.__members__.values() and Reason(reason).status == Status.REJECTED:
            steps.append((rows, f"{_FIX_MANIFEST}: {worded(reason, REASON)}"))
        elif reason in (Reason.CONFLICT_EID, Reason.CONFLICT_SERIAL):
            steps.append((rows, f"{_CHECK_CONFLICT}: {worded(reason, REASON)}"))
    for state, rows in (counts.get("by_intune_state") or {}).items():
        if state in actions.BY_STATE:
            steps.append((rows, worded(state, actions.BY_STATE)))
    for warning, rows in (counts.get("by_warning") or {}).items():
        if warning in actions.BY_WARNING:
            steps.append((rows, worded(warning, actions.BY_WARNING)))
    return steps
