"""What the pipeline asks of the ledger. ``eidflow.ledger.open_ledger(url)`` returns one.

The ledger is the memory that makes the hand-off exactly-once. A hand-off of an EID
to an operator is *claimed* (staged) by a run before its files leave (they may be
written in its run folder while the claim commits), and is *delivered* once the run is
complete. A claim held by a run that died stands if that
run's files reached their target (its receipt there), and is released otherwise, so a
rerun hands those EIDs off again (``settle``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class ManifestRecord:
    """A manifest a complete run processed."""

    sha256: str
    name: str
    run_id: str
    received_at: datetime
    rows: int


@dataclass(frozen=True)
class Claim:
    """A claim's verdict, aligned with the devices claimed.

    ``reasons``: ``""`` where this run got the claim, else the reason code.
    ``held_by_others``: the other operators holding a live claim on the row's EID
    (``;``-joined), ``""`` for none: see ``eidflow.core.dedupe.held_by_others``.
    """

    reasons: pd.Series
    held_by_others: pd.Series


class Ledger(Protocol):
    def begin_run(
        self, run_id: str, run_dir: str, kind: str = "ingest", destination: str = ""
    ) -> None:
        """Register this run as live (its files go to ``destination``), after settling the
        claims of runs that died."""

    def manifest_seen(self, sha256: str) -> ManifestRecord | None:
        """The complete run that already processed these manifest bytes, if any."""

    def known_devices(self, eids: pd.Series, serials: pd.Series) -> pd.DataFrame:
        """Live claims whose EID or serial is among those given.

        Columns: ``eid``, ``serial_number``, ``operator`` (one line per operator holding a
        live claim, i.e. delivered or staged by a live run).
        """

    def claim(
        self,
        run_id: str,
        devices: pd.DataFrame,
        manifests: list[dict[str, Any]] | None = None,
        rows: np.ndarray | None = None,
        *,
        overlap: bool = False,
    ) -> Claim:
        """Atomically judge and claim (operator, eid) for each line of ``devices``.

        ``devices`` has at least ``eid``, ``serial_number``, ``operator``, and usually
        ``imei``, ``source_file``, ``row`` and the descriptive fields; with ``intune_state``
        and ``entra_object_id`` the claim also records each device's current Intune state.
        One lookup under the claim lock decides, for every operator at once
        (``eidflow.core.dedupe.reasons``): ``""`` where this run got the claim, or the
        reason code, the final word also when runs race; and who else holds each EID.
        ``manifests``: the run's manifests, recorded in the same transaction. ``rows``: the
        positions of the lines to judge (default: every line). ``overlap``: the verdict is
        returned before the claims are written; the ledger's next use waits for their
        commit and raises what stopped it.
        """

    def judge(self, devices: pd.DataFrame, rows: np.ndarray | None = None) -> Claim:
        """The verdict ``claim`` would give a new run now, without claiming anything."""

    def claim_handoffs(self, run_id: str, devices: pd.DataFrame) -> pd.Series:
        """``claim(...).reasons``."""

    def claim_handoff(self, run_id: str, operator: str, devices: pd.DataFrame) -> pd.Series:
        """``claim_handoffs`` with every line for one operator."""

    def start_delivery(self, run_id: str, counts: dict[str, Any] | None = None) -> None:
        """Before the first file leaves: raise ``RunLost`` if another run took this one for
        dead; else record that its files are on their way (and the run's counts)."""

    def confirm_live(self, run_id: str) -> None:
        """Before the run's receipt and summary.json: raise ``RunLost`` if another run took
        it for dead."""

    def mark_delivered(self, run_id: str, operator: str, files: list[dict[str, Any]]) -> None:
        """The run's hand-off files for this operator (recorded once, for the run)."""

    def finish_run(
        self,
        run_id: str,
        manifests: list[dict[str, Any]] | None = None,
        counts: dict[str, Any] | None = None,
    ) -> None:
        """The run is complete: its claims count as delivered."""

    def abort_run(self, run_id: str, error: str) -> None:
        """The run failed cleanly: release its claims so that a rerun hands those EIDs off."""

    def record_intune_states(self, run_id: str, states: pd.DataFrame) -> None:
        """Each device's current state: ``eid``, ``intune_state``, ``entra_object_id``.

        A device whose state changed keeps the one it had in its history.
        """

    def pending_enrollment(self, group_id: str) -> pd.DataFrame:
        """Devices handed off (delivered) but not yet members of the static group ``group_id``.

        Only memberships of that group count: after ``[entra] group_id`` changes, every
        delivered device is pending for the new group until it is recorded there.

        Members not enrolled yet (``autopilot_registered``) stay pending until they enrol.

        Columns: ``eid``, ``serial_number``, ``imei``, ``operator``, ``intune_state``; for an
        ``autopilot_registered`` device (``""`` for others) ``member_object_id`` (the object
        id it is a member by, ``""`` for none) and ``recorded_object_id`` (its claim's).
        """

    def record_memberships(self, run_id: str, group_id: str, object_ids: pd.DataFrame) -> None:
        """Devices added to a static group: ``eid``, ``entra_object_id``."""

    def close(self) -> None: ...
