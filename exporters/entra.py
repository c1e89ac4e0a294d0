"""Static-group membership lists for the Entra admin: bulk-import CSVs and Graph ``$batch`` bodies.

Under ``run_dir/entra/``:

- ``group-members.csv``: the admin center's bulk-import template (Groups > Members >
  Bulk operations > Import members), header
  ``Member object ID or user principal name [memberObjectIdOrUpn] Required``.
- ``group-members-v1.csv``: the older template, the same with a first line ``version:v1.0``.
- ``graph-batch-001.json`` …: ``POST /v1.0/$batch`` documents of up to 20 requests, each a
  ``PATCH /groups/{id}`` adding up to 20 members with ``members@odata.bind``.

With no members both CSVs are still written (header only, so the admin sees "nobody
to add" rather than a missing file) and no batch document is. Object ids are GUIDs
(that is all Entra issues), so the files hold nothing a spreadsheet could evaluate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from eidflow import schema
from eidflow.identifiers import guid
from exporters.config import EntraSettings
from exporters.files import OutputFile, atomic_open, sha256_file

BULK_HEADER = "Member object ID or user principal name [memberObjectIdOrUpn] Required"
BULK_VERSION_LINE = "version:v1.0"
GRAPH_OBJECT_URL = "https://graph.microsoft.com/v1.0/directoryObjects/{}"
MEMBERS_PER_REQUEST = 20  # members@odata.bind takes at most 20 references per PATCH
REQUESTS_PER_BATCH = 20  # a JSON $batch holds at most 20 requests
GROUP_PLACEHOLDER = "SET-entra.group_id-IN-eidflow.toml"


def write_entra_files(
    members: pd.DataFrame, entra: EntraSettings, run_dir: Path
) -> list[OutputFile]:
    """Write the membership lists for ``members`` (``eid, serial_number, entra_object_id``)."""
    object_ids = member_object_ids(members)
    folder = run_dir / "entra"
    written = [
        _write_bulk_csv(folder / "group-members.csv", object_ids, run_dir, version_line=False),
        _write_bulk_csv(folder / "group-members-v1.csv", object_ids, run_dir, version_line=True),
    ]
    group_id = entra.group_id or GROUP_PLACEHOLDER
    for number, batch in enumerate(graph_batches(object_ids, group_id), start=1):
        path = folder / f"graph-batch-{number:03d}.json"
        with atomic_open(path, "w", encoding="utf-8", newline="\n") as handle:
            json.dump(batch, handle, indent=2)
            handle.write("\n")
        rows = sum(len(request["body"]["members@odata.bind"]) for request in batch["requests"])
        written.append(_output(path, run_dir, rows))
    return written


def member_object_ids(members: pd.DataFrame) -> list[str]:
    """Distinct object ids in input order, compacted like every GUID (``identifiers.guid``).

    Anything still not a GUID is left out; the core never resolves one (it warns
    ``entra_unresolved`` instead), so this only guards the files against a caller's frame.
    """
    if members.empty or schema.ENTRA_OBJECT_ID not in members.columns:
        return []
    ids = guid.compact_column(members[schema.ENTRA_OBJECT_ID])
    ids = ids[guid.valid_column(ids)]
    return list(dict.fromkeys(ids.tolist()))


def graph_batches(object_ids: list[str], group_id: str) -> list[dict[str, Any]]:
    """``$batch`` documents: 20 PATCH requests each, 20 member references per request."""
    requests = [
        {
            "id": str(number),
            "method": "PATCH",
            "url": f"/groups/{group_id}",
            "headers": {"Content-Type": "application/json"},
            "body": {
                "members@odata.bind": [
                    GRAPH_OBJECT_URL.format(object_id)
                    for object_id in object_ids[start : start + MEMBERS_PER_REQUEST]
                ]
            },
        }
        for number, start in enumerate(range(0, len(object_ids), MEMBERS_PER_REQUEST), start=1)
    ]
    return [
        {"requests": requests[start : start + REQUESTS_PER_BATCH]}
        for start in range(0, len(requests), REQUESTS_PER_BATCH)
    ]


def _write_bulk_csv(
    path: Path, object_ids: list[str], run_dir: Path, *, version_line: bool
) -> OutputFile:
    # The admin center's own templates are UTF-8 with CRLF; object ids need no quoting.
    with atomic_open(path, "w", encoding="utf-8", newline="") as handle:
        if version_line:
            handle.write(BULK_VERSION_LINE + "\r\n")
        handle.write(BULK_HEADER + "\r\n")
        for object_id in object_ids:
            handle.write(object_id + "\r\n")
    return _output(path, run_dir, len(object_ids))


def _output(path: Path, run_dir: Path, rows: int) -> OutputFile:
    return OutputFile(
        path=path.relative_to(run_dir).as_posix(),
        rows=rows,
        sha256=sha256_file(path),
        kind="entra",
    )
