"""Follow-up settings: FOLLOWUP_* environment variables beat the shared ones beat defaults."""

from shared.config import Settings, sqlite_default


def load_settings(**overrides) -> Settings:
    return Settings.from_env("followup", sqlite_default("followup"), **overrides)
