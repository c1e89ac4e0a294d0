"""The static group's plan: every wanted device, member and unresolved device in one verdict."""

from __future__ import annotations

import pandas as pd
import pytest

from eidflow.core.group_plan import counts, plan

A, B, C, F = "aaaa", "bbbb", "cccc", "ffff"


def handed(*lines: tuple[str, str, str, str]) -> pd.DataFrame:
    """(eid, operator, intune_state, entra_object_id) per claim."""
    return pd.DataFrame(
        [
            {
                "eid": e,
                "serial_number": f"S{e}",
                "operator": o,
                "intune_state": s,
                "entra_object_id": oid,
            }
            for e, o, s, oid in lines
        ]
    )


def verdicts(planned: pd.DataFrame) -> dict[str, tuple[str, str]]:
    return {
        (line["entra_object_id"] or line["eid"]): (line["verdict"], line["why"])
        for line in planned.to_dict("records")
    }


DEVICES = handed(
    ("e1", "op1", "enrolled", A),
    ("e2", "op1", "enrolled", B),
    ("e3", "op2", "enrolled", C),
    ("e4", "op1", "enrolled", ""),
    ("e5", "op1", "os_unsupported", ""),
    ("e6", "op1", "not_enrolled", "dddd"),
)


@pytest.mark.parametrize(
    ("members", "recorded", "flags", "expected"),
    [
        (
            {A},
            set(),
            {},
            {A: ("unchanged", "wanted"), B: ("add", "not_a_member"), C: ("add", "not_a_member")},
        ),
        ({A, C}, {B}, {}, {B: ("add", "removed_by_hand")}),
        ({A, B, C, F}, set(), {}, {F: ("kept", "foreign")}),
        ({A, B, C, F}, set(), {"prune": True}, {F: ("kept", "foreign")}),
        ({A, B, C, F}, set(), {"prune_foreign": True}, {F: ("remove", "foreign")}),
        ({A, B, C, "dddd"}, {"dddd"}, {}, {"dddd": ("kept", "no_longer_wanted")}),
        ({A, B, C, "dddd"}, {"dddd"}, {"prune": True}, {"dddd": ("remove", "no_longer_wanted")}),
        ({A, B, C}, set(), {"operator": "op1"}, {C: ("unchanged", "other_operator")}),
    ],
)
def test_each_line_gets_its_verdict(
    members: set[str],
    recorded: set[str],
    flags: dict[str, object],
    expected: dict[str, tuple[str, str]],
) -> None:
    found = verdicts(plan(DEVICES, members, recorded, **flags))  # type: ignore[arg-type]
    assert {key: found[key] for key in expected} == expected
    assert found["e4"] == ("unresolved", "no_entra_object_id")
    assert found["e5"] == ("unresolved", "os_unsupported")


def test_a_device_handed_to_two_operators_is_one_member() -> None:
    devices = handed(("e1", "op1", "enrolled", A), ("e1", "op2", "enrolled", A))
    planned = plan(devices, [], [])
    assert counts(planned) == {"add": 1, "remove": 0, "unchanged": 0, "kept": 0, "unresolved": 0}
    assert plan(devices, [], [], operator="op2")["operator"].tolist() == ["op2"]


def test_nothing_handed_off_and_an_empty_group_plan_nothing() -> None:
    planned = plan(handed(), [], [])
    assert planned.empty and list(planned.columns)[:2] == ["entra_object_id", "eid"]


def test_autopilot_registered_devices_are_wanted_before_they_enrol() -> None:
    devices = handed(
        ("e1", "op1", "autopilot_registered", A),
        ("e2", "op1", "autopilot_registered", ""),
        ("e3", "op1", "not_enrolled", ""),
    )
    assert verdicts(plan(devices, members=[], recorded=[])) == {
        A: ("add", "not_a_member"),
        "e2": ("unresolved", "no_entra_object_id"),
        "e3": ("unresolved", "not_enrolled"),
    }
    # Once it enrols under the same Entra object, nothing changes in the group.
    enrolled = handed(("e1", "op1", "enrolled", A))
    assert verdicts(plan(enrolled, members=[A], recorded=[A])) == {A: ("unchanged", "wanted")}


def test_a_retired_member_is_removed_without_prune_and_never_added() -> None:
    retired = pd.DataFrame(
        [
            {"eid": "r1", "serial_number": "SR1", "entra_object_id": "rrrr"},
            {"eid": "e2", "serial_number": "Se2", "entra_object_id": B},
        ]
    )
    planned = plan(DEVICES, {A, "rrrr"}, {A}, retired=retired)
    found = verdicts(planned)
    assert found["rrrr"] == ("remove", "retired")  # a member once ours, its claim given back
    assert B not in found  # retired, not a member: not added back
    assert found[A] == ("unchanged", "wanted")
