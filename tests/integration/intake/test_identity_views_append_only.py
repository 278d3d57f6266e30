"""identity_views (who saw an informant) is append-only in PostgreSQL itself: a trigger
(migration f1a9c3e5b7d2) refuses UPDATE, DELETE and TRUNCATE; inserts still work, and
the migration's downgrade lifts the refusal."""

from __future__ import annotations

import os

import pytest
from alembic import command
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from intake_service.tables import identity_views
from shared.migrations import alembic_config

pytestmark = pytest.mark.integration

SERVICE_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "intake_service")
ROW = {"aspiration_id": "a" * 36, "viewer": "officer:budi", "unit": "polsek-360415",
       "via": "GET /api/v1/aspirations/<id>"}  # fmt: skip
REFUSED = {
    "update": lambda: identity_views.update().values(viewer="officer:nobody"),
    "delete": lambda: identity_views.delete(),
    "truncate": lambda: text("TRUNCATE identity_views"),
}


@pytest.fixture
def engine(make_settings):
    engine = create_engine(make_settings("intake").database_url)
    yield engine
    engine.dispose()


def _rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(identity_views.c.viewer)).scalars().all()


@pytest.mark.parametrize("statement", sorted(REFUSED))
def test_an_insert_is_kept_and_cannot_be_changed_or_removed(engine, statement):
    with engine.begin() as conn:
        conn.execute(identity_views.insert(), ROW)
    refused = pytest.raises(DBAPIError, match="identity_views is append-only")
    with refused, engine.begin() as conn:
        conn.execute(REFUSED[statement]())
    assert _rows(engine) == ["officer:budi"]


def test_the_downgrade_lifts_the_refusal(engine):
    with engine.begin() as conn:
        conn.execute(identity_views.insert(), ROW)
    config = alembic_config(SERVICE_DIR, engine.url.render_as_string(hide_password=False))
    command.downgrade(config, "e25a7f0c3b91")
    with engine.begin() as conn:
        conn.execute(identity_views.delete())
        assert conn.execute(select(func.count()).select_from(identity_views)).scalar_one() == 0
    command.upgrade(config, "head")
    with engine.begin() as conn:
        conn.execute(identity_views.insert(), ROW)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(identity_views.delete())
