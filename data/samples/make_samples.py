"""Write the bundled sample inputs (synthetic but realistic). Run: python data/samples/make_samples.py

Two manifests in two OEM styles, an Intune "All devices" export and an Entra
"Download devices" export, covering good rows, typed and printed EID forms,
spreadsheet damage, a duplicate, a conflict, a stale Intune record, an IMEI
mismatch and an unsupported OS. Then two answer files from the operator about the EIDs
the samples hand off (``python data/samples/make_samples.py answers`` writes only those):
accepted, rejected, pending, unknown EIDs, repeated lines, conflicting answers, EIDs and
ICCIDs typed as numbers, ICCIDs with a trailing F and with a bad check digit.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

from openpyxl import Workbook

from eidflow.identifiers import iccid as iccid_rules
from eidflow.identifiers.eid import calc_check_digits
from eidflow.identifiers.imei import calc_check_digit

HERE = Path(__file__).resolve().parent


def make_eid(n: int) -> str:
    """89 (telecom) 049 (country) 032 (issuer) 12345 (platform) 12345 (issuer info) + 12 digits."""
    individual = n * 7919 * 104729 % 10**12
    first30 = f"890490321234512345{individual:012d}"
    return first30 + calc_check_digits(first30)


def make_imei(n: int) -> str:
    first14 = f"35409811{n:06d}"
    return first14 + calc_check_digit(first14)


LEADING_ZERO_IMEI = "013569110000076"[:14] + calc_check_digit("013569110000076"[:14])


def bad_check(eid: str) -> str:
    return eid[:-1] + str((int(eid[-1]) + 1) % 10)


def dell_workbook() -> None:
    """Dell-style advance ship notice: Service Tag, EID as text, one EID cell as a number."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Shipment"
    sheet.append(
        ["Service Tag", "EID", "IMEI 1", "Model", "Manufacturer", "PO Number", "Ship Date"]
    )
    lines = [
        ("7QK2LZ3", make_eid(1), make_imei(1)),
        ("8RL3MA4", make_eid(2), make_imei(2)),
        ("9SM4NB5", make_eid(3), make_imei(3)),
        ("1TN5PC6", make_eid(4), make_imei(4)),
        ("2UP6QD7", bad_check(make_eid(5)), make_imei(5)),  # a mistyped digit
        ("3VQ7RE8", make_eid(6), make_imei(6)),
        ("4WR8SF9", make_eid(7), int(LEADING_ZERO_IMEI)),  # a number cell: the leading 0 is lost
        ("5XS9TG1", make_eid(8), make_imei(8)),
        ("6YT1UH2", make_eid(9), make_imei(9)),
    ]
    for serial, eid, imei in lines:
        sheet.append(
            [serial, eid, imei, "Latitude 7450", "Dell Inc.", "PO-2026-1187", "2026-11-20"]
        )
    sheet.append(
        [
            "7ZU2VJ3",
            float(make_eid(10)),
            make_imei(10),
            "Latitude 7450",
            "Dell Inc.",
            "PO-2026-1187",
            "2026-11-20",
        ]
    )
    for row in sheet.iter_rows(min_row=2, min_col=2, max_col=3):
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    book.save(HERE / "dell-asn-PO-2026-1187.xlsx")


