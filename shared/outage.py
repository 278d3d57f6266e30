"""When a part underneath is away: which part, and the 503 a caller gets meanwhile.

A database restart or a Redis stall is not a bug, and a 500 would tell a phone's outbox
(or an orchestrator, or a resident) the wrong thing. Every error handler of both services
asks `unavailable_part(exc)`; when it names a part, the answer is 503 with Retry-After
(JSON for APIs, Open311's error list, a short page in the visitor's language for pages).
The processes that are not APIs use the same test to decide "wait and retry" over "crash".
"""

from __future__ import annotations

import psycopg
import redis.exceptions
import sqlalchemy.exc

RETRY_AFTER_SECONDS = 5
DATABASE, CACHE = "database", "redis"


class DependencyUnavailable(Exception):
    """Raised on purpose when a part is needed and cannot answer (e.g. the credential
    cache is not known to be complete: see shared.auth)."""

    def __init__(self, part: str, message: str):
        super().__init__(message)
        self.part = part


def _own_part(exc: BaseException) -> str | None:
    if isinstance(exc, DependencyUnavailable):
        return exc.part
    if isinstance(exc, redis.exceptions.ConnectionError | redis.exceptions.TimeoutError):
        return CACHE
    if isinstance(exc, psycopg.OperationalError):
        return DATABASE
    if isinstance(exc, sqlalchemy.exc.OperationalError | sqlalchemy.exc.TimeoutError):
        return DATABASE  # connection lost or refused, server starting or shutting down; pool full
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return DATABASE
    if isinstance(exc, sqlalchemy.exc.InterfaceError):
        return DATABASE  # "connection is closed" after the server went away
    return None


def unavailable_part(exc: BaseException | None) -> str | None:
    """The part (DATABASE or CACHE) whose absence caused `exc`, or None for a real error.
    Follows the exception's causes, so a wrapped driver error counts too."""
    seen = 0
    while exc is not None and seen < 10:
        part = _own_part(exc)
        if part:
            return part
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None
