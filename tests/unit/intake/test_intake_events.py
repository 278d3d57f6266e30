"""The intake wire contract: v1 stays readable, and no reporter field exists on the wire."""

from datetime import UTC, datetime

import pytest

import shared.events.intake  # noqa: F401 - registers the schemas
from shared.events import REGISTRY, EventEnvelope, EventSchemaError

V1 = {
    "aspiration_id": "7b0c8f2e-4a57-4b8e-9a55-3f0d2c1e9b10",
    "tracking_code": "KA-7GQ4-M2",
    "category": "street_lighting",
    "summary": "PJU mati",
    "description": "",
    "kelurahan": "Cikande",
}


def _envelope(event_type: str, version: int, payload: dict) -> EventEnvelope:
    now = datetime.now(UTC)
    return EventEnvelope(
        "3f1f7c3e-0000-4000-8000-000000000001", event_type, version, "s", 1, now, now, payload
    )


def test_v1_aspiration_recorded_is_upcast_to_the_latest_when_read():
    upcast = REGISTRY.upcast(_envelope("AspirationRecorded", 1, V1))
    assert upcast.schema_version == 6
    p = upcast.payload
    assert p["location"]["kelurahan"] == p["kelurahan"] == "Cikande"
    # "Cikande" alone names kelurahan in several kecamatan: kept, not verified
    assert (p["location"]["region_code"], p["location"]["verified"]) == (None, False)
    assert (p["meeting_id"], p["unit"], p["urgency"], p["confidential"]) == (
        None,
        None,
        "normal",
        False,
    )
    assert p["backing_count"] == 0 and p["public_summary"] == ""
    assert (p["channel"], p["channel_client"], p["attributes"]) == ("officer", None, {})
    assert p["photos"] == []  # v6: photo references (issue 25)


def test_new_aspirations_and_meetings_carry_unit_ids():
    assert REGISTRY.latest_version("AspirationRecorded") == 6
    assert REGISTRY.latest_version("MeetingRecorded") == 3


@pytest.mark.parametrize("spelling", ["Polsek Krangkeng", "polsek krangkeng", "POLSEK-Krangkeng"])
def test_stored_events_naming_a_unit_are_upcast_to_its_id(spelling):
    """Issue 15: events written with display names read back (and replay) as ids."""
    v2 = {
        **V1,
        "meeting_id": None,
        "location": {"kelurahan": "Cikande"},
        "unit": spelling,
    }
    assert REGISTRY.upcast(_envelope("AspirationRecorded", 2, v2)).payload["unit"] == (
        "polsek-krangkeng"
    )
    meeting = {
        "meeting_id": "0b7e7c1a-7d0f-4c39-9a3c-000000000001",
        "kind": "ngariung",
        "held_at": "2026-02-04T12:30:00+00:00",
        "unit": spelling,
        "place": {"kelurahan": "Krangkeng"},
        "host_officer": "Iptu Dedi",
    }
    upcast = REGISTRY.upcast(_envelope("MeetingRecorded", 1, meeting))
    assert (upcast.schema_version, upcast.payload["unit"]) == (3, "polsek-krangkeng")


@pytest.mark.parametrize(
    "event_type",
    ["MeetingRecorded", "AspirationRecorded", "AspirationBacked", "AspirationAmended",
     "AspirationWithdrawn"],
)  # fmt: skip
def test_no_reporter_field_exists_in_any_published_schema(event_type):
    schema = REGISTRY._schemas[(event_type, REGISTRY.latest_version(event_type))]
    names = set(schema.fields)
    for nested in schema.fields.values():
        inner = getattr(nested, "schema", None)
        names |= set(inner.fields) if inner is not None else set()
    assert not names & {"raised_by", "contact", "reporter", "name"}


def test_unknown_fields_are_refused_when_a_wire_event_carries_a_contact():
    payload = {**REGISTRY.upcast(_envelope("AspirationRecorded", 1, V1)).payload}
    payload["contact"] = "+62 812"
    with pytest.raises(EventSchemaError):
        REGISTRY.validate("AspirationRecorded", 2, payload)
