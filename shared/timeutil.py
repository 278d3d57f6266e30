"""Time in one rule: aware UTC in storage, events and JSON; Asia/Jakarta only where a
person reads or types a time (pages, a meeting's wall-clock time without an offset).

PostgreSQL sessions run in UTC (shared.db), so timestamps read back are aware UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from marshmallow import fields

JAKARTA = ZoneInfo("Asia/Jakarta")


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """The same instant in UTC; a naive value is a bug upstream, never guessed."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: every stored or sent time carries its zone")
    return value.astimezone(UTC)


def utc_iso(value: datetime | None, timespec: str = "auto") -> str | None:
    """ISO 8601 in UTC with an explicit +00:00 offset (None stays None)."""
    return None if value is None else as_utc(value).isoformat(timespec=timespec)


class UtcDateTime(fields.AwareDateTime):
    """A marshmallow datetime that always serializes as UTC (input keeps any offset)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(None if value is None else as_utc(value), attr, obj, **kwargs)