def lenovo_csv() -> None:
    """Lenovo-style CSV with a BOM: eUICC ID printed in groups, ="…" wrapping, spreadsheet damage."""
    header = [
        "Order Number",
        "Serial Number",
        "eUICC ID",
        "IMEI1",
        "Product Number",
        "Model",
        "PO Number",
    ]
    eid11, eid12, eid13 = make_eid(11), make_eid(12), make_eid(13)
    printed = " ".join(eid12[i : i + 4] for i in range(0, 32, 4))
    lines = [
        ("4401190", "PF4A1B2C", eid11, make_imei(11)),
        ("4401190", "PF4A1B2D", printed, make_imei(12)),  # printed in groups of four
        ("4401190", "PF4A1B2E", f'="{eid13}"', make_imei(13)),  # Excel text wrapping
        ("4401190", "PF4A1B2F", "8.90490E+31", make_imei(14)),  # went through a number
        ("4401190", "", make_eid(15), make_imei(15)),  # no serial
        ("4401190", "PF4A1B2H", "", make_imei(16)),  # no EID
        ("4401190", "PF4A1B2J", make_eid(17), make_imei(17)),
        ("4401190", "PF4A1B2J", make_eid(17), make_imei(17)),  # the same line twice
        ("4401190", "PF4A1B2K", make_eid(1), make_imei(18)),  # EID already on a Dell PC: conflict
        ("4401190", "PF4A1B2L", make_eid(19), make_imei(19)),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for order, serial, eid, imei in lines:
        writer.writerow(
            [order, serial, eid, imei, "21LK0012US", "ThinkPad T14s Gen 6", "PO-2026-1190"]
        )
    (HERE / "lenovo-shipment-4401190.csv").write_text(
        "\ufeff" + buffer.getvalue(), encoding="utf-8", newline=""
    )


INTUNE_HEADER = [
    "Device ID",
    "Device name",
    "Enrollment date",
    "Last check-in",
    "Azure AD Device ID",
    "OS version",
    "Serial number",
    "Manufacturer",
    "Model",
    "IMEI",
    "MEID",
    "Primary user UPN",
    "OS",
    "JoinType",
    "ICCID",
    "EID",
]


DELL_MODEL = ("Dell Inc.", "Latitude 7450")


def intune_export() -> None:
    """Intune DevicesWithInventory export: a stale duplicate, an IMEI mismatch, an old OS."""

    def record(n: int, serial: str, checkin: str, os_version: str, imei: str) -> list[str]:
        return [
            f"0d6a1c2e-4b7f-4a51-9c3e-{n:012d}",
            f"CONTOSO-{serial}",
            "2026-11-21 09:12:44",
            checkin,
            f"a1f0c9d2-7e3b-4c8a-b5d6-{n:012d}",
            os_version,
            serial,
            *(("LENOVO", "ThinkPad T14s Gen 6") if serial.startswith("PF") else DELL_MODEL),
            imei,
            "",
            f"user{n}@contoso.com",
            "Windows",
            "Microsoft Entra joined",
            "",
            "",
        ]

    rows = [
        record(1, "7QK2LZ3", "2026-11-25 08:00:00", "10.0.26100.2314", make_imei(1)),
        record(2, "8RL3MA4", "2026-11-25 08:05:00", "10.0.22631.4460", make_imei(2)),
        record(
            3, "9SM4NB5", "2026-11-22 10:00:00", "10.0.19045.5131", make_imei(3)
        ),  # Windows 10: too old
        record(
            4, "1TN5PC6", "2026-11-24 07:30:00", "10.0.26100.2314", make_imei(44)
        ),  # IMEI disagrees
        record(
            5, "5XS9TG1", "2026-11-10 12:00:00", "10.0.22621.1000", make_imei(8)
        ),  # stale record...
        record(
            6, "5XS9TG1", "2026-11-26 16:45:00", "10.0.26100.2314", make_imei(8)
        ),  # ...the current one
        record(7, "PF4A1B2C", "2026-11-26 11:20:00", "10.0.26100.2314", make_imei(11)),
        record(8, "HP5CD1234", "2026-11-26 11:20:00", "10.0.26100.2314", ""),  # not in any manifest
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(INTUNE_HEADER)
    writer.writerows(rows)
    (HERE / "DevicesWithInventory_2026-11-27.csv").write_text(
        buffer.getvalue(), encoding="utf-8", newline=""
    )


ENTRA_HEADER = [
    "displayName",
    "accountEnabled",
    "operatingSystem",
    "operatingSystemVersion",
    "joinType (trustType)",
    "registeredOwners",
    "userNames",
    "mdmDisplayName",
    "isCompliant",
    "registrationTime",
    "approximateLastSignInDateTime",
    "deviceId",
    "isManaged",
    "objectId",
    "profileType",
    "systemLabels",
    "model",
]


def entra_export() -> None:
    """Entra "Download devices" export: device ids resolve Intune's Azure AD Device ID to object ids."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ENTRA_HEADER)
    for n, serial in [
        (1, "7QK2LZ3"),
        (2, "8RL3MA4"),
        (3, "9SM4NB5"),
        (4, "1TN5PC6"),
        (6, "5XS9TG1"),
        (7, "PF4A1B2C"),
    ]:
        writer.writerow(
            [
                f"CONTOSO-{serial}",
                "True",
                "Windows",
                "10.0.26100.2314",
                "AzureAd",
                f"user{n}@contoso.com",
                f"user{n}@contoso.com",
                "Microsoft Intune",
                "True",
                "2026-11-21T09:12:44Z",
                "2026-11-26T16:45:00Z",
                f"a1f0c9d2-7e3b-4c8a-b5d6-{n:012d}",
                "True",
                f"5e2b8f10-93c4-4d7e-a2f1-{n:012d}",
                "RegisteredDevice",
                "",
                "Latitude 7450",
            ]
        )
    (HERE / "exportDevice_2026-11-27.csv").write_text(
        buffer.getvalue(), encoding="utf-8", newline=""
    )


def make_iccid(n: int, digits: int = 20) -> str:
    """89 (telecom) 01 (country) 260 (issuer) + individual number + the Luhn check digit."""
    individual = n * 2147483647 * 16807 % 10 ** (digits - 8)
    payload = f"8901260{individual:0{digits - 8}d}"
    return payload + iccid_rules.calc_check_digit(payload)


def bad_iccid(iccid: str) -> str:
    return iccid[:-1] + str((int(iccid[-1]) + 1) % 10)


SMDP = "smdp.contoso-mobile.example"


def answers_csv() -> None:
    """The operator portal's export of bulk order 77120: one line per EID, as it answers."""
    header = ["EID", "Status", "Reason", "ICCID", "SM-DP+ Address", "Order ID", "Timestamp"]
    when = "2026-12-01T09:30:00Z"
    lines = [
        (make_eid(2), "Success", "", make_iccid(2, 19) + "F"),  # 19 digits, F-padded
        (make_eid(3), "Installed", "", make_iccid(3)),
        (make_eid(4), "Error", "EID not registered with the SM-DP+", ""),
        (make_eid(6), "Success", "", bad_iccid(make_iccid(6))),  # a mistyped ICCID digit
        (make_eid(7), "Success", "", make_iccid(7)),
        (make_eid(7), "Success", "", make_iccid(7)),  # the same line twice
        (make_eid(8), "Rejected", "Duplicate order", ""),
        (make_eid(8), "Success", "", make_iccid(8)),  # ...and accepted: two answers
        (make_eid(1), "Success", "", make_iccid(1)),  # never handed off (held as a conflict)
        (bad_check(make_eid(5)), "Success", "", make_iccid(5)),  # not an EID eidflow sent
        ("8.90490E+31", "Success", "", make_iccid(9)),  # went through a number
        (make_eid(19), "Pending", "", ""),
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for eid, status, reason, iccid in lines:
        writer.writerow([eid, status, reason, iccid, SMDP if iccid else "", "77120", when])
    (HERE / "contoso-mobile-answers-2026-12-01.csv").write_text(
        buffer.getvalue(), encoding="utf-8", newline=""
    )


def answers_workbook() -> None:
    """The operator's errors workbook a day later: a title block, numbers where text belongs."""
    book = Workbook()
    sheet = book.active
    sheet.title = "Order 77120"
    sheet.append(["Contoso Mobile - bulk order 77120 - results"])
    sheet.append([])
    sheet.append(["eUICC ID", "Result", "Error Message", "ICCID", "Batch ID", "Processed At"])
    when = "2026-12-02 14:05:00"
    lines: list[tuple[object, str, str, object]] = [
        (make_eid(11), "Failed", "Profile type not available for this account", ""),
        (float(make_eid(12)), "Success", "", make_iccid(12)),  # the EID as a number cell
        (make_eid(3), "Failed", "Already bound", ""),  # yesterday it was installed
        (make_eid(13), "Cancelled", "Order cancelled by customer", ""),
        (make_eid(17), "Success", "", float(make_iccid(17))),  # the ICCID as a number cell
        (make_eid(19), "Released", "", make_iccid(19)),
        (make_eid(6), "Success", "", make_iccid(6)),  # the ICCID, right this time
    ]
    for eid, status, reason, iccid in lines:
        sheet.append([eid, status, reason, iccid, "77120-B", when])
    for row in sheet.iter_rows(min_row=4, min_col=1, max_col=4):
        for cell in row:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    book.save(HERE / "contoso-mobile-errors-2026-12-02.xlsx")


if __name__ == "__main__" and sys.argv[1:] == ["answers"]:
    answers_csv()
    answers_workbook()
elif __name__ == "__main__":
    answers_csv()
    answers_workbook()
    dell_workbook()
    lenovo_csv()
    intune_export()
    entra_export()
