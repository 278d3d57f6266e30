"""Intake settings: INTAKE_* environment variables beat the shared ones beat defaults."""

from shared.config import Settings, sqlite_default


def load_settings(**overrides) -> Settings:
    return Settings.from_env("intake", sqlite_default("intake"), **overrides)
