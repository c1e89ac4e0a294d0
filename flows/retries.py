"""Retries for the tasks that do I/O: 3, after 2, 5 and 15 seconds; never for a user's mistake.

A bad setting or an unreadable input stays bad however often it is tried, so
``ConfigError`` and ``InputError`` fail at once; a network, S3, Graph or ledger hiccup is retried.
"""

from __future__ import annotations

from typing import Any

from eidflow.errors import ConfigError, InputError


def worth_retrying(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's ``retry_condition_fn``: the failed state's data is the exception."""
    error = getattr(state, "data", None)
    return not isinstance(error, ConfigError | InputError)


IO_RETRIES: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": [2, 5, 15],
    "retry_condition_fn": worth_retrying,
}
