"""Alembic glue: each service keeps its own migrations folder; this runs them."""

from __future__ import annotations

import logging
import os

from alembic import command
from alembic.config import Config


def alembic_config(service_dir: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(service_dir, "migrations"))
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(service_dir: str, database_url: str) -> None:
    """Bring a service's database to the newest schema."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    command.upgrade(alembic_config(service_dir, database_url), "head")


def run_env(metadata) -> None:
    """Body of a service's migrations/env.py (online mode only; we always have a DB)."""
    from alembic import context
    from sqlalchemy import engine_from_config, pool

    cfg = context.config
    connectable = engine_from_config(
        cfg.get_section(cfg.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
