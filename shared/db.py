"""Engine construction. PostgreSQL is the one engine: production, run.sh and the tests."""

from __future__ import annotations

import orjson
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url


class UnsupportedDatabase(ValueError):
    """The URL names an engine the services do not run on."""


def make_engine(url: str, **kwargs) -> Engine:
    backend = make_url(url).get_backend_name()
    if backend != "postgresql":
        raise UnsupportedDatabase(
            f"database URL {make_url(url).render_as_string()!r} is {backend}; the services run on "
            "PostgreSQL only (postgresql+psycopg://...): scripts/run.sh starts one"
        )
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 10)
    # Sessions in UTC: timestamps come back as aware UTC whatever the server's zone.
    connect_args = {"options": "-c timezone=UTC", **kwargs.pop("connect_args", {})}
    # JSON columns (event payloads, read models) through orjson: several times faster
    # than the standard library both ways, on every append, read and replay.
    kwargs.setdefault("json_serializer", _json_text)
    kwargs.setdefault("json_deserializer", orjson.loads)
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **kwargs)


def _json_text(value) -> str:
    return orjson.dumps(value).decode()
