"""Intake settings: INTAKE_* environment variables beat the shared ones beat defaults."""

from shared.config import Settings, local_postgres_default


def load_settings(**overrides) -> Settings:
    return Settings.from_env("intake", local_postgres_default("intake"), **overrides)
