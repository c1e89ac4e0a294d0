"""Settings for the whole test suite."""

import os

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
