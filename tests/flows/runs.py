"""Flow runs in the test harness, with the state they ended in checked."""

from __future__ import annotations

from typing import Any

from flows.runs import LeftUndone


def finished(flow: Any, parameters: Any, state: str = "Completed", says: str = "") -> Any:
    """Run ``flow``; check that it ended in ``state`` (with ``says`` in its message); return
    what it returned, which a Failed state also carries."""
    final = flow(parameters, return_state=True)
    assert final.name == state, f"{final.name}: {final.message}"
    assert says in (final.message or ""), final.message
    value = final.result(raise_on_failure=False)
    return value.outcome if isinstance(value, LeftUndone) else value
