"""Session-wide fixtures: the real Kafka, PostgreSQL and Redis started by scripts/test.sh.

Tests that need a service fail (never skip) when it is missing; each test run gets
its own databases, topic prefix and Redis key prefix on the shared servers.
"""

from __future__ import annotations

import os
import uuid

import pytest
import redis as redis_lib
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from shared.auth import RevocationList
from shared.config import Settings

REQUIRED = ("DATABASE_ADMIN_URL", "KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL")


@pytest.fixture(scope="session")
def stack_env() -> dict[str, str]:
    missing = [name for name in REQUIRED if not os.environ.get(name)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} not set: run the suite with scripts/test.sh, which starts "
            "Kafka, PostgreSQL and Redis (or `eval $(deploy/stack.sh up)` first)."
        )
    return {name: os.environ[name] for name in REQUIRED}


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture(scope="session")
def admin_engine(stack_env):
    engine = create_engine(stack_env["DATABASE_ADMIN_URL"], isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def create_database(admin_engine, run_id):
    """Factory: a fresh, migrated PostgreSQL database per call, dropped at session end."""
    created: list[str] = []

    def create(service: str, template: str | None = None) -> str:
        name = f"t_{run_id}_{service}_{len(created)}"
        copy = f' TEMPLATE "{template}"' if template else ""
        with admin_engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        created.append(name)
        url = make_url(str(admin_engine.url)).set(database=name)
        return url.render_as_string(hide_password=False)

    yield create
    with admin_engine.connect() as conn:
        for name in created:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_client(stack_env):
    client = redis_lib.Redis.from_url(stack_env["REDIS_URL"])
    client.ping()
    return client


@pytest.fixture(scope="session")
def migrated_template(create_database):
    """Factory: the name of a database migrated to head for a service, made once a session.

    Test databases are copies of it (CREATE DATABASE ... TEMPLATE), so the migrations,
    and the regions table's 91,599 rows, are run and loaded once per service, not per test.
    """
    from shared.migrations import upgrade

    templates: dict[str, str] = {}

    def template(service: str) -> str:
        if service not in templates:
            url = create_database(f"{service}_template")
            service_dir = os.path.join(
                os.path.dirname(os.path.dirname(__file__)), f"{service}_service"
            )
            upgrade(service_dir, url)
            templates[service] = make_url(url).database
        return templates[service]

    return template


def _service_settings(
    service: str, create_database, stack_env, migrated_template, **overrides
) -> Settings:
    url = create_database(service, template=migrated_template(service))
    prefix = f"t{uuid.uuid4().hex[:10]}"
    values = {
        "service_name": service,
        "database_url": url,
        "kafka_bootstrap_servers": stack_env["KAFKA_BOOTSTRAP_SERVERS"],
        "redis_url": stack_env["REDIS_URL"],
        "topic_prefix": prefix,
        "redis_key_prefix": prefix,
    }
    settings = Settings(**{**values, **overrides})
    # What the follow-up service writes once it has published its (here: empty) record of
    # standings and revocations; without it every credential is refused with 503, as after
    # a Redis restart (tests/integration/test_credential_cache.py).
    client = redis_lib.Redis.from_url(settings.redis_url)
    RevocationList(client, settings.redis_key_prefix).mark_complete()
    client.close()
    return settings


@pytest.fixture
def make_settings(create_database, stack_env, migrated_template):
    """Factory: migrated settings for 'intake' or 'followup', isolated by topic/key prefix."""

    def make(service: str, **overrides) -> Settings:
        return _service_settings(
            service, create_database, stack_env, migrated_template, **overrides
        )

    return make
