"""Entra membership lists: both bulk-import templates and Graph $batch bodies."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from exporters.config import EntraSettings
from exporters.entra import BULK_HEADER, GROUP_PLACEHOLDER, graph_batches, write_entra_files

GROUP = "0f6c3a57-0a3e-4f7e-9d55-8a1b2c3d4e5f"


def object_id(n: int) -> str:
    return str(uuid.UUID(int=n))


def members(count: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "eid": [f"{n:032d}" for n in range(count)],
            "serial_number": [f"SN{n}" for n in range(count)],
            "entra_object_id": [object_id(n + 1) for n in range(count)],
        },
        dtype="str",
    )


def test_bulk_import_csv_in_both_templates(tmp_path: Path) -> None:
    outputs = write_entra_files(members(3), EntraSettings(group_id=GROUP), tmp_path)
    by_name = {Path(o.path).name: o for o in outputs}
    ids = [object_id(n) for n in (1, 2, 3)]
    current = (tmp_path / "entra" / "group-members.csv").read_bytes().decode()
    older = (tmp_path / "entra" / "group-members-v1.csv").read_bytes().decode()
    assert current == "\r\n".join([BULK_HEADER, *ids]) + "\r\n"
    assert older == "\r\n".join(["version:v1.0", BULK_HEADER, *ids]) + "\r\n"
    assert by_name["group-members.csv"].rows == 3
    assert by_name["group-members-v1.csv"].rows == 3


def test_graph_batches_hold_20_requests_of_20_members(tmp_path: Path) -> None:
    outputs = write_entra_files(members(401), EntraSettings(group_id=GROUP), tmp_path)
    batches = sorted((tmp_path / "entra").glob("graph-batch-*.json"))
    assert [p.name for p in batches] == ["graph-batch-001.json", "graph-batch-002.json"]
    first, second = (json.loads(p.read_text()) for p in batches)
    assert len(first["requests"]) == 20
    assert len(second["requests"]) == 1
    request = first["requests"][0]
    assert request["method"] == "PATCH"
    assert request["url"] == f"/groups/{GROUP}"
    assert request["headers"] == {"Content-Type": "application/json"}
    assert len(request["body"]["members@odata.bind"]) == 20
    assert request["body"]["members@odata.bind"][0] == (
        f"https://graph.microsoft.com/v1.0/directoryObjects/{object_id(1)}"
    )
    bound = [
        url.rsplit("/", 1)[1]
        for doc in (first, second)
        for req in doc["requests"]
        for url in req["body"]["members@odata.bind"]
    ]
    assert bound == [object_id(n) for n in range(1, 402)]
    ids = [r["id"] for doc in (first, second) for r in doc["requests"]]
    assert len(set(ids)) == len(ids)
    rows = {Path(o.path).name: o.rows for o in outputs}
    assert rows["graph-batch-001.json"] == 400
    assert rows["graph-batch-002.json"] == 1


def test_unset_group_id_writes_a_placeholder_graph_rejects() -> None:
    [batch] = graph_batches([object_id(1)], GROUP_PLACEHOLDER)
    assert batch["requests"][0]["url"] == f"/groups/{GROUP_PLACEHOLDER}"
    assert "group_id" in GROUP_PLACEHOLDER


def test_no_members_header_only_csvs_and_no_batches(tmp_path: Path) -> None:
    outputs = write_entra_files(members(0), EntraSettings(), tmp_path)
    assert sorted(Path(o.path).name for o in outputs) == [
        "group-members-v1.csv",
        "group-members.csv",
    ]
    assert (tmp_path / "entra" / "group-members.csv").read_text() == BULK_HEADER + "\n"
    assert all(o.rows == 0 for o in outputs)


def test_members_deduplicated_trimmed_lowercased_and_non_guids_left_out(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "eid": ["1", "2", "3", "4", "5"],
            "serial_number": ["a", "b", "c", "d", "e"],
            "entra_object_id": [
                f" {object_id(7).upper()} ",
                object_id(7),
                "",
                '=HYPERLINK("x")',
                object_id(8),
            ],
        },
        dtype="str",
    )
    write_entra_files(frame, EntraSettings(group_id=GROUP), tmp_path)
    lines = (tmp_path / "entra" / "group-members.csv").read_text().splitlines()
    assert lines[1:] == [object_id(7), object_id(8)]


def test_a_braced_object_id_is_listed_as_the_guid_it_is(tmp_path: Path) -> None:
    frame = members(2)
    frame.loc[0, "entra_object_id"] = "{" + object_id(1).upper() + "}"
    write_entra_files(frame, EntraSettings(group_id=GROUP), tmp_path)
    lines = (tmp_path / "entra" / "group-members.csv").read_text().splitlines()
    assert lines[1:] == [object_id(1), object_id(2)]
    batch = json.loads((tmp_path / "entra" / "graph-batch-001.json").read_text())
    [request] = batch["requests"]
    assert [url.rsplit("/", 1)[1] for url in request["body"]["members@odata.bind"]] == lines[1:]


@given(count=st.integers(min_value=0, max_value=1200))
def test_batches_carry_each_member_once_within_graph_limits(count: int) -> None:
    ids = [object_id(n) for n in range(count)]
    batches = graph_batches(ids, GROUP)
    requests = [request for batch in batches for request in batch["requests"]]
    assert all(1 <= len(batch["requests"]) <= 20 for batch in batches)
    assert all(1 <= len(r["body"]["members@odata.bind"]) <= 20 for r in requests)
    bound = [url.rsplit("/", 1)[1] for r in requests for url in r["body"]["members@odata.bind"]]
    assert bound == ids
    assert len(batches) == -(-count // 400)
