"""Running ``eidflow`` as a user does: a real subprocess, without this shell's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def user_env(**extra: str) -> dict[str, str]:
    """The environment without ``EIDFLOW_*`` settings or a Prefect server, plus ``extra``."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PREFECT_API", "EIDFLOW_"))
    }
    return kept | extra


def eidflow(
    *args: str | Path, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``eidflow ARGS`` in ``cwd``, with ``env`` added to :func:`user_env`."""
    command = [sys.executable, "-m", "eidflow", *map(str, args)]
    return subprocess.run(
        command, cwd=cwd, env=user_env(**(env or {})), capture_output=True, text=True, timeout=120
    )
