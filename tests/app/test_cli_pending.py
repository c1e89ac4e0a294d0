"""``eidflow pending`` on the 1,000-PC tenant of ``test_cli_status``: the PCs waiting at each
step, the 50 rows refused in the manifest first, with the filters ``status`` has."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from tests.app.test_cli_status import tenant
from tests.cli import eidflow
from tests.frames import make_eid

__all__ = ["tenant"]


def pending(tenant: tuple[Path, str], *args: str) -> dict[str, Any]:
    folder, config = tenant
    done = eidflow("pending", "--config", config, "--json", *args, cwd=folder)
    assert done.returncode == 0, done.stderr
    found: dict[str, Any] = json.loads(done.stdout)
    return found


def counts(found: dict[str, Any]) -> dict[str, int]:
    return {step["step"]: len(step["pcs"]) for step in found["steps"]}


def test_every_waiting_pc_at_its_step_held_back_rows_first(tenant: tuple[Path, str]) -> None:
    found = pending(tenant)
    assert list(counts(found).items()) == [
        ("held back: rejected", 50),
        ("rejected by the operator", 50),
        ("Windows below 22H2", 30),
        ("IMEI differs from Intune's", 10),
        ("not enrolled yet", 110),
        ("no Entra object id", 20),
        ("not in the group", 80),
    ]
    held = {pc["serial_number"]: pc for pc in found["steps"][0]["pcs"]}
    assert held["SN00007"]["eid"] == make_eid(7)[:-1] + "x"
    assert held["SN00007"]["reason"] == "eid_not_digits" and "row 8" in held["SN00007"]["where"]
    refused = {pc["serial_number"]: pc for pc in found["steps"][1]["pcs"]}
    assert "Unknown EID" in refused["SN00901"]["todo"]


def test_one_step_and_the_filters(tenant: tuple[Path, str]) -> None:
    assert counts(pending(tenant, "--step", "not enrolled yet")) == {"not enrolled yet": 110}
    done = counts(pending(tenant, "--step", "in the group: waits for the profile"))
    assert done == {"in the group: waits for the profile": 650}
    assert counts(pending(tenant, "--po", "PO-77"))["held back: rejected"] == 50
    assert "held back: rejected" not in counts(pending(tenant, "--operator", "contoso-mobile"))
    manifest = str(tenant[0] / "hp-asn-7781.csv")  # its name as given to ingest, like status
    assert sum(counts(pending(tenant, "--manifest", manifest)).values()) == 350
    assert pending(tenant, "--po", "PO-1")["steps"] == []


def test_csv_and_a_filter_that_matches_nothing(tenant: tuple[Path, str]) -> None:
    folder, config = tenant
    table = eidflow("pending", "--config", config, "--csv", cwd=folder)
    lines = list(csv.DictReader(io.StringIO(table.stdout)))
    assert len(lines) == 350 and lines[0]["step"] == "held back: rejected"
    nothing = eidflow("pending", "--config", config, "--since", "2999-01-01", cwd=folder)
    assert nothing.returncode == 0 and nothing.stdout.strip().count("\n") == 0
    assert "No PC waits" in nothing.stdout
    people = eidflow("pending", "--config", config, "--step", "not in the group", cwd=folder)
    assert "not in the group: 80 PC(s)" in people.stdout


def test_help_stays_without_pandas_and_a_wrong_step_is_a_usage_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, app.cli; print('pandas' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).parents[2],
    )
    assert loaded.stdout.strip() == "False"  # the steps come from the funnel only when asked
    done = eidflow("pending", "--step", "lost", cwd=tmp_path)
    assert done.returncode == 2 and "'not enrolled yet'" in done.stderr
