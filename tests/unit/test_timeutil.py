"""Time in one rule: aware UTC in storage, events and JSON; Jakarta only for people."""

from datetime import UTC, datetime

import pytest
from marshmallow import Schema

from followup_service.domain.deadlines import breach_key
from shared.timeutil import JAKARTA, UtcDateTime, utc_iso


def test_utc_iso_writes_the_same_instant_in_utc():
    local = datetime(2026, 12, 15, 11, 42, tzinfo=JAKARTA)
    assert utc_iso(local) == "2026-12-15T04:42:00+00:00"
    assert datetime.fromisoformat(utc_iso(local)) == local


def test_value_error_when_a_time_is_naive():
    with pytest.raises(ValueError, match="naive"):
        utc_iso(datetime(2026, 12, 15, 11, 42))


def test_utc_field_serializes_any_offset_as_utc_and_keeps_input_offsets():
    class Out(Schema):
        at = UtcDateTime()

    assert Out().dump({"at": datetime(2026, 1, 1, 7, 0, tzinfo=JAKARTA)}) == {
        "at": "2026-01-01T00:00:00+00:00"
    }
    loaded = Out().load({"at": "2026-01-01T07:00:00+07:00"})["at"]
    assert loaded == datetime(2026, 1, 1, 0, 0, tzinfo=UTC)


def test_breach_key_is_the_same_for_one_instant_in_any_zone():
    due = datetime(2026, 2, 9, 9, 0, tzinfo=JAKARTA)
    assert breach_key("resolve", due) == breach_key("resolve", due.astimezone(UTC))
