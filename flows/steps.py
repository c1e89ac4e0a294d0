"""The pull step of prefect.yaml: each flow run works in its host's eidflow checkout.

Prefect resolves ``{{ $VAR }}`` in prefect.yaml when ``prefect deploy`` runs, so a path
taken from the deploying shell would be frozen into the deployment for every worker. This
step decides on the worker instead: ``$EIDFLOW_HOME`` if the worker's environment sets it,
otherwise the checkout this host's eidflow was installed from (``pip install -e .``).
"""

from __future__ import annotations

import os
from pathlib import Path

from eidflow.errors import ConfigError


def checkout() -> Path:
    """This host's eidflow checkout: ``$EIDFLOW_HOME``, or where ``flows`` is installed from."""
    home = os.environ.get("EIDFLOW_HOME", "").strip()
    folder = Path(home).expanduser() if home else Path(__file__).resolve().parents[1]
    if not (folder / "flows").is_dir():
        raise ConfigError(
            f"EIDFLOW_HOME={folder}: no eidflow checkout there (no flows/ folder).",
            todo="Set EIDFLOW_HOME in the worker's environment to the folder of its eidflow"
            " checkout, or unset it to use the checkout its venv was installed from.",
        )
    return folder


def work_in_checkout() -> dict[str, str]:
    """Prefect pull step: change to this host's checkout; returns it as ``directory``."""
    folder = checkout()
    os.chdir(folder)
    return {"directory": str(folder)}
