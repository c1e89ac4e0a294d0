"""The states the ledger records, as stored: runs, their delivery, manifests.

A claim has no state of its own: it is *staged* while its run is live, *delivered*
once its run is complete (or recovered), and gone from ``claims`` (kept in
``released``) when its run failed or died before handing off.
"""

from __future__ import annotations

from typing import Final

# Claim states, as ``eidflow show`` and ``history`` name them.
STAGED: Final = "staged"
DELIVERED: Final = "delivered"
RELEASED: Final = "released"

# Run states.
LIVE: Final = "live"
COMPLETE: Final = "complete"
RECOVERED: Final = "recovered"  # died after its files reached their target: its claims stand
ABORTED: Final = "aborted"  # failed cleanly: its claims were released
ABANDONED: Final = "abandoned"  # died before its files reached their target: claims released
FINISHED_STATES: Final = (COMPLETE, RECOVERED)
# A run folder of another ledger, found in the output root and acknowledged (--new-ledger).
FOREIGN: Final = "foreign"

# A run's delivery (``runs.delivery``): nothing has left yet, or its files are on their way
# to ``runs.destination`` (recorded before the first one leaves).
NOT_STARTED: Final = ""
DELIVERING: Final = "delivering"

# Manifest outcomes.
PROCESSED: Final = "processed"
# Some rows were held by claims of runs not finished then: read it again next time.
HELD: Final = "held"
UNREADABLE: Final = "unreadable"
