"""A small tenant for the flow tests: a shipment manifest, and the Intune/Entra side of it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from app.pipeline import IngestRequest, run_ingest
from app.settings import load_settings
from tests.frames import make_eid, make_imei

GROUP_ID = "3f1c7a52-8d4e-4b2a-9c61-0e5d7b8a4f20"
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
ANSWER_FILES = ("contoso-mobile-answers-2026-12-01.csv", "contoso-mobile-errors-2026-12-02.xlsx")
OPERATOR = "contoso-mobile"  # the operator of the sample answer files


@dataclass(frozen=True)
class Device:
    n: int

    @property
    def eid(self) -> str:
        return make_eid(self.n)

    @property
    def imei(self) -> str:
        return make_imei(self.n)

    @property
    def serial(self) -> str:
        return f"PF4X{self.n:04d}"

    @property
    def intune_id(self) -> str:
        return f"0d6a1c2e-4b7f-4a51-9c3e-{self.n:012d}"

    @property
    def device_id(self) -> str:  # Entra deviceId = Intune azureADDeviceId
        return f"a1f0c9d2-7e3b-4c8a-b5d6-{self.n:012d}"

    @property
    def object_id(self) -> str:
        return f"5e2b8f10-93c4-4d7e-a2f1-{self.n:012d}"

    def managed_device(self) -> dict[str, str]:
        return {
            "id": self.intune_id,
            "deviceName": f"CONTOSO-{self.serial}",
            "serialNumber": self.serial,
            "imei": self.imei,
            "azureADDeviceId": self.device_id,
            "manufacturer": "Lenovo",
            "model": "ThinkPad T14s Gen 6",
            "operatingSystem": "Windows",
            "osVersion": "10.0.26100.2314",
            "lastSyncDateTime": "2026-11-26T08:00:00Z",
        }

    def entra_device(self) -> dict[str, str]:
        return {
            "id": self.object_id,
            "deviceId": self.device_id,
            "displayName": f"CONTOSO-{self.serial}",
        }


def manifest_csv(devices: list[Device]) -> bytes:
    """A Lenovo-style shipment CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Order Number", "Serial Number", "eUICC ID", "IMEI1", "Model", "PO Number"])
    for device in devices:
        writer.writerow(
            ["4401190", device.serial, device.eid, device.imei, "ThinkPad T14s Gen 6", "PO-1190"]
        )
    return out.getvalue().encode("utf-8")


def intune_export_csv(devices: list[Device]) -> bytes:
    """The Intune "All devices" export (DevicesWithInventory) for these devices."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            "Device ID",
            "Device name",
            "Last check-in",
            "Azure AD Device ID",
            "OS version",
            "Serial number",
            "Manufacturer",
            "Model",
            "IMEI",
        ]
    )
    for d in devices:
        m = d.managed_device()
        writer.writerow(
            [
                m["id"],
                m["deviceName"],
                "2026-11-26 08:00:00",
                d.device_id,
                m["osVersion"],
                d.serial,
                "Lenovo",
                m["model"],
                d.imei,
            ]
        )
    return out.getvalue().encode("utf-8")


def entra_export_csv(devices: list[Device]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["displayName", "deviceId", "objectId"])
    for d in devices:
        writer.writerow([f"CONTOSO-{d.serial}", d.device_id, d.object_id])
    return out.getvalue().encode("utf-8")


def write_config(tmp_path: Path, **sections: dict[str, object]) -> Path:
    """An eidflow.toml with a ledger, runs folder and group under ``tmp_path``, plus ``sections``."""
    base: dict[str, dict[str, object]] = {
        "ledger": {"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        "output": {"runs_dir": str(tmp_path / "runs")},
        "entra": {"group_id": GROUP_ID},
    }
    for name, values in sections.items():
        base.setdefault(name, {}).update(values)
    lines = []
    for name, values in base.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {_toml(value)}" for key, value in values.items()]
        lines.append("")
    path = tmp_path / "eidflow.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def samples_ingested(tmp_path: Path, answers_inbox: str, **sections: dict[str, object]) -> Path:
    """The sample manifests handed off to contoso-mobile; the daily run reads the sample
    Intune export and ``answers_inbox``."""
    config = write_config(
        tmp_path,
        flows={
            "inventory": str(SAMPLES / "DevicesWithInventory_2026-11-27.csv"),
            "answers_inbox": answers_inbox,
        },
        **sections,
    )
    with config.open("a", encoding="utf-8") as handle:
        handle.write(f'[[operators]]\nname = "{OPERATOR}"\n')
    manifests = [str(SAMPLES / "dell-asn-PO-2026-1187.xlsx")]
    manifests.append(str(SAMPLES / "lenovo-shipment-4401190.csv"))
    assert run_ingest(IngestRequest(manifests=manifests), load_settings(config)).exit_code == 0
    return config
