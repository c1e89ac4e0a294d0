"""Settings for the whole test suite."""

from hypothesis import HealthCheck, settings

# CI shares two cores with PostgreSQL, moto and Prefect: a slow example is not a failure.
settings.register_profile("eidflow", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("eidflow")
