"""Turns intake events from Kafka into case commands, inside the consumer's transaction."""

from __future__ import annotations

from sqlalchemy import Connection

from followup_service import projections
from followup_service.bootstrap import Followup
from shared.events.envelope import EventEnvelope, NewEvent


def case_stream_id(aspiration_id: str) -> str:
    return f"case-{aspiration_id}"


def make_intake_event_handler(followup: Followup):
    def open_case_for_recorded_aspiration(conn: Connection, event: EventEnvelope) -> None:
        if event.event_type != "AspirationRecorded":
            return
        p = event.payload
        stream = case_stream_id(p["aspiration_id"])
        if followup.store.stream_version(conn, stream) > 0:
            return  # already opened (the same aspiration delivered under a new event id)
        opened = NewEvent(
            "CaseOpened",
            {
                "case_id": stream,
                "aspiration_id": p["aspiration_id"],
                "tracking_code": p["tracking_code"],
                "category": p["category"],
                "kelurahan": p["kelurahan"],
                "summary": p["summary"],
            },
            occurred_at=event.occurred_at,
            actor="system:intake-consumer",
            correlation_id=event.correlation_id or event.event_id,
            causation_id=event.event_id,
        )
        for stored in followup.store.append(conn, stream, 0, [opened]):
            projections.apply(conn, stored)

    return open_case_for_recorded_aspiration
