"""The loud lines of ``eidflow intune status``: one per PC whose device reports another EID."""

from __future__ import annotations

from app.profile_status import ProfileRead, differs_lines


def test_the_first_twenty_are_named_then_counted() -> None:
    differs = [{"eid": f"E{n}", "serial_number": f"S{n}", "device_eid": f"D{n}"} for n in range(23)]
    lines = differs_lines([ProfileRead("contoso-mobile", "P", differs=differs)])
    assert len(lines) == 21
    assert lines[0] == (
        "EID DIFFERS: S0 was handed to contoso-mobile with EID E0 but the device reports D0:"
        " the operator holds a wrong EID for that PC"
    )
    assert lines[-1] == "EID DIFFERS: 3 more PC(s)"
    assert differs_lines([ProfileRead("contoso-mobile", "P")]) == []
