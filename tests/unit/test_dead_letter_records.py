"""How a dead-lettered record reads: positions, reason headers, values that are not JSON."""

from datetime import UTC, datetime

import pytest

from shared.eventstore.dead_letters import (
    DeadLetter,
    describe_letter,
    describe_listing,
    parse_position,
    summary,
)


def letter(value: bytes, reason: bytes, error: bytes = b"EventSchemaError") -> DeadLetter:
    return DeadLetter(
        topic="kawal.intake.events.dead-letter",
        partition=1,
        offset=42,
        timestamp=datetime(2026, 2, 5, 2, 0, tzinfo=UTC),
        key=b"aspiration-1",
        value=value,
        headers=(
            ("dead_letter_reason", reason),
            ("dead_letter_error", error),
            ("original_topic", b"kawal.intake.events"),
        ),
    )


def test_positions_are_partition_colon_offset():
    assert parse_position("2:17") == (2, 17)
    for bad in ("2", "a:1", "1:-3", ":", "1:2:3"):
        with pytest.raises(ValueError, match="PARTITION:OFFSET"):
            parse_position(bad)


def test_a_schema_error_reads_as_its_event_and_field_messages():
    value = b'{"event_id": "e-1", "event_type": "AspirationRecorded", "schema_version": 4}'
    dead = letter(value, b'{"event_type": ["Unknown event type."]}')
    assert dead.event_type == "AspirationRecorded v4"
    assert dead.reason == '{"event_type": ["Unknown event type."]}'
    row = summary(dead, None)
    assert (row["position"], row["event_id"], row["status"]) == ("1:42", "e-1", "pending")
    listing = describe_listing([dead], {(1, 42): ("replayed", datetime.now(UTC))})
    assert "AspirationRecorded v4" in listing and "replayed" in listing


def test_a_value_that_is_not_json_is_shown_as_text_without_an_event():
    dead = letter(b"{not json", b'"Expecting property name: line 1 column 2"', b"JSONDecodeError")
    assert dead.event_type == "" and dead.envelope_fields == {}
    assert dead.reason == "Expecting property name: line 1 column 2"
    shown = describe_letter(dead, None)
    assert "status:    pending" in shown and shown.endswith("value:\n{not json")
    assert "original_topic: kawal.intake.events" in shown
