import uuid
from datetime import UTC, datetime

import pytest
from marshmallow import Schema, fields

from shared.events.envelope import EventEnvelope
from shared.events.registry import EventRegistry, EventSchemaError


def _registry() -> EventRegistry:
    registry = EventRegistry()

    @registry.event("ThingHappened", version=1)
    class V1(Schema):
        name = fields.String(required=True)

    @registry.event("ThingHappened", version=2)
    class V2(Schema):
        first_name = fields.String(required=True)
        last_name = fields.String(load_default="")

    @registry.upcaster("ThingHappened", from_version=1)
    def split_name(payload):
        first, _, last = payload.pop("name").partition(" ")
        return {**payload, "first_name": first, "last_name": last}

    return registry


def _envelope(version: int, payload: dict) -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope(str(uuid.uuid4()), "ThingHappened", version, "s", 1, now, now, payload)


def test_old_event_is_upcast_to_latest_version_when_read():
    upcast = _registry().upcast(_envelope(1, {"name": "Siti Aminah"}))
    assert upcast.schema_version == 2
    assert upcast.payload == {"first_name": "Siti", "last_name": "Aminah"}


def test_payload_rejected_with_field_messages_when_it_breaks_the_schema():
    with pytest.raises(EventSchemaError) as err:
        _registry().validate("ThingHappened", 2, {"last_name": "x"})
    assert "first_name" in err.value.messages


def test_unknown_event_type_is_an_error_when_validating():
    with pytest.raises(EventSchemaError):
        _registry().validate("Nope", 1, {})


def test_envelope_survives_the_wire_round_trip():
    env = _envelope(2, {"first_name": "a"})
    assert EventEnvelope.from_wire(env.to_wire()) == env


def test_garbage_bytes_are_rejected_when_decoding():
    with pytest.raises(ValueError):
        EventEnvelope.from_wire(b"\xff not json")
