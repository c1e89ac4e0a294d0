"""The ingest flow under Prefect gives the same run folder as the CLI's direct path."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from prefect.artifacts import Artifact

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from flows.ingest import IngestParameters, ingest_manifests

pytestmark = pytest.mark.usefixtures("prefect_harness")

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
MANIFESTS = [
    str(SAMPLES / "dell-asn-PO-2026-1187.xlsx"),
    str(SAMPLES / "lenovo-shipment-4401190.csv"),
]
INVENTORY = str(SAMPLES / "DevicesWithInventory_2026-11-27.csv")
ENTRA = str(SAMPLES / "exportDevice_2026-11-27.csv")


def contents(run_dir: Path, run_id: str) -> dict[str, bytes]:
    """Every hand-off file and decisions.csv, with the run id taken out of names and bodies."""
    files = [
        run_dir / "decisions.csv",
        *sorted((run_dir / "operator").rglob("*")),
        *sorted((run_dir / "entra").rglob("*")),
    ]
    return {
        str(path.relative_to(run_dir)).replace(run_id, "RUN"): path.read_bytes().replace(
            run_id.encode(), b"RUN"
        )
        for path in files
        if path.is_file()
    }


def test_flow_and_direct_runs_write_the_same_files(tmp_path: Path) -> None:
    config = SAMPLES / "eidflow.toml"
    flow_result = ingest_manifests(
        IngestParameters(
            manifests=MANIFESTS,
            inventory=INVENTORY,
            entra_devices=ENTRA,
            out_dir=str(tmp_path / "flow"),
            config_file=str(config),
            ledger_url=f"sqlite:///{tmp_path / 'flow.db'}",
        )
    )
    settings = load_settings(config, ledger={"url": f"sqlite:///{tmp_path / 'direct.db'}"})
    direct = run_ingest(IngestRequest(MANIFESTS, INVENTORY, ENTRA, tmp_path / "direct"), settings)

    assert flow_result.exit_code == direct.exit_code == 0
    flow_files = contents(flow_result.run_dir, flow_result.run_id)
    assert flow_files == contents(direct.run_dir, direct.run_id)
    assert any(name.startswith("operator/") for name in flow_files)
    summary = json.loads((flow_result.run_dir / "summary.json").read_text())
    assert summary["counts"] == direct.summary["counts"]


def test_flow_parameters_are_validated_before_the_run(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="manifests"):
        IngestParameters(manifests=[], out_dir=str(tmp_path / "never"))
    assert not (tmp_path / "never").exists()


@pytest.mark.parametrize(
    "url",
    ["postgresql://eidflow:hunter2@db/eidflow", "postgresql://db/eidflow?password=hunter2"],
)
def test_a_password_in_a_parameter_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="Prefect keeps flow-run parameters in clear") as raised:
        IngestParameters(manifests=["x.csv"], ledger_url=url)
    assert "hunter2" not in str(raised.value).split("input_value")[0]
    assert IngestParameters(manifests=["x.csv"], ledger_url="postgresql://eidflow@db/eidflow")


def test_flow_run_publishes_its_counts(tmp_path: Path) -> None:
    ingest_manifests(
        IngestParameters(
            manifests=MANIFESTS[1:],
            out_dir=str(tmp_path / "run"),
            ledger_url=f"sqlite:///{tmp_path / 'ledger.db'}",
        )
    )
    artifact = Artifact.get("ingest-manifests-counts")
    assert artifact is not None and "accepted" in str(artifact.data)


def test_eidflow_log_lines_reach_the_flow_runs_log(tmp_path: Path) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    state = ingest_manifests(
        IngestParameters(
            manifests=MANIFESTS[1:],
            out_dir=str(tmp_path / "run"),
            ledger_url=f"sqlite:///{tmp_path / 'new-ledger.db'}",
        ),
        return_state=True,
    )
    flow_run_id = state.state_details.flow_run_id
    deadline = time.monotonic() + 20  # log lines reach the API in batches, every 2 s
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(flow_run_id)
        while True:
            logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
            if any("created a new ledger at" in log.message for log in logs):
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.5)
    # The ledger's own logger, not the flow's: "created a new ledger at …".
    assert any("created a new ledger at" in log.message for log in logs), [
        log.message for log in logs
    ]
    run_id = state.result().run_id
    assert run.name == f"{run_id} lenovo-shipment-4401190.csv"
    assert f"run:{run_id}" in run.tags
