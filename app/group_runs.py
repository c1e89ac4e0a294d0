"""The runs behind ``eidflow groups``: a sync's changes applied and recorded, a run's
imported member list recorded.

A sync that changes anything is a run of kind ``groups-sync``: its folder holds
``group-changes.csv`` and ``summary.json`` (written last), and the ledger holds each change
with Graph's answer (``group_changes``) and the memberships that follow.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eidflow import __version__
from eidflow.errors import ConfigError

if TYPE_CHECKING:
    import pandas as pd

    from app.settings import Settings
    from eidflow.graph import GraphClient
    from eidflow.ledger import SqlLedger

CHANGES_FILE = "group-changes.csv"
OUTCOMES = ("added", "already_member", "missing", "removed", "not_member", "failed")


def apply_plan(
    settings: Settings,
    ledger: SqlLedger,
    graph: GraphClient,
    group: str,
    planned: pd.DataFrame,
    ours: set[str],
) -> dict[str, Any]:
    """Make the plan's changes under a run of its own; record each and Graph's answer."""
    import pandas as pd

    from app.runfolder import new_run_id, prepare_run_dir, release_run_dir, write_summary
    from eidflow.graph.groups_sync import apply_changes
    from eidflow.ledger import enrolment, group_changes

    adds = planned.loc[planned["verdict"] == "add", "entra_object_id"].tolist()
    removes = planned.loc[planned["verdict"] == "remove", "entra_object_id"].tolist()
    unrecorded = planned[
        (planned["verdict"] == "unchanged")
        & (planned["why"] == "wanted")
        & ~planned["entra_object_id"].isin(ours)
    ]
    if not adds and not removes and unrecorded.empty:
        return {"run_id": "", "counts": {}, "run_dir": ""}
    started_at = datetime.now(UTC)
    run_id = new_run_id(started_at)
    run_dir = prepare_run_dir(None, settings.output.runs_dir, run_id)
    ledger.begin_run(run_id, str(run_dir.resolve()), kind="groups-sync")
    try:
        changes = pd.DataFrame(
            [vars(change) for change in apply_changes(graph, group, adds, removes)],
            columns=["entra_object_id", "action", "outcome", "http_status", "answer"],
        )
        eids = dict(zip(planned["entra_object_id"], planned["eid"], strict=True))
        changes["eid"] = changes["entra_object_id"].map(eids).fillna("")
        joined = changes[changes["outcome"].isin(group_changes.IN_GROUP) & (changes["eid"] != "")]
        now_members = pd.concat(
            [joined[["eid", "entra_object_id"]], unrecorded[["eid", "entra_object_id"]]]
        )
        write_changes(run_dir / CHANGES_FILE, changes)
        with ledger.write() as connection:
            group_changes.record_changes(connection, run_id, group, changes, ledger.now())
            enrolment.record_memberships(connection, run_id, group, now_members, ledger.now())
        counts = {outcome: int((changes["outcome"] == outcome).sum()) for outcome in OUTCOMES}
        counts["recorded_unchanged"] = len(unrecorded)
        summary = {
            "kind": "groups_sync",
            "run_id": run_id,
            "eidflow_version": __version__,
            "started_at": started_at.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "group_id": group,
            "counts": counts,
            "outputs": [{"path": CHANGES_FILE, "rows": len(changes)}],
        }
        write_summary(run_dir, summary)
        ledger.finish_run(run_id, [], counts)
    except Exception as error:
        release_run_dir(run_dir)
        ledger.abort_run(run_id, str(error) or type(error).__name__)
        raise
    return {"run_id": run_id, "counts": counts, "run_dir": str(run_dir)}


def write_changes(path: Path, changes: pd.DataFrame) -> None:
    columns = ["entra_object_id", "eid", "action", "outcome", "http_status", "answer"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(changes[columns].astype("str").itertuples(index=False, name=None))
    path.write_text(out.getvalue(), encoding="utf-8")


def listed_members(run_id: str, run_dir: Path, state: str) -> list[str]:
    """The object ids of a complete run's bulk-import CSV."""
    from app.runfolder import is_complete
    from eidflow.ledger import states

    if state not in states.FINISHED_STATES or not is_complete(run_dir):
        raise ConfigError(
            f"run {run_id} is {state} (its folder {run_dir} has no summary.json): its lists"
            " are void.",
            todo="Import the list of a complete run.",
        )
    path = run_dir / "entra" / "group-members.csv"
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise ConfigError(
            f"{path}: cannot read the run's member list ({error.strerror}).",
            todo="Check that the run folder is where the ledger says.",
        ) from None
    return [
        line.strip().lower()
        for line in lines[1:]
        if line.strip() and line.strip() != "version:v1.0"
    ]


def with_eids(connection: Any, object_ids: list[str]) -> pd.DataFrame:
    """Each listed object id with the EID of the device the ledger knows it as."""
    import pandas as pd

    wanted = set(object_ids)
    rows = connection.all(
        "SELECT DISTINCT eid, lower(entra_object_id) FROM claims WHERE entra_object_id <> ''"
    )
    pairs = [(eid, oid) for eid, oid in rows if oid in wanted]
    return pd.DataFrame(pairs, columns=["eid", "entra_object_id"], dtype="str")
