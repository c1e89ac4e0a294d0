"""Settings for the whole test suite."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# CI shares two cores with PostgreSQL, moto and Prefect: a slow example is not a failure.
# On CI (CI=true) the examples are the same every run, so that a red build is
# reproducible; locally they are random, to keep finding new cases.
settings.register_profile(
    "eidflow",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=bool(os.environ.get("CI")),
)
settings.load_profile("eidflow")


@pytest.fixture(autouse=True)
def user_data_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test its own per-user data folder (where the default ledger lives), for it and
    for the eidflow processes it starts: no test reads or writes the real one."""
    folder = tmp_path_factory.mktemp("xdg-data")
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder / "eidflow"
