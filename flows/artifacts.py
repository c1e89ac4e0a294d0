"""What a run shows in the Prefect UI: counts as a table, the hand-off as markdown, progress.

The builders are pure (summary dict in, rows or markdown out); ``publish_*`` only sends them.
Artifact keys are lowercase letters, digits and dashes (Prefect's rule).
"""

from __future__ import annotations

import re
from typing import Any, cast
from uuid import UUID

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from exporters.funnel import FunnelTables

_COUNT_GROUPS = (
    ("status", "by_status"),
    ("reason", "by_reason"),
    ("intune_state", "by_intune_state"),
)


def artifact_key(*parts: str) -> str:
    """``artifact_key("ingest", "Counts")`` → ``"ingest-counts"``; anything else becomes a dash.

    >>> artifact_key("watch_inbox", "20261127T101500Z-a1b2c3")
    'watch-inbox-20261127t101500z-a1b2c3'
    """
    text = "-".join(parts).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


def count_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One line per (dimension, code) of ``summary["counts"]``: status, reason, Intune state."""
    counts = summary.get("counts", {})
    return [
        {"dimension": dimension, "code": code, "rows": rows}
        for dimension, key in _COUNT_GROUPS
        for code, rows in sorted(counts.get(key, {}).items())
    ]


def handoff_markdown(summary: dict[str, Any], destination: str) -> str:
    """The run's hand-off: inputs, every file written (rows, sha256) and where they went."""
    lines = [f"# Run {summary.get('run_id', '')}", "", f"Delivered to `{destination}`.", ""]
    inputs = summary.get("inputs", [])
    if inputs:
        lines += ["## Inputs", "", "| input | kind | rows | result |", "| --- | --- | ---: | --- |"]
        for record in inputs:
            result = record.get("error") or (
                f"already processed by run {record['already_processed_by']}"
                if record.get("already_processed_by")
                else "read"
            )
            lines.append(
                f"| `{record['path']}` | {record.get('kind', '')} | {record.get('rows', 0)} | {_cell(result)} |"
            )
        lines.append("")
    outputs = summary.get("outputs", [])
    lines += ["## Files", ""]
    if outputs:
        lines += ["| file | kind | rows | sha256 |", "| --- | --- | ---: | --- |"]
        lines += [
            f"| `{out['path']}` | {out.get('kind', '')} | {out.get('rows', 0)} | `{str(out.get('sha256', ''))[:16]}…` |"
            for out in outputs
        ]
    else:
        lines.append("No files were written.")
    receipts = [out["path"] for out in outputs if out.get("kind") == "receipt"]
    lines += [
        "",
        f"Receipt: {', '.join(f'`{path}`' for path in receipts) if receipts else 'none'}.",
    ]
    return "\n".join(lines) + "\n"


def publish_run_artifacts(summary: dict[str, Any], destination: str, flow_name: str) -> None:
    """The counts table and the hand-off markdown of one ingest run."""
    run_id = str(summary.get("run_id", ""))
    create_table_artifact(
        count_rows(summary),
        key=artifact_key(flow_name, "counts"),
        description=f"Rows by status, reason and Intune state, run {run_id}",
    )
    create_markdown_artifact(
        handoff_markdown(summary, destination),
        key=artifact_key(flow_name, "handoff"),
        description=f"What run {run_id} handed off, and where",
    )


def reconcile_rows(
    by_intune_state: dict[str, int], membership: dict[str, int]
) -> list[dict[str, Any]]:
    """Pending devices by Intune state, then what Graph did with the new members."""
    rows = [
        {"dimension": "intune_state", "code": state, "rows": count}
        for state, count in sorted(by_intune_state.items())
    ]
    rows += [
        {"dimension": "membership", "code": what, "rows": count}
        for what, count in membership.items()
    ]
    return rows


def publish_reconcile_artifacts(outcome: Any, outputs: list[Any], flow_name: str) -> None:
    """The reconcile run's counts, and the member lists it wrote."""
    create_table_artifact(
        reconcile_rows(outcome.by_intune_state, outcome.membership),
        key=artifact_key(flow_name, "counts"),
        description=f"Pending devices by Intune state, run {outcome.run_id}",
    )
    summary = {"run_id": outcome.run_id, "outputs": [output.as_dict() for output in outputs]}
    members = ", ".join(f"`{oid}`" for oid in outcome.recorded_members) or "none"
    create_markdown_artifact(
        handoff_markdown(summary, outcome.run_dir)
        + f"\nNew group members confirmed by Graph: {members}.\n",
        key=artifact_key(flow_name, "handoff"),
        description=f"Member lists of run {outcome.run_id}",
    )


def funnel_markdown(tables: FunnelTables) -> str:
    """The funnel for people: PCs at each step, who waits for what and what to do, per shipment."""
    lines = [f"# {tables.title}", "", "| step | PCs |", "| --- | ---: |"]
    lines += [f"| {row['step']} | {_count(row['PCs'])} |" for row in tables.steps]
    lines += ["", "## Waiting for", ""]
    if tables.waiting:
        lines += ["| waiting for | PCs | what to do |", "| --- | ---: | --- |"]
        lines += [
            f"| {_cell(row['waiting for'])} | {row['PCs']} | {_cell(row['what to do'])} |"
            for row in tables.waiting
        ]
    else:
        lines.append("No PC waits.")
    lines += ["", "## Shipments", ""]
    if not tables.shipments:
        return "\n".join([*lines, "No PC handed off by a complete run yet."]) + "\n"
    headers = list(tables.shipments[0])
    lines += [f"| {' | '.join(headers)} |", f"|{' --- |' * len(headers)}"]
    lines += [
        f"| {' | '.join(_cell(_count(row[header])) for header in headers)} |"
        for row in tables.shipments
    ]
    return "\n".join(lines) + "\n"


def publish_funnel_artifacts(tables: FunnelTables, flow_name: str) -> None:
    """The funnel of every shipment as a table (PCs at each step) and as markdown."""
    create_table_artifact(
        [{**row, "PCs": _count(row["PCs"])} for row in tables.steps],
        key=artifact_key(flow_name, "funnel"),
        description=tables.title,
    )
    create_markdown_artifact(
        funnel_markdown(tables),
        key=artifact_key(flow_name, "funnel", "by-shipment"),
        description=f"{tables.title}: who waits for what, per shipment",
    )


class Progress:
    """A progress artifact advanced by the flow as its steps finish."""

    def __init__(self, flow_name: str, steps: int) -> None:
        self._steps = max(steps, 1)
        self._done = 0
        created = create_progress_artifact(
            0.0, key=artifact_key(flow_name, "progress"), description=f"{flow_name} progress"
        )
        self._id = cast(UUID, created)  # the sync call returns the id

    def step(self, description: str = "") -> None:
        self._done = min(self._done + 1, self._steps)
        update_progress_artifact(
            self._id, 100.0 * self._done / self._steps, description=description or None
        )

    def finish(self, description: str = "done") -> None:
        if self._done < self._steps:
            self._done = self._steps - 1
            self.step(description)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _count(value: Any) -> Any:
    return "not tracked yet" if value is None else value
